"""summary.json: the schema of DESIGN.md §5, the verdict rules, redaction and the human lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from sloguard.redact import clear_secrets, register_secret
from sloguard.results import CheckResult
from sloguard.severity import Rule, Severity
from sloguard.slo import SLOResult, SLOTarget, evaluate_burn_rates
from sloguard.summary import (
    Coverage,
    SummaryAlert,
    build_summary,
    exit_code,
    human_summary,
    human_summary_text,
    write_run_summary,
    write_summary,
)

STARTED = datetime(2024, 12, 19, 10, 0, tzinfo=UTC)


def _r(check_id: str, status: str = "passed", **kw: Any) -> CheckResult:
    kw.setdefault("http_status", 200)
    kw.setdefault("latency_ms", 20.0)
    kw.setdefault("network_ms", 2.0)
    return CheckResult(check_id=check_id, status=status, suite="synthetics", **kw)  # type: ignore[arg-type]


def healthy(n: int = 200) -> list[CheckResult]:
    return [_r(f"ok{i}", operation=f"op{i % 50}") for i in range(n)]


def summarize(results: list[CheckResult], **kw: Any) -> dict[str, Any]:
    kw.setdefault("suite", "synthetics")
    kw.setdefault("target", "http://127.0.0.1:8400")
    kw.setdefault("started_at", STARTED)
    kw.setdefault("duration_s", 12.3456)
    return build_summary(results, **kw)


def test_the_schema_has_every_key_the_design_promises() -> None:
    s = summarize(healthy())
    assert {"verdict", "suite", "target", "started_at", "duration_s", "checks", "slos", "alerts"} <= set(s)
    assert {"integration_slos", "coverage", "error_budget", "schema_version"} <= set(s)
    assert {"total", "passed", "failed", "flaky", "skipped"} <= set(s["checks"])
    assert s["slos"] and all({"name", "objective", "measured", "met"} <= set(x) for x in s["slos"])
    assert set(s["coverage"]) == {"checked", "total", "reasons"}
    assert s["started_at"] == "2024-12-19T10:00:00+00:00" and s["duration_s"] == 12.346
    assert s["verdict"] == "pass" and s["alerts"] == [] and exit_code(s) == 0
    json.dumps(s)  # plain JSON all the way down


def test_any_p0_or_p1_failure_fails_the_run() -> None:
    for rule in ("SECURITY_BREACH", "SLOW_OPERATION"):
        s = summarize([*healthy(), _r("bad", "failed", rule=rule, http_status=200)])
        assert s["verdict"] == "fail" and exit_code(s) == 1, rule
        assert s["alerts"][0]["rule"] == rule
        assert {"severity", "rule", "summary"} <= set(s["alerts"][0])


def test_p2_and_p3_failures_are_listed_but_do_not_fail_the_run() -> None:
    s = summarize(
        [
            *healthy(),
            _r("tls", "failed", kind="tls", rule="TLS_EXPIRY", http_status=None, error="expires in 12 days"),
            _r("hdr", "failed", kind="contract", rule="COSMETIC_CONTRACT", error="undocumented header X-Foo"),
        ]
    )
    assert s["verdict"] == "pass" and exit_code(s) == 0
    assert [(a["severity"], a["rule"]) for a in s["alerts"]] == [("P2", "TLS_EXPIRY"), ("P3", "COSMETIC_CONTRACT")]
    assert s["checks"]["failed"] == 2


def test_flaky_checks_do_not_fail_the_run() -> None:
    s = summarize([*healthy(2000), _r("f", "flaky", attempts=2)])
    assert s["verdict"] == "pass" and s["checks"]["flaky"] == 1


def test_a_missed_overall_slo_fails_the_run() -> None:
    slow = [_r(f"s{i}", latency_ms=650.0) for i in range(20)]
    s = summarize(slow)
    assert s["verdict"] == "fail"
    latency = next(x for x in s["slos"] if x["name"] == "latency_p95_ms")
    assert latency["met"] is False and latency["objective"] == 500.0 and latency["measured"] >= 650.0
    assert [a["rule"] for a in s["alerts"]] == [Rule.SLO_MISSED.name]
    assert "latency_p95_ms" in s["alerts"][0]["summary"]


def test_a_missed_integration_slo_fails_the_run_even_when_overall_is_met() -> None:
    fast = healthy(200)
    stripe = [_r(f"st{i}", integration="stripe", latency_ms=900.0) for i in range(5)]
    slack = [_r(f"sl{i}", integration="slack", latency_ms=450.0) for i in range(5)]
    targets = {"stripe": SLOTarget(latency_p95_ms=800)}
    s = summarize(fast + stripe + slack, target_for=lambda name: targets.get(name, SLOTarget()))
    assert all(x["met"] for x in s["slos"])  # the overall p95 is fast
    stripe_latency = next(x for x in s["integration_slos"]["stripe"] if x["name"] == "latency_p95_ms")
    assert stripe_latency["objective"] == 800 and stripe_latency["met"] is False
    assert all(x["met"] for x in s["integration_slos"]["slack"])
    assert s["verdict"] == "fail"
    assert s["alerts"] == [
        {
            "severity": "P1",
            "rule": "SLO_MISSED",
            "summary": "SLO missed: [stripe] latency_p95_ms 900.0 ms (objective < 800 ms)",
            "integration": "stripe",
        }
    ]


def test_no_data_is_not_a_missed_slo_but_a_run_where_nothing_ran_fails() -> None:
    s = summarize([_r("sync", kind="sync", http_status=None, latency_ms=None, network_ms=None)])
    assert all(x["measured"] is None and x["met"] is None for x in s["slos"])
    assert s["verdict"] == "pass"
    nothing = summarize([_r(f"w{i}", "skipped", skip_reason="read-only target") for i in range(3)])
    assert nothing["verdict"] == "fail"
    assert nothing["alerts"][0]["rule"] == "CHECK_ERROR" and "3 skipped" in nothing["alerts"][0]["summary"]
    assert summarize([])["verdict"] == "fail"


def test_burn_rate_alerts_from_history_join_the_verdict() -> None:
    page = evaluate_burn_rates({timedelta(hours=1): 0.05, timedelta(minutes=5): 0.05}, 0.999)
    s = summarize(healthy(), extra_alerts=page)
    assert s["verdict"] == "fail"
    assert s["alerts"][0]["severity"] == "P0" and s["alerts"][0]["rule"] == "BUDGET_BURN_FAST"
    info = SummaryAlert(Severity.P2, Rule.NEW_VERSION, "platform version 1.4.0 seen (was 1.3.2)")
    assert summarize(healthy(), extra_alerts=[info])["verdict"] == "pass"


def test_error_budget_and_coverage() -> None:
    results = [*healthy(998), _r("down", "failed", http_status=503), _r("t", "failed", transport_error="timeout")]
    results += [_r("w", "skipped", operation="create_task", skip_reason="read-only target")]
    s = summarize(results, coverage=None)
    assert s["error_budget"]["failures"] == 2 and s["error_budget"]["allowed_failures"] == 1.0
    assert s["error_budget"]["remaining"] == -1.0 and s["error_budget"]["burn_rate"] == 2.0
    assert s["coverage"] == {"checked": 52, "total": 53, "reasons": {"read-only target": 1}}
    cov = Coverage.from_results(results, total=60, reasons={"no example": 4})
    assert cov.to_dict() == {
        "checked": 52,
        "total": 60,
        "reasons": {"no example": 4, "not run": 3, "read-only target": 1},
    }


def test_nothing_secret_reaches_the_summary(tmp_path: Path) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlMTIz"
    register_secret("sloguard-ci-secret")
    try:
        s = summarize(
            [
                *healthy(),
                _r(
                    "leak",
                    "failed",
                    rule="SECURITY_BREACH",
                    path="/api/v1/tasks?access_token=abc123",
                    method="GET",
                    error=f"accepted forged token {jwt} (client secret sloguard-ci-secret)",
                ),
            ],
            target="https://ci:hunter22@atom.example",
        )
        path = write_summary(s, tmp_path / "reports" / "summary.json")
        text = path.read_text()
        for secret in (jwt, "sloguard-ci-secret", "hunter22", "abc123"):
            assert secret not in text and secret not in human_summary_text(s)
        assert json.loads(text)["verdict"] == "fail"
        assert sorted(p.name for p in path.parent.iterdir()) == ["summary.json"]
    finally:
        clear_secrets()


def test_the_human_summary_says_verdict_counts_slos_and_top_failures() -> None:
    results = [*healthy(50), _r("slow", latency_ms=3000.0, integration="jira")]
    results += [
        _r(
            f"x{i}",
            "failed",
            rule="INTEGRATION_DEGRADED",
            integration="slack",
            method="GET",
            path=f"/api/slack/messages/{i}",
            http_status=500,
            error="boom [bold]not markup[/bold]",
        )
        for i in range(7)
    ]
    results += [
        _r(
            "breach",
            "failed",
            rule="SECURITY_BREACH",
            method="GET",
            path="/api/v1/users",
            error="answered 200 without a token",
        )
    ]
    s = summarize(results)
    lines = human_summary(s, top=3)
    text = "\n".join(line.plain for line in lines)
    assert lines[0].plain.startswith("FAIL  synthetics against http://127.0.0.1:8400 in 12.3 s")
    assert "checks: 59 total · 51 passed · 8 failed · 0 flaky · 0 skipped" in text
    assert "SLO SLO missed: [jira] latency_p95_ms 3000.0 ms (objective < 500 ms)" in text
    first_failure = next(line.plain for line in lines if line.plain.startswith("P"))
    assert first_failure == "P0 SECURITY_BREACH  GET /api/v1/users → 200: answered 200 without a token"
    assert "[slack] GET /api/slack/messages/0 → 500: boom [bold]not markup[/bold]" in text
    assert "… and 5 more" in text
    passing = human_summary_text(summarize(healthy()))
    assert passing.startswith("PASS") and "coverage: 50/50 operations" in passing


def test_coverage_from_a_catalog_like_record_or_a_mapping() -> None:
    catalog_like = SimpleNamespace(
        total=5, checked=2, unchecked={"a": "read-only target", "b": "read-only target", "c": "no example"}
    )
    assert Coverage.from_any(catalog_like).to_dict() == {
        "checked": 2,
        "total": 5,
        "reasons": {"no example": 1, "read-only target": 2},
    }
    assert summarize(healthy(), coverage={"checked": 1, "total": 2, "reasons": {"x": 1}})["coverage"]["total"] == 2
    with pytest.raises(ValueError, match="coverage needs 'checked' and 'total'"):
        Coverage.from_any({"checked": 1})
    with pytest.raises(ValueError, match="checked ≤ total"):
        Coverage(checked=3, total=2)


def test_precomputed_slos_and_write_run_summary(tmp_path: Path) -> None:
    given = [
        SLOResult("availability", 0.999, 0.95, False, 1000),
        SLOResult("latency_p95_ms", 800, 120.0, True, 40, scope="stripe"),
    ]
    s = write_run_summary(
        tmp_path, results=healthy(), suite="load", target="http://h", started_at=STARTED, duration_s=1.0, slos=given
    )
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == s
    assert [x["name"] for x in s["slos"]] == ["availability"]
    assert s["integration_slos"] == {
        "stripe": [{"name": "latency_p95_ms", "objective": 800, "measured": 120.0, "met": True, "samples": 40}]
    }
    assert s["verdict"] == "fail" and s["alerts"][0]["rule"] == "SLO_MISSED"
