"""Throughput of the reference platform on one uvicorn worker, against a baseline measured in the same run.

The baseline is a bare Starlette app answering `{}` on the same uvicorn settings (uvloop, httptools),
so the ratio says what the platform's own work costs, whatever else this shared machine is doing.
wrk (Debian package `wrk`) generates the load from a second process, on loopback only, for a few
seconds per target.

    .venv/bin/python bench/bench_platform.py [--seconds 5] [--connections 64]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx

from sloguard.cli.launch import free_port, start_reference

BASELINE_APP = textwrap.dedent(
    """
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    async def ok(request):
        return Response(b'{}', media_type='application/json')
    app = Starlette(routes=[Route('/health', ok)])
    """
)


def wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def wrk(url: str, seconds: int, connections: int, header: str | None = None) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} non-2xx answers during the benchmark:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise SystemExit(f"could not read wrk output:\n{out}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench_platform needs wrk: apt-get install -y wrk")
    tmp = Path(tempfile.mkdtemp(prefix="sloguard-bench-"))
    (tmp / "baseline_app.py").write_text(BASELINE_APP)
    base_port = free_port()
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    baseline = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "baseline_app:app", "--host", "127.0.0.1", "--port", str(base_port),
         "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    platform = start_reference(tmp / "platform")
    plat_port = platform.port
    try:
        wait(f"http://127.0.0.1:{base_port}/health")
        token = httpx.post(f"http://127.0.0.1:{plat_port}/api/auth/token", auth=("sloguard-ci", "sloguard-ci-secret"),
                           data={"grant_type": "client_credentials"}).json()["access_token"]
        auth = f"Authorization: Bearer {token}"
        s, c = args.seconds, args.connections
        wrk(f"http://127.0.0.1:{plat_port}/health", 1, c)  # warm-up
        base = wrk(f"http://127.0.0.1:{base_port}/health", s, c)
        health = wrk(f"http://127.0.0.1:{plat_port}/health", s, c)
        listing = wrk(f"http://127.0.0.1:{plat_port}/api/slack/messages", s, c, auth)
        base_again = wrk(f"http://127.0.0.1:{base_port}/health", s, c)
        baseline_rps = (base + base_again) / 2
        print(f"wrk -t1 -c{c} -d{s}s, one uvicorn worker each, loopback")
        print(f"baseline (bare Starlette GET)      {baseline_rps:8.0f} req/s   1.00x")
        print(f"platform GET /health               {health:8.0f} req/s   {health / baseline_rps:.2f}x   goal >= 3000")
        print(f"platform GET /api/slack/messages   {listing:8.0f} req/s   {listing / baseline_rps:.2f}x   goal >= 1500"
              " (JWT, rate limit, SQLite page of 20)")
    finally:
        baseline.terminate()
        baseline.wait(timeout=10)
        platform.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
