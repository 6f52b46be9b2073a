"""Benchmark: a contract run over every operation of the reference platform, against bare Schemathesis.

Baseline in the same run: `schemathesis run` (the CLI, a subprocess) with the same settings — phases
examples, coverage and fuzzing, 10 examples, the same checks, seed, workers, exclusions and
schemathesis.toml — against the same platform. Then `sloguard check contracts` (a subprocess too, so
both pay interpreter start-up and description loading) with 1 and 2 workers, as operations per minute.
Goal: sloguard with 1 worker (the default) at most 1.2x the baseline.

Last: a time-budgeted run against a generated description of 1,000+ operations (bench_catalog's
generator, served against the reference platform) must finish inside its budget.

Run: .venv/bin/python bench/bench_contracts.py [--write-docs] [--quick] (about 15 minutes; --quick: the
Slack, Jira and Health operations only, about 1 minute).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._docs import parser, show, write_section  # noqa: E402
from bench.bench_catalog import make_description  # noqa: E402
from sloguard.cli.launch import start_reference  # noqa: E402
from sloguard.config.contracts import CHECKS  # noqa: E402

SECTION = "## Contracts: a full contract run against bare Schemathesis"
BIN = Path(sys.executable).parent
SEED, EXAMPLES, PHASES = 7, 10, "examples,coverage,fuzzing"


def token(base_url: str) -> str:
    resp = httpx.post(f"{base_url}/api/auth/token", auth=("sloguard-ci", "sloguard-ci-secret"),
                      data={"grant_type": "client_credentials", "scope": "read write"}, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def bare(base_url: str, workers: int, quick: bool, out: Path) -> float:
    checks = ",".join(c for c in CHECKS if c != "max_response_time")
    cmd = [str(BIN / "st"), "--config-file", str(REPO / "contracts" / "schemathesis.toml"), "--no-color", "run",
           f"{base_url}/api/v1/openapi.json", "-H", f"Authorization: Bearer {token(base_url)}",
           "--exclude-tag", "Admin", "-n", str(EXAMPLES), "--seed", str(SEED), "--phases", PHASES,
           "--max-response-time", "0.5", "-c", checks, "-w", str(workers), "--generation-database", "none"]
    if quick:
        cmd += ["--include-tag", "Slack", "--include-tag", "Jira", "--include-tag", "Health"]
    t = time.perf_counter()
    subprocess.run(cmd, cwd=out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t


PYTEST_MODULE = """
import os
import schemathesis

schema = schemathesis.openapi.from_url(os.environ["BENCH_URL"] + "/api/v1/openapi.json")
schema = schema.include(tag=os.environ["BENCH_TAGS"].split(",")) if os.environ["BENCH_TAGS"] else \\
    schema.exclude(tag="Admin")
HEADERS = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}


@schema.parametrize()
def test_api(case):
    case.call_and_validate(headers=HEADERS)
"""


def pytest_integration(base_url: str, quick: bool, out: Path) -> float:
    """The same settings through Schemathesis' pytest integration (`schema.parametrize()`)."""
    folder = out / "pytest-layer"
    folder.mkdir(exist_ok=True)
    (folder / "test_contract.py").write_text(PYTEST_MODULE)
    # contracts/schemathesis.toml's one setting (stateful max-steps) does not matter: stateful is off here.
    (folder / "schemathesis.toml").write_text(
        f"seed = {SEED}\n[generation]\nmax-examples = {EXAMPLES}\ndatabase = \"none\"\n"
        "[phases.stateful]\nenabled = false\n[checks]\nmax_response_time = 0.5\n")
    env = {**os.environ, "BENCH_URL": base_url, "BENCH_TOKEN": token(base_url),
           "BENCH_TAGS": "Slack,Jira,Health" if quick else ""}
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                    "test_contract.py"], cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - t


def sloguard(base_url: str, workers: int, out: Path, *, config_text: str | None = None) -> tuple[float, dict]:
    config = out / "sloguard.yaml"
    config.write_text(config_text or f"target:\n  base_url: {base_url}\nreports:\n  dir: {out / 'reports'}\n")
    cmd = [str(BIN / "sloguard"), "check", "contracts", "-c", str(config), "--seed", str(SEED),
           "--max-examples", str(EXAMPLES), "--phases", PHASES, "--workers", str(workers), "--json"]
    t = time.perf_counter()
    done = subprocess.run(cmd, cwd=out, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    try:
        return elapsed, json.loads(done.stdout)
    except ValueError:
        raise SystemExit(f"sloguard failed ({done.returncode}): {done.stderr[-2000:]}") from None


def run(quick: bool, layers: bool = False) -> str:
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-contracts-") as tmp:
        root = Path(tmp)
        ref = start_reference(root / "platform")
        try:
            config = None
            if quick:
                config = (f"target:\n  base_url: {ref.base_url}\nreports:\n  dir: {root / 'reports'}\n"
                          "catalog:\n  include: ['slack_*', 'jira_*', 'get_*health*']\n")
            base_s = bare(ref.base_url, 1, quick, root)
            one_s, doc = sloguard(ref.base_url, 1, root, config_text=config)
            two_s, doc2 = sloguard(ref.base_url, 2, root, config_text=config)
            ops = doc["contracts"]["operations"]["reached"]
            layer_s = pytest_integration(ref.base_url, quick, root) if layers else None
            scope = ("the Slack, Jira and Health operations" if quick
                     else "every one of the reference platform but the Admin tag")
            lines += [
                f"operations: {ops} ({scope}); phases {PHASES}, {EXAMPLES} examples, seed {SEED}",
                f"bare `schemathesis run` -w 1 : {base_s:7.1f} s   {ops / base_s * 60:6.0f} operations/min  (baseline)",
                f"sloguard check contracts, 1 worker : {one_s:7.1f} s   {ops / one_s * 60:6.0f} operations/min"
                f"  {one_s / base_s:.2f}x the baseline (goal <= 1.20x)",
                f"sloguard check contracts, 2 workers: {two_s:7.1f} s   "
                f"{doc2['contracts']['operations']['reached'] / two_s * 60:6.0f} operations/min  "
                f"{two_s / base_s:.2f}x the baseline",
                *([f"Schemathesis' pytest integration   : {layer_s:7.1f} s   {ops / layer_s * 60:6.0f} "
                   f"operations/min  {layer_s / base_s:.2f}x the baseline"] if layer_s is not None else []),
                f"verdicts: 1 worker {doc['verdict']} ({doc['checks']['failed']} failed), "
                f"2 workers {doc2['verdict']} ({doc2['checks']['failed']} failed)",
            ]
            print("\n".join(lines), flush=True)
            # A 1,000+ operation description, budgeted.
            large = make_description(integrations=34, resources=5, fields=8)
            spec = root / "large.json"
            spec.write_text(json.dumps(large))
            n_ops = sum(len([m for m in item if m != "parameters"]) for item in large["paths"].values())
            budget = 60 if quick else 120
            large_out = root / "large"
            large_out.mkdir()
            text = (f"target:\n  base_url: {ref.base_url}\n  openapi: file:{spec}\n"
                    f"reports:\n  dir: {large_out / 'reports'}\n"
                    "catalog:\n  integration_from: path\n")
            t = time.perf_counter()
            cmd = [str(BIN / "sloguard"), "check", "contracts", "-c", str(large_out / "s.yaml"), "--budget",
                   f"{budget}s", "--seed", str(SEED), "--json"]
            (large_out / "s.yaml").write_text(text)
            done = subprocess.run(cmd, cwd=large_out, capture_output=True, text=True, check=False)
            large_s = time.perf_counter() - t
            try:
                ldoc = json.loads(done.stdout)
            except ValueError:
                raise SystemExit(f"large run failed: {done.stderr[-2000:]}") from None
            rounds = ", ".join(f"round {r['round']}: {r['operations']} operations in {r['duration_s']:.0f} s "
                               f"({r['stop_reason']})" for r in ldoc["contracts"]["rounds"])
            lines.append(f"generated description: {n_ops} operations, --budget {budget}s: finished in "
                         f"{large_s:.1f} s ({'inside' if large_s <= budget else 'OVER'} the budget); {rounds}")
        finally:
            ref.stop()
    lines.append(f"machine: Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
                 "platform and runner on the same machine")
    return "\n".join(lines)


def write_docs(figures: str) -> None:
    write_section(SECTION, (
        "Reproduce: `.venv/bin/python bench/bench_contracts.py --write-docs` (about 15 "
        "minutes; `--quick` runs three integrations in about a minute).\n\n"
        f"```\n{figures}\n```\n\n"
        "The default is 1 worker: 2 are faster but crashed inside Hypothesis on Python 3.11 "
        "(docs/contracts.md). `--quick --layers` also "
        "times Schemathesis' pytest integration with the same settings; docs/contracts.md says why the "
        "in-process engine was chosen.\n"))


def main() -> None:
    options = parser(__doc__)
    options.add_argument("--quick", action="store_true", help="three integrations only (about a minute)")
    options.add_argument("--layers", action="store_true",
                         help="also time Schemathesis' pytest integration with the same settings")
    args = options.parse_args()
    show(run(args.quick, args.layers), args.write_docs, write_docs)


if __name__ == "__main__":
    main()
