"""Load generator benchmarks: throughput against bare Locust and wrk, 10,000 users, and accuracy.

    .venv/bin/python bench/bench_load.py [throughput] [scale] [accuracy] [--seconds 10]

throughput: one sloguard generator process (the full path: mix, login hook, HDR recorder, lag
  probe, controller, live output) against bare Locust FastHttpUser doing the same GET in the same
  run, and wrk as the hardware ceiling; each pinned to CPU 0, the target (a bare Starlette app that
  counts what it serves) pinned to CPU 1; requests/s read from the target's counter over the same
  steady-state window.
scale: 10,000 users (5-15 s think time) against the reference platform with two local workers;
  total generator memory (master + workers, peak RSS) and the run's self-validation; then how many
  users one worker holds while it stays valid.
accuracy: percentiles of the HDR tallies against every raw latency recorded in a side list, in a
  real run; and measured p50/p95 against latency injected on the platform (one list operation, so
  the figures measure the generator, not the platform's own variance).
Needs wrk (Debian package `wrk`). Loopback only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from bench_platform import wait

from sloguard.cli.launch import free_port, start_reference

COUNTING_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    served = 0
    async def health(request):
        global served
        served += 1
        return Response(b'{"status":"ok"}', media_type='application/json')
    async def count(request):
        return Response(str(served).encode(), media_type='text/plain')
    app = Starlette(routes=[Route('/health', health), Route('/count', count)])
    """
)
SPEC = {
    "openapi": "3.0.3", "info": {"title": "bench", "version": "1"},
    "paths": {"/health": {"get": {"operationId": "health", "tags": ["platform"], "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}},
}
BARE_LOCUSTFILE = textwrap.dedent(
    """
    from locust import FastHttpUser, constant, task
    class Bare(FastHttpUser):
        wait_time = constant(0)
        @task
        def get(self):
            self.client.get("/health")
    """
)
USERS = 64
ROUNDS = 3


def _pin(cpu: int) -> Any:
    return lambda: os.sched_setaffinity(0, {cpu})


def _served(base: str) -> int:
    return int(httpx.get(f"{base}/count", timeout=5).text)


def _cpu_s(proc: psutil.Process) -> float:
    """CPU seconds of the generator: the process, or the load process `sloguard load` starts."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def _window(base: str, proc: subprocess.Popen[bytes], warm_s: float, seconds: float) -> tuple[float, float]:
    """(requests/s, requests per CPU-second of the generator) over a steady-state window. The second is
    what the generator's own code costs, whatever share of the core this shared machine gives it."""
    time.sleep(warm_s)
    if proc.poll() is not None:
        raise SystemExit(f"generator exited early ({proc.returncode})")
    ps = psutil.Process(proc.pid)
    c0, t0, cpu0 = _served(base), time.monotonic(), _cpu_s(ps)
    time.sleep(seconds)
    c1, t1, cpu1 = _served(base), time.monotonic(), _cpu_s(ps)
    return (c1 - c0) / (t1 - t0), (c1 - c0) / max(1e-6, cpu1 - cpu0)


def throughput(tmp: Path, seconds: float) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    gen_cpu, target_cpu = cpus[0], cpus[-1]
    (tmp / "counting_app.py").write_text(COUNTING_APP)
    (tmp / "bare.py").write_text(BARE_LOCUSTFILE)
    (tmp / "openapi.json").write_text(json.dumps(SPEC))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    (tmp / "sloguard.yaml").write_text(yaml.safe_dump({
        # labelled: an unlabelled localhost target that is not the reference platform counts as production
        "target": {"base_url": base, "openapi": f"file:{tmp / 'openapi.json'}", "environment": "staging"},
        "load": {"metrics": {"path": None}, "mix": {"operations": {"health": 1}},
                 "profiles": {"smoke": {"think_time_s": [0, 0], "login": "none", "spawn_rate": 1000}}}}))
    target = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "counting_app:app", "--host", "127.0.0.1", "--port", str(port), "--loop",
         "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        env={**os.environ, "PYTHONPATH": str(tmp)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_pin(target_cpu))
    results: dict[str, list[tuple[float, float]]] = {"wrk": [], "bare": [], "sloguard": []}
    try:
        wait(f"{base}/health")
        warm_s = 8.0  # start-up (imports, config, catalog), spawn and settle are over by then
        run_s = warm_s + seconds + 4
        for _ in range(ROUNDS):  # interleaved, so drift on this shared machine hits all three alike
            out = subprocess.Popen(["wrk", "-t1", f"-c{USERS}", f"-d{int(seconds) + 2}s", f"{base}/health"],
                                   stdout=subprocess.DEVNULL, preexec_fn=_pin(gen_cpu))
            results["wrk"].append(_window(base, out, 1.0, seconds))
            out.wait(timeout=60)
            bare = subprocess.Popen([sys.executable, "-m", "locust", "-f", str(tmp / "bare.py"), "--headless", "-u",
                                     str(USERS), "-r", "1000", "-t", f"{int(run_s)}s", "--host", base,
                                     "--only-summary", "--loglevel", "WARNING"], cwd=tmp, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, preexec_fn=_pin(gen_cpu))
            results["bare"].append(_window(base, bare, warm_s, seconds))
            bare.wait(timeout=60)
            ours = subprocess.Popen([sys.executable, "-m", "sloguard", "load", "--profile", "smoke", "--users",
                                     str(USERS), "--duration", f"{int(run_s)}s",
                                     "--config", str(tmp / "sloguard.yaml")],
                                    cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    preexec_fn=_pin(gen_cpu))
            results["sloguard"].append(_window(base, ours, warm_s, seconds))
            ours.kill()
            ours.wait(timeout=60)
    finally:
        target.terminate()
        target.wait(timeout=10)
    def mean(name: str, i: int) -> float:
        return statistics.median(r[i] for r in results[name])

    w, b, s = mean("wrk", 0), mean("bare", 0), mean("sloguard", 0)
    wc, bc, sc = mean("wrk", 1), mean("bare", 1), mean("sloguard", 1)
    paired = [(o[0] / r[0], o[1] / r[1]) for o, r in zip(results["sloguard"], results["bare"], strict=True)]
    print(f"one process each on CPU {gen_cpu}, target (bare Starlette, counts what it serves) on CPU {target_cpu}, "
          f"{USERS} connections/users, {seconds:g} s windows, {ROUNDS} rounds interleaved (medians); load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{'':38}{'req/s':>8}  {'of wrk':>7}  {'of bare':>7}   {'req/CPU-s':>9}  {'of bare':>7}")
    print(f"{'wrk -t1 (hardware ceiling)':38}{w:8.0f}  {1:7.2f}  {w / b:7.2f}   {wc:9.0f}  {wc / bc:7.2f}")
    print(f"{'bare Locust FastHttpUser GET':38}{b:8.0f}  {b / w:7.2f}  {1:7.2f}   {bc:9.0f}  {1:7.2f}")
    print(f"{'sloguard generator, same GET':38}{s:8.0f}  {s / w:7.2f}  {s / b:7.2f}   {sc:9.0f}  {sc / bc:7.2f}"
          "   goal >= 0.85 of bare")
    print("sloguard / bare per round (req/s, req/CPU-s): " + ", ".join(f"{a:.2f} / {c:.2f}" for a, c in paired))


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def _run_watched(cmd: list[str], cwd: Path, timeout_s: float) -> tuple[int, int]:
    """(exit code, peak RSS of the process tree in bytes)."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(proc.pid)
    peak = 0
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None:
        peak = max(peak, _tree_rss(root))
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"{' '.join(cmd)} did not finish in {timeout_s:.0f} s")
        time.sleep(0.5)
    return proc.returncode, peak


def _step_line(step: dict[str, Any]) -> str:
    g = step["generator"] or {}
    return (f"{step['users']:>6,} users {step['throughput_rps']:7.0f} req/s  p95 {step['p95_ms'] or 0:7.1f} ms  "
            f"errors {step['error_rate'] or 0:.2%}  generator CPU {g.get('cpu_demand_percent', 0):.0f}% "
            f"(waited {g.get('cpu_wait_percent', 0):.0f}%)  lag p95 {g.get('loop_lag_p95_ms') or 0:.0f} ms  "
            f"{step['status']}{' — ' + step['reason'] if step['reason'] else ''}")


def scale(tmp: Path, hold_s: float) -> None:
    platform = start_reference(tmp / "platform")
    try:
        cfg = tmp / "scale.yaml"
        cfg.write_text(yaml.safe_dump({"target": {"base_url": platform.base_url},
                                       "load": {"profiles": {"capacity": {"spawn_rate": 250}}}}))
        folder = tmp / "scale"
        folder.mkdir()
        code, peak = _run_watched([sys.executable, "-m", "sloguard", "load", "--profile", "capacity", "--users",
                                   "10000", "--duration", f"{int(hold_s)}s", "--workers", "2", "--config", str(cfg)],
                                  folder, 600)
        report = json.loads((folder / "reports" / "load" / "capacity.json").read_text())
        [step] = report["steps"]
        print(f"10,000 users (think 5-15 s), 2 local workers + master, reference platform (1 uvicorn worker) on the "
              f"same 2 CPUs, {hold_s:g} s hold: exit {code}")
        print(f"  total generator memory (peak RSS, master + workers): {peak / 2**30:.2f} GiB   goal < 1.5 GiB")
        print(f"  {_step_line(step)}")
        for users in (2500, 5000):
            folder = tmp / f"one-{users}"
            folder.mkdir()
            code, peak = _run_watched([sys.executable, "-m", "sloguard", "load", "--profile", "capacity", "--users",
                                       str(users), "--duration", f"{int(hold_s)}s", "--config", str(cfg)], folder, 600)
            [step] = json.loads((folder / "reports" / "load" / "capacity.json").read_text())["steps"]
            print(f"  one worker: {_step_line(step)}  RSS {peak / 2**20:.0f} MiB")
    finally:
        platform.stop()


ACCURACY_CHILD = textwrap.dedent(
    """
    import locust, json, math, sys
    from sloguard.config import load_config
    from sloguard.load import plan as plans, run
    from sloguard.load.tallies import StepTally
    raw = []
    def side(response_time, response=None, **_):
        if getattr(response, "status_code", 0):
            raw.append(response_time)
    locust.events.request.add_listener(side)
    # One cheap read, so the figures measure the generator and not the platform's own variance.
    config = load_config(None, overrides={"target": {"base_url": sys.argv[1]}, "load": {
        "mix": {"operations": {"slack_list_messages": 1, "*": 0}},
        "profiles": {"smoke": {"login": "client_credentials"}}}})
    plan = plans.resolve(config, "smoke", users=int(sys.argv[2]), duration_s=float(sys.argv[3]))
    outcome = run.run_controller(config, plan, run.RunOptions(live=False))
    merged = StepTally.merged(t for d in outcome.controller.aggregator.phases.values() for _, _, t in d.scopes.values())
    hold = outcome.steps[0].overall
    raw.sort()
    def exact(p):
        return raw[max(0, math.ceil(len(raw) * p / 100) - 1)]
    print(json.dumps({"n": len(raw), "tallied": merged.latency.count,
                      "pairs": [(p, exact(p), merged.percentile(p)) for p in (50, 90, 95, 99, 99.9)],
                      "hold_p50": hold.percentile(50), "hold_p95": hold.percentile(95)}))
    """
)


def accuracy(tmp: Path, seconds: float) -> None:
    (tmp / "accuracy_child.py").write_text(ACCURACY_CHILD)

    def child(base_url: str, users: int) -> dict[str, Any]:
        out = subprocess.run([sys.executable, str(tmp / "accuracy_child.py"), base_url, str(users), str(seconds)],
                             cwd=tmp, capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            raise SystemExit(out.stderr[-2000:])
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))

    platform = start_reference(tmp / "accuracy")
    try:
        data = child(platform.base_url, 30)
        worst = max(abs(hdr - exact) / exact for _, exact, hdr in data["pairs"])
        print(f"HDR tallies against {data['n']:,} raw latencies (side list), real run, {data['tallied']:,} tallied:")
        for p, exact, hdr in data["pairs"]:
            print(f"  p{p:<5g} raw {exact:9.3f} ms   HDR {hdr:9.3f} ms   {100 * (hdr - exact) / exact:+.3f}%")
        print(f"  worst {100 * worst:.3f}%   goal within 1%")
    finally:
        platform.stop()
    for injected in (200, 500):
        slow = start_reference(tmp / f"latency{injected}", [f"latency_ms={injected}"])
        try:
            data = child(slow.base_url, 20)
            p50, p95 = data["hold_p50"], data["hold_p95"]
            print(f"latency_ms={injected} injected: p50 {p50:.1f} ms ({100 * (p50 - injected) / injected:+.1f}%), "
                  f"p95 {p95:.1f} ms ({100 * (p95 - injected) / injected:+.1f}%)   goal within 5%")
        finally:
            slow.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", default=["throughput", "scale", "accuracy"])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench_load needs wrk: apt-get install -y wrk")
    tmp = Path(tempfile.mkdtemp(prefix="sloguard-bench-load-"))
    try:
        for part in args.parts:
            print(f"\n-- {part}", flush=True)
            {"throughput": throughput, "scale": scale, "accuracy": accuracy}[part](
                tmp, args.seconds * (6 if part == "scale" else 1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    threading.stack_size(0)
    main()
