"""summary.json: the schema of DESIGN.md §5, one population for every SLO figure, the one verdict
rule, redaction and the human lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sloguard.alerts import Alert
from sloguard.redact import clear_secrets, register_secret
from sloguard.results import Aggregate, CheckResult, Exchange, Finding, ResultSet, Traffic, TransportErrorKind
from sloguard.severity import Rule
from sloguard.slo import SLOTarget, Tally, evaluate_burn_rates
from sloguard.summary import RunSummary, human_summary, human_summary_text, summarize, write_run, write_summary

STARTED = datetime(2024, 12, 19, 10, 0, tzinfo=UTC)
TARGET = "http://127.0.0.1:8400"


def _r(check_id: str, status: str = "passed", *, latency_ms: float = 20.0, outcome: str = "ok",
       findings: tuple[Finding, ...] = (), **kw: Any) -> CheckResult:
    """A check with one SLO-counted request of the given outcome (ok / error / unavailable / none)."""
    if outcome == "none":
        traffic = Traffic()
    else:
        traffic = Traffic(requests=1, slo_requests=1, errors=int(outcome != "ok"),
                          unavailable=int(outcome == "unavailable"),
                          latencies_ms=() if outcome == "unavailable" else (latency_ms,))
    return CheckResult(check_id=check_id, status=status, suite="synthetics", traffic=traffic,  # type: ignore[arg-type]
                       findings=findings, **kw)


def failed(check_id: str, rule: Rule, message: str = "wrong", **kw: Any) -> CheckResult:
    kw.setdefault("outcome", "error")
    return _r(check_id, "failed", findings=(Finding(rule, message),), **kw)


def healthy(n: int = 200) -> list[CheckResult]:
    return [_r(f"ok{i}", operation=f"op{i % 50}") for i in range(n)]


def run(results: list[CheckResult] | ResultSet, **kw: Any) -> RunSummary:
    kw.setdefault("suite", "synthetics")
    kw.setdefault("target", TARGET)
    kw.setdefault("started_at", STARTED)
    kw.setdefault("duration_s", 12.3456)
    return summarize(results, **kw)


def doc(results: list[CheckResult] | ResultSet, **kw: Any) -> dict[str, Any]:
    return run(results, **kw).document


def test_the_schema_has_every_key_the_design_promises() -> None:
    s = doc(healthy())
    assert {"verdict", "suite", "target", "started_at", "duration_s", "checks", "slos", "alerts"} <= set(s)
    assert {"integration_slos", "coverage", "error_budget", "schema_version", "run_id", "fail_on", "suites"} <= set(s)
    assert {"total", "passed", "failed", "flaky", "skipped", "inconclusive"} <= set(s["checks"])
    assert s["slos"] and all({"name", "objective", "measured", "met", "samples"} <= set(x) for x in s["slos"])
    assert set(s["coverage"]) == {"checked", "total", "reasons"}
    assert s["started_at"] == "2024-12-19T10:00:00+00:00" and s["duration_s"] == 12.346
    assert s["verdict"] == "pass" and s["alerts"] == [] and s["fail_on"] == "P1"
    assert run(healthy()).exit_code == 0
    json.dumps(s)  # plain JSON all the way down


def test_one_population_for_slos_budget_and_counts() -> None:
    """Every SLO that measures requests has the budget's request count as its samples."""
    results = [*healthy(95), failed("bad", Rule.OPERATION_FAILED), failed("down", Rule.INTEGRATION_DEGRADED,
                                                                         outcome="unavailable")]
    results.append(CheckResult("security probe", "passed", traffic=Traffic.uncounted(2)))  # expected 401s
    results.append(CheckResult("network", "passed", traffic=Traffic(network_ms=(1.0, 2.0, 3.0))))
    s = doc(results)
    slos = {x["name"]: x for x in s["slos"]}
    assert slos["availability"]["samples"] == slos["error_rate"]["samples"] == s["error_budget"]["requests"] == 97
    assert s["error_budget"]["failures"] == 1  # the unavailable one; the wrong answer is an error, not downtime
    assert slos["error_rate"]["measured"] == 2 / 97 and slos["availability"]["measured"] == 96 / 97
    assert slos["latency_p95_ms"]["samples"] == 96  # answered requests only
    assert slos["network_ms"]["samples"] == 3 and slos["network_ms"]["measured"] == 3.0


def test_the_verdict_follows_fail_on() -> None:
    tls = failed("tls", Rule.TLS_EXPIRY, "expires in 10 days", outcome="none", kind="tls")
    cosmetic = failed("hdr", Rule.COSMETIC_CONTRACT, "undocumented header X-Foo", outcome="none")
    breach = failed("open", Rule.SECURITY_BREACH, "answered 200 without credentials", outcome="none")
    assert doc([*healthy(), tls, cosmetic])["verdict"] == "pass"  # default P1: P2/P3 are reported
    assert doc([*healthy(), tls], fail_on="P2")["verdict"] == "fail"
    assert doc([*healthy(), cosmetic], fail_on="P2")["verdict"] == "pass"
    assert doc([*healthy(), cosmetic], fail_on="P3")["verdict"] == "fail"
    assert doc([*healthy(), breach], fail_on="P0")["verdict"] == "fail"
    slow = failed("slow", Rule.SLOW_OPERATION, "took 2.5 s", outcome="none")
    assert doc([*healthy(), slow])["verdict"] == "fail" and doc([*healthy(), slow], fail_on="P0")["verdict"] == "pass"
    s = doc([*healthy(), tls, cosmetic])
    assert [(a["severity"], a["rule"]) for a in s["alerts"]] == [("P2", "TLS_EXPIRY"), ("P3", "COSMETIC_CONTRACT")]


def test_warnings_and_inconclusive_checks_never_fail_a_run() -> None:
    near = _r("near", findings=(Finding(Rule.RATE_LIMIT_NEAR, "85% of the limit used", warning=True),))
    undecided = CheckResult("probe", "inconclusive", skip_reason="the operation answered 503")
    s = doc([*healthy(), near, undecided])
    assert s["verdict"] == "pass" and s["checks"]["inconclusive"] == 1
    assert s["alerts"][0]["rule"] == "RATE_LIMIT_NEAR" and s["alerts"][0]["warning"] is True
    assert s["warnings"] == [{"check": "near", "rule": "RATE_LIMIT_NEAR", "severity": "P1",
                              "message": "85% of the limit used"}]


def test_flaky_checks_do_not_fail_the_run() -> None:
    s = doc([*healthy(2000), _r("f", "flaky", attempts=2)])
    assert s["verdict"] == "pass" and s["checks"]["flaky"] == 1


def test_a_missed_overall_slo_fails_the_run() -> None:
    s = doc([_r(f"s{i}", latency_ms=650.0) for i in range(20)])
    assert s["verdict"] == "fail"
    latency = next(x for x in s["slos"] if x["name"] == "latency_p95_ms")
    assert latency["met"] is False and latency["objective"] == 500.0 and latency["measured"] >= 650.0
    assert [a["rule"] for a in s["alerts"]] == [Rule.SLO_MISSED.name]
    assert "latency_p95_ms" in s["alerts"][0]["summary"]


def test_a_missed_integration_slo_fails_the_run_even_when_overall_is_met() -> None:
    stripe = [_r(f"st{i}", integration="stripe", latency_ms=900.0) for i in range(5)]
    slack = [_r(f"sl{i}", integration="slack", latency_ms=450.0) for i in range(5)]
    targets = {"stripe": SLOTarget(latency_p95_ms=800)}
    s = doc(healthy(200) + stripe + slack, target_for=lambda name: targets.get(name, SLOTarget()))
    assert all(x["met"] for x in s["slos"] if x["name"] != "network_ms")  # the overall p95 is fast
    stripe_latency = next(x for x in s["integration_slos"]["stripe"] if x["name"] == "latency_p95_ms")
    assert stripe_latency["objective"] == 800 and stripe_latency["met"] is False
    assert all(x["met"] for x in s["integration_slos"]["slack"])
    assert [x["name"] for x in s["integration_slos"]["slack"]] == ["latency_p95_ms", "error_rate", "availability"]
    assert s["verdict"] == "fail"
    (alert,) = s["alerts"]
    assert (alert["severity"], alert["rule"], alert["integration"], alert["scope"]) == (
        "P1", "SLO_MISSED", "stripe", "slo:stripe:latency_p95_ms")
    assert alert["summary"] == "SLO missed: [stripe] latency_p95_ms 900.0 ms (objective < 800 ms)"


def test_no_data_is_not_a_missed_slo_but_a_run_where_nothing_ran_fails() -> None:
    s = doc([_r("sync", kind="sync", outcome="none")])
    assert all(x["measured"] is None and x["met"] is None for x in s["slos"])
    assert s["verdict"] == "pass"
    nothing = doc([CheckResult(f"w{i}", "skipped", skip_reason="read-only target") for i in range(3)])
    assert nothing["verdict"] == "fail"
    assert nothing["alerts"][0]["rule"] == "CHECK_ERROR" and "3 skipped" in nothing["alerts"][0]["summary"]
    assert doc([])["verdict"] == "fail"
    assert doc([CheckResult("p", "inconclusive", skip_reason="429")], fail_on="P0")["verdict"] == "fail"


def test_burn_rate_and_extra_alerts_join_the_verdict() -> None:
    page = evaluate_burn_rates({timedelta(hours=1): 0.05, timedelta(minutes=5): 0.05}, 0.999)
    s = doc(healthy(), burn=page)
    assert s["verdict"] == "fail"
    assert s["alerts"][0]["severity"] == "P0" and s["alerts"][0]["rule"] == "BUDGET_BURN_FAST"
    info = Alert(Rule.NEW_VERSION, "platform", "platform version 1.4.0 seen (was 1.3.2)", TARGET, "r1")
    assert doc(healthy(), extra_alerts=[info])["verdict"] == "pass"


def test_aggregates_count_in_the_slos_like_results() -> None:
    t = Tally()
    t.record(requests=10_000, errors=300, unavailable=200, latencies_ms=[40.0] * 9_800)
    records = ResultSet([CheckResult("step 1000 users", "passed", suite="load", traffic=Traffic.uncounted(10_000))],
                        [Aggregate("GET /api/slack/messages", integration="slack", step="1000 users", tally=t)])
    s = doc(records, suite="load")
    slos = {x["name"]: x for x in s["slos"]}
    assert slos["error_rate"]["samples"] == s["error_budget"]["requests"] == 10_000
    assert slos["error_rate"]["measured"] == 0.03 and slos["availability"]["measured"] == 0.98
    assert s["integration_slos"]["slack"][0]["samples"] == 9_800
    assert s["suites"] == {"load": {"total": 1, "passed": 1, "failed": 0, "flaky": 0, "skipped": 0,
                                    "inconclusive": 0, "errors": 0}}


def test_error_budget_and_coverage() -> None:
    results = [*healthy(998), failed("down", Rule.INTEGRATION_DEGRADED, outcome="unavailable"),
               failed("t", Rule.INTEGRATION_DEGRADED, outcome="unavailable")]
    results += [CheckResult("w", "skipped", operation="create_task", skip_reason="read-only target")]
    s = doc(results)
    assert s["error_budget"]["failures"] == 2 and s["error_budget"]["allowed_failures"] == 1.0
    assert s["error_budget"]["remaining"] == -1.0 and s["error_budget"]["burn_rate"] == 2.0
    assert s["coverage"] == {"checked": 52, "total": 53, "reasons": {"read-only target": 1}}
    given = {"checked": 1, "total": 2, "reasons": {"x": 1}}
    assert doc(healthy(), coverage=given)["coverage"] == given


def test_nothing_secret_reaches_the_summary(tmp_path: Path) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlMTIz"
    register_secret("sloguard-ci-secret")
    try:
        leak = failed("leak", Rule.SECURITY_BREACH,
                      f"accepted forged token {jwt} (client secret sloguard-ci-secret)",
                      path="/api/v1/tasks?access_token=abc123", method="GET",
                      evidence=(Exchange.record("GET", "http://h/api/v1/tasks?access_token=abc123",
                                                {"Authorization": f"Bearer {jwt}"}, None, 200),))
        result = run([*healthy(), leak], target="https://ci:hunter22@atom.example")
        path = write_run(result, tmp_path / "reports")
        text = path.read_text() + (path.parent / "results.jsonl").read_text()
        for secret in (jwt, "sloguard-ci-secret", "hunter22", "abc123"):
            assert secret not in text and secret not in human_summary_text(result.document)
        assert json.loads(path.read_text())["verdict"] == "fail"
        assert sorted(p.name for p in path.parent.iterdir()) == ["results.jsonl", "summary.json"]
        write_summary(result.document, tmp_path / "again.json")
        assert "hunter22" not in (tmp_path / "again.json").read_text()
    finally:
        clear_secrets()


def test_the_human_summary_says_verdict_counts_slos_and_top_alerts() -> None:
    results = [*healthy(50), _r("slow", latency_ms=3000.0, integration="jira")]
    results += [failed(f"x{i}", Rule.INTEGRATION_DEGRADED, "boom [bold]not markup[/bold]", integration="slack",
                       method="GET", path=f"/api/slack/messages/{i}",
                       evidence=(Exchange.record("GET", f"http://h/api/slack/messages/{i}", {}, None, 500),))
                for i in range(7)]
    results += [failed("breach", Rule.SECURITY_BREACH, "answered 200 without a token", method="GET",
                       path="/api/v1/users",
                       evidence=(Exchange.record("GET", "http://h/api/v1/users", {}, None, 200),))]
    results += [failed(f"c{i}", Rule.COSMETIC_CONTRACT, "undocumented header", integration=f"i{i}") for i in range(4)]
    lines = human_summary(doc(results), top=3)
    text = "\n".join(line.plain for line in lines)
    assert lines[0].plain.startswith("FAIL  synthetics against http://127.0.0.1:8400 in 12.3 s")
    assert "checks: 63 total · 51 passed · 12 failed · 0 flaky · 0 inconclusive · 0 skipped" in text
    assert "SLO SLO missed: [jira] latency_p95_ms 3000.0 ms (objective < 500 ms)" in text
    first = next(line.plain for line in lines if line.plain.startswith("P"))
    assert first == "P0 SECURITY_BREACH  GET /api/v1/users → 200: answered 200 without a token"
    # seven failing Slack endpoints are ONE alert, not seven lines
    slack = next(line.plain for line in lines if "INTEGRATION_DEGRADED" in line.plain)
    assert slack.startswith("P1 INTEGRATION_DEGRADED  slack: 7 failures (INTEGRATION_DEGRADED), first: "
                            "[slack] GET /api/slack/messages/0 → 500: boom [bold]not markup[/bold]")
    assert "… and 3 more alerts" in text  # breach, slack, 4 × cosmetic: 6 alerts, 3 shown
    passing = human_summary_text(doc(healthy()))
    assert passing.startswith("PASS") and "coverage: 50/50 operations" in passing


def test_results_and_summary_land_on_disk_together(tmp_path: Path) -> None:
    result = run([*healthy(), failed("x", Rule.DATA_LOSS, "record never arrived", outcome="none")])
    path = write_run(result, tmp_path)
    assert json.loads(path.read_text()) == result.document
    back = ResultSet.read_jsonl(tmp_path / "results.jsonl")
    assert len(back) == 201 and back.failures()[0].rule is Rule.DATA_LOSS
    assert result.alerts[0].rule is Rule.DATA_LOSS and result.alerts[0].scope == "check:x"
    assert result.verdict.exit_code == 1


def test_transport_errors_count_as_unavailable_through_the_whole_path() -> None:
    timeout = Exchange.record("GET", "http://h/x", {}, None, None, transport=TransportErrorKind.TIMEOUT,
                              error="timeout (no answer within 10 s)")
    r = failed("t", Rule.INTEGRATION_DEGRADED, "no answer", outcome="unavailable", evidence=(timeout,))
    s = doc([*healthy(99), r])
    assert s["error_budget"]["failures"] == 1
    assert "→ timeout (no answer within 10 s)" in s["alerts"][0]["summary"]
