"""Load results in the engine's results model: aggregates per step and scope, one check per step,
through the same summary as every other suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sloguard.config import load_config
from sloguard.load import records
from sloguard.load.gate import judge

from .test_analysis import LIMITS, _measure, _plan, _slo


def _steps(*latencies: float) -> list:  # type: ignore[type-arg]
    plan = _plan(*(100 * (i + 1) for i in range(len(latencies))), in_range=10_000)
    return judge(plan, {i: _measure(500, ms) for i, ms in enumerate(latencies)}, slo_for=_slo, min_samples=100,
                 limits=LIMITS)


def _config(reports: Path) -> Any:
    return load_config(None, env={}, overrides={"target": {"base_url": "http://127.0.0.1:1"},
                                                "reports": {"dir": str(reports)}})


def test_each_step_is_one_check_and_its_operations_carry_the_slo_counts() -> None:
    steps = _steps(100, 700)
    recs = records.build_records("capacity", steps, target="http://127.0.0.1:1")
    results = recs.snapshot()
    assert [r.status.value for r in results] == ["passed", "failed"]
    assert [r.labels["step"] for r in results] == ["100 users", "200 users"]
    assert results[1].findings[0].rule.name == "SLO_MISSED" and results[1].traffic.slo_requests == 0
    aggs = recs.aggregates()
    counted = [a for a in aggs if a.counts_toward_slo]
    assert {a.operation for a in counted} == {"op"}  # operations only: views would count requests 3 times
    assert {(a.name, a.step) for a in aggs if not a.counts_toward_slo} >= {("overall", "100 users"),
                                                                             ("slack", "200 users")}
    assert sum(a.tally.requests for a in counted) == 1000


def test_the_summary_fails_the_run_on_a_failed_step_and_passes_a_good_one(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    for latencies, verdict in (((100, 150), "pass"), ((100, 700), "fail")):
        reports = tmp_path / verdict
        run = records.write_results("capacity", _steps(*latencies), config=_config(reports),
                                    started_at=datetime.now(UTC), duration_s=20.0, reports_dir=reports)
        summary = json.loads((reports / "summary.json").read_text())
        assert summary["verdict"] == verdict and run.exit_code == (0 if verdict == "pass" else 1)
        assert summary["suite"] == "load" and summary["checks"]["total"] == 2
        assert (reports / "results.jsonl").is_file()
        steps = [json.loads(p.read_text()) for p in (reports / "allure-results").glob("*-result.json")]
        assert sorted(r["status"] for r in steps) == (["passed", "passed"] if verdict == "pass"
                                                      else ["failed", "passed"])  # one Allure result per step
