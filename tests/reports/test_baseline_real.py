"""The baseline comparison on real runs: the synthetic suite against the reference platform, healthy
three times, then with 300 ms of injected latency on github, all on the same address (one target)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sloguard.cli.launch import free_port, start_reference
from sloguard.history import RunHistory
from sloguard.reports.baseline import BaselinePolicy, check_baseline
from sloguard.severity import Rule, Severity

# serial: its verdicts depend on the machine's headroom (latency objectives, CPU, arrival rates)
pytestmark = [pytest.mark.slow, pytest.mark.serial]


def run_checks(workdir: Path, port: int, *faults: str) -> dict[str, Any]:
    platform = start_reference(workdir / f"platform-{len(list(workdir.glob('platform-*')))}", faults, port=port)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "sloguard", "check", "synthetics", "--target", platform.base_url, "-k", "github"],
            cwd=workdir, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        assert done.returncode in (0, 1), done.stdout[-2000:] + done.stderr[-2000:]
    finally:
        platform.stop()
    return json.loads((workdir / "reports" / "summary.json").read_text())


def test_injected_latency_is_a_regression_against_real_history(tmp_path: Path) -> None:
    db = tmp_path / "reports" / "history.sqlite3"
    port = free_port()
    policy = BaselinePolicy(min_runs=2)  # two earlier runs are enough here; the default is 3
    for _ in range(2):
        assert check_baseline(run_checks(tmp_path, port), db, policy=policy) == []
    # a third healthy run is compared with the first two: nothing to say
    assert check_baseline(run_checks(tmp_path, port), db, policy=policy) == []

    slow = run_checks(tmp_path, port, "latency_ms=github:300")
    github_p95 = next(s for s in slow["integration_slos"]["github"] if s["name"] == "latency_p95_ms")
    assert github_p95["measured"] >= 300

    # one integration slower: a P1 (the run's platform-wide p95 has too few samples for a P0)
    alerts = check_baseline(slow, db, policy=policy, record=False)
    assert [(a.rule, a.severity, a.scope) for a in alerts] == [
        (Rule.RESPONSE_TIME_REGRESSION, Severity.P1, "integration:github")]
    assert "above baseline" in alerts[0].summary

    # with the platform-wide sample floor lowered, the same run is the whole (github-only) platform
    # twice as slow: one P0 that lists the slower integration
    loose = BaselinePolicy(min_runs=2, min_samples_platform=20)
    drop = check_baseline(slow, db, policy=loose)
    assert [(a.rule, a.severity, a.scope) for a in drop] == [(Rule.PERFORMANCE_DROP, Severity.P0, "platform")]
    assert any(d.startswith("[github]") for d in drop[0].details)
    assert RunHistory(db).count() == 4
