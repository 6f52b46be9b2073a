"""Wall time of `sloguard report` on a full synthetic run's Allure results, against the bare
`npx allure generate` of the same folder, measured in the same run.

1. a full `sloguard check synthetics` against the reference platform with a few faults injected
   (so the report has failures to sort), kept as the input of every measurement;
2. baseline: `npx allure generate RESULTS -o OUT` — Allure's defaults (multi-file, no history);
3. `sloguard report` (one index.html, categories, environment, history, offline check, SLO page),
   with an empty history and with a full one (20 earlier runs of the same size);
4. `sloguard report --multi-file` (Allure's layout, plus what sloguard adds).

Each is the best of --repeat runs, alternated so drift hits all alike.

    .venv/bin/python bench/bench_report.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sloguard.cli.launch import start_reference

REPO = Path(__file__).resolve().parent.parent
FAULTS = ["open_endpoint=github_list_issues", "latency_ms=jira:700", "integration_down=slack", "schema_drift=stripe"]


def timed(cmd: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {(done.stdout + done.stderr)[-2000:]}")
    return elapsed


def fill_history(history: Path, runs: int) -> int:
    """``runs`` earlier entries: copies of the latest one under new ids (same tests, same size)."""
    last = history.read_text().splitlines()[-1]
    entry = json.loads(last)
    lines = []
    for i in range(runs):
        entry["uuid"] = str(uuid.uuid4())
        entry["timestamp"] = int(entry["timestamp"]) - (runs - i) * 3_600_000
        lines.append(json.dumps(entry))
    history.write_text("\n".join(lines) + "\n")
    return history.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    npx = shutil.which("npx")
    if npx is None or not (REPO / "node_modules" / "allure").is_dir():
        raise SystemExit("needs Node.js and the pinned allure package: run `make setup`")

    tmp = Path(tempfile.mkdtemp(prefix="sloguard-bench-report-"))
    try:
        server = start_reference(tmp / "platform", FAULTS)
        try:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "sloguard", "check", "synthetics", "--target", server.base_url],
                           cwd=tmp, capture_output=True, check=False)
            run_s = time.perf_counter() - started
        finally:
            server.stop()
        results = tmp / "reports" / "allure-results"
        files = sum(1 for _ in results.iterdir())
        tests = sum(1 for _ in results.glob("*-result.json"))
        history = tmp / "reports" / "history" / "allure-history.jsonl"
        sloguard = [sys.executable, "-m", "sloguard", "report"]
        bare: list[float] = []
        empty: list[float] = []
        full: list[float] = []
        multi: list[float] = []
        size = 0
        single_mb = 0.0
        for _ in range(args.repeat):
            bare.append(timed([npx, "--no-install", "allure", "generate", str(results), "-o", str(tmp / "bare")],
                              REPO))
            shutil.rmtree(history.parent, ignore_errors=True)
            empty.append(timed(sloguard, tmp))
            single_mb = (tmp / "reports" / "html" / "index.html").stat().st_size / 1e6
            size = fill_history(history, 20)
            full.append(timed(sloguard, tmp))
            shutil.rmtree(history.parent, ignore_errors=True)
            multi.append(timed([*sloguard, "--multi-file"], tmp))
        base = min(bare)
        print(f"input: a full synthetic run ({tests} results, {files} files in allure-results, run took {run_s:.1f} s)")
        print(f"npx allure generate (baseline, multi-file)    {base:6.2f} s   1.00x")
        print(f"sloguard report (single file, no history)     {min(empty):6.2f} s   {min(empty) / base:.2f}x")
        print(f"sloguard report (single file, 20-run history) {min(full):6.2f} s   {min(full) / base:.2f}x"
              f"   history file {size / 1e6:.1f} MB")
        print(f"sloguard report --multi-file (no history)     {min(multi):6.2f} s   {min(multi) / base:.2f}x")
        node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"single-file report: {single_mb:.1f} MB; best of {args.repeat}, "
              f"Python {sys.version.split()[0]}, node {node}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
