"""Baseline comparison over the SQLite run history: the P1 and P0 thresholds, the noise guards, and
the history file itself. (test_baseline_real.py runs it on real synthetic runs.)"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sloguard.errors import UsageError
from sloguard.history import PLATFORM, RunHistory, RunRecord
from sloguard.reports.baseline import BaselinePolicy, check_baseline, compare
from sloguard.severity import Rule, Severity

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
INTEGRATIONS = ("github", "jira", "slack")


def summary(n: int, *, p95: dict[str, float] | None = None, errors: dict[str, float] | None = None,
            samples: int = 40, platform_p95: float | None = None, platform_errors: float = 0.0,
            platform_samples: int = 400, target: str = "https://atom.example.com", suite: str = "synthetics",
            integrations: tuple[str, ...] = INTEGRATIONS) -> dict[str, Any]:
    """A summary.json (v2 shape, the parts the baseline reads) for the n-th run, an hour apart."""
    p95 = p95 or {}
    errors = errors or {}

    def slos(latency: float, error_rate: float, count: int) -> list[dict[str, Any]]:
        return [{"name": "latency_p95_ms", "objective": 500.0, "measured": latency, "met": latency < 500,
                 "samples": count},
                {"name": "error_rate", "objective": 0.01, "measured": error_rate, "met": error_rate < 0.01,
                 "samples": count}]

    return {
        "schema_version": 2, "run_id": f"run-{n}", "verdict": "pass", "suite": suite, "target": target,
        "started_at": (T0 + timedelta(hours=n)).isoformat(),
        "slos": slos(platform_p95 if platform_p95 is not None else 100.0, platform_errors, platform_samples),
        "integration_slos": {name: slos(p95.get(name, 100.0), errors.get(name, 0.0), samples)
                             for name in integrations},
    }


def seed(db: Path, runs: int = 5, **kwargs: Any) -> None:
    for n in range(runs):
        assert check_baseline(summary(n, **kwargs), db) == []


def test_no_history_no_comparison(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    assert check_baseline(summary(0, p95={"jira": 5000}), db) == []
    assert RunHistory(db).count() == 1


def test_too_few_earlier_runs_compare_nothing(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db, runs=2)  # min_runs is 3
    assert check_baseline(summary(2, p95={"jira": 900}), db) == []


def test_one_integration_twice_as_slow_is_a_p1(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db)
    alerts = check_baseline(summary(5, p95={"jira": 250}), db)
    assert [(a.rule, a.severity, a.scope, a.integration) for a in alerts] == [
        (Rule.RESPONSE_TIME_REGRESSION, Severity.P1, "integration:jira", "jira")]
    assert "p95 250.0 ms vs baseline 100.0 ms (2.5×)" in alerts[0].summary
    assert "150% above baseline" in alerts[0].summary


def test_exactly_twice_is_not_more_than_100_percent(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db)
    assert check_baseline(summary(5, p95={"jira": 200}), db) == []
    assert check_baseline(summary(6, p95={"jira": 201}), db)[0].rule is Rule.RESPONSE_TIME_REGRESSION


def test_small_absolute_changes_do_not_alert(tmp_path: Path) -> None:
    """3 ms becoming 9 ms is 3× but nobody should act on it (min_delta_ms)."""
    db = tmp_path / "history.sqlite3"
    seed(db, p95={"jira": 3.0}, platform_p95=3.0)
    assert check_baseline(summary(5, p95={"jira": 9.0}, platform_p95=9.0), db) == []


def test_few_samples_do_not_alert(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db, samples=5)
    assert check_baseline(summary(5, p95={"jira": 900}, samples=5), db) == []
    policy = BaselinePolicy(min_samples=5)
    assert check_baseline(summary(6, p95={"jira": 900}, samples=5), db, policy=policy)


def test_the_median_ignores_one_bad_earlier_run(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db, runs=4)
    check_baseline(summary(4, p95={"jira": 1000}), db)  # one slow run: now in the history
    alerts = check_baseline(summary(5, p95={"jira": 260}), db)
    assert [a.scope for a in alerts] == ["integration:jira"]  # baseline is still 100 ms, not pulled up


def test_platform_twice_as_slow_is_one_p0_listing_the_integrations(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db)
    slow = dict.fromkeys(INTEGRATIONS, 300.0)
    alerts = check_baseline(summary(5, p95=slow, platform_p95=310.0), db)
    assert len(alerts) == 1
    drop = alerts[0]
    assert (drop.rule, drop.severity, drop.scope) == (Rule.PERFORMANCE_DROP, Severity.P0, "platform")
    assert drop.summary.startswith("performance dropped 68% against the baseline")
    assert drop.count == 4 and {d.split("]")[0] for d in drop.details} == {"[platform", "[github", "[jira", "[slack"}


def test_a_platform_failing_half_its_calls_is_a_performance_drop(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db)
    alerts = check_baseline(summary(5, platform_errors=0.55), db)
    assert [a.rule for a in alerts] == [Rule.PERFORMANCE_DROP]
    assert check_baseline(summary(6, platform_errors=0.45), db) == []  # 45% fewer good answers: not > 50%


def test_platform_numbers_only_compare_runs_of_the_same_selection(tmp_path: Path) -> None:
    """A `-k github` run's platform p95 is github's alone: it is no baseline for a full run."""
    db = tmp_path / "history.sqlite3"
    seed(db, platform_p95=40.0, integrations=("github",))
    full = summary(5, platform_p95=300.0)
    assert check_baseline(full, db) == []
    run = RunRecord.from_summary(full)
    # github itself is compared (its traffic is the same whatever else ran); the platform is not
    assert [c.scope for c in compare(run, RunHistory(db).previous(run, 50))] == ["integration:github"]


def test_other_targets_and_suites_are_not_a_baseline(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    seed(db, target="https://staging.example.com")
    seed(db, suite="contracts")
    assert check_baseline(summary(9, p95={"jira": 900}), db) == []
    # the same deployment spelled differently is the same target
    seed(db, target="https://ATOM.example.com/")
    assert check_baseline(summary(9, p95={"jira": 900}), db)[0].scope == "integration:jira"


def test_recording_the_same_run_twice_keeps_one(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    check_baseline(summary(0), db)
    check_baseline(summary(0), db)
    check_baseline(summary(1), db, record=False)
    assert RunHistory(db).count() == 1
    run = RunRecord.from_summary(summary(3))
    earlier = RunHistory(db).previous(run, 10)
    assert [r.run_id for r in earlier] == ["run-0"]
    assert earlier[0].point(PLATFORM).p95_ms == 100.0
    assert earlier[0].point("integration:jira").latency_samples == 40


def test_a_real_v1_summary_is_read(tmp_path: Path) -> None:
    """summary.json as the runner at this commit writes it (no run_id yet)."""
    doc = json.loads((Path(__file__).parent / "fixtures" / "summary-v2.json").read_text())
    doc.pop("run_id")
    run = RunRecord.from_summary(doc)
    assert run.run_id.startswith("2026-12-01T08:25:42")
    assert run.point("integration:jira").p95_ms == pytest.approx(932.351)
    assert run.target == "http://127.0.0.1:53179"


def test_a_file_that_is_not_a_history_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UsageError, match=r"is not a sloguard run history .*move it away"):
        check_baseline(summary(0), db)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '99')")
    with pytest.raises(UsageError, match=r"schema 99"):
        check_baseline(summary(0), other)
