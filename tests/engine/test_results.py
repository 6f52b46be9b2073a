"""The results model: defaults that name a rule, semantics for the SLO maths, safe collection,
redacted atomic JSON-lines files."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sloguard.errors import UsageError
from sloguard.redact import MASK
from sloguard.results import (
    Aggregate,
    Attachment,
    CheckResult,
    Exchange,
    Finding,
    ResultSet,
    Status,
    Traffic,
    TransportErrorKind,
    count,
    write_atomic,
)
from sloguard.severity import Rule, Severity, most_severe, rules_of
from sloguard.slo import SLOTarget, Tally

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlMTIz"


def _r(check_id: str = "c", status: str = "passed", **kw: object) -> CheckResult:
    return CheckResult(check_id=check_id, status=status, **kw)  # type: ignore[arg-type]


# --- severity catalogue ------------------------------------------------------------------------------


def test_severity_order_and_verdict_weight() -> None:
    assert Severity.P0 < Severity.P1 < Severity.P2 < Severity.P3
    assert Severity.P0.at_least(Severity.P1) and not Severity.P2.at_least(Severity.P1)
    assert [s.response_target.total_seconds() / 3600 for s in Severity] == [0, 2, 8, 24]
    assert [s.resolution_target.total_seconds() / 3600 for s in Severity] == [1, 4, 24, 168]
    assert most_severe([Severity.P2, None, Severity.P1]) is Severity.P1
    assert most_severe([]) is None
    assert Severity.parse("p1") is Severity.P1
    with pytest.raises(ValueError, match="use one of P0, P1, P2, P3"):
        Severity.parse("P5")


def test_rule_catalogue_matches_the_design() -> None:
    p0 = {"PLATFORM_DOWN", "DATABASE_FAILURE", "AUTH_FAILURE", "HIGH_ERROR_RATE", "INTEGRATIONS_DOWN"}
    p0 |= {"DATA_LOSS", "SECURITY_BREACH", "PERFORMANCE_DROP"}
    p1 = {"RESPONSE_TIME_REGRESSION", "SOAK_GROWTH", "SLOW_OPERATION", "INTEGRATION_DEGRADED"}
    p1 |= {"RATE_LIMIT_NEAR", "CAPACITY_NEAR"}
    assert p0 <= {r.name for r in rules_of(Severity.P0)}
    assert p1 <= {r.name for r in rules_of(Severity.P1)}
    assert {"TLS_EXPIRY", "CONTRACT_DRIFT", "NEW_VERSION"} <= {r.name for r in rules_of(Severity.P2)}
    assert {r.name for r in rules_of(Severity.P3)} == {"COSMETIC_CONTRACT"}
    for rule in Rule:
        assert rule.description and "\n" not in rule.description
    assert Rule.parse("security-breach") is Rule.SECURITY_BREACH
    with pytest.raises(ValueError, match="unknown alert rule 'NOPE'"):
        Rule.parse("NOPE")


# --- CheckResult ---------------------------------------------------------------------------------------


def ex(status: int | None, *, latency_ms: float = 5.0, transport: TransportErrorKind | None = None) -> Exchange:
    return Exchange.record("GET", "http://h/api/x", {"Authorization": f"Bearer {JWT}"}, None, status,
                           {"content-type": "application/json"}, b"{}", latency_ms=latency_ms,
                           transport=transport, error=transport.value if transport else None)


def test_every_failure_names_a_rule_and_severity() -> None:
    assert _r(status="failed").rule is Rule.OPERATION_FAILED
    assert _r(status="failed", integration="stripe").rule is Rule.INTEGRATION_DEGRADED
    assert _r(status="error").rule is Rule.CHECK_ERROR
    breach = _r(status="failed", findings=(Finding(Rule.SECURITY_BREACH, "open"),))
    assert breach.rule is Rule.SECURITY_BREACH and breach.severity is Severity.P0
    override = _r(status="failed", findings=(Finding(Rule.CONTRACT_DRIFT, "drift", severity=Severity.P1),))
    assert override.severity is Severity.P1
    assert _r(status="passed").rule is None and _r(status="passed").severity is None


def test_findings_are_typed_and_the_worst_one_decides() -> None:
    r = _r(status="failed", findings=(
        Finding(Rule.RATE_LIMIT_NEAR, "90% used", warning=True),
        Finding(Rule.INTEGRATION_DEGRADED, "took 900 ms", latency_only=True),
        Finding(Rule.SECURITY_BREACH, "open without credentials"),
    ))
    assert r.rule is Rule.SECURITY_BREACH and r.error == "took 900 ms; open without credentials"
    assert [f.rule for f in r.warnings] == [Rule.RATE_LIMIT_NEAR]
    assert r.worst is not None and r.worst.label == "[P0 SECURITY_BREACH] open without credentials"
    # a passing check can carry a warning, never a failure
    assert _r(status="passed", findings=(Finding(Rule.RATE_LIMIT_NEAR, "80%", warning=True),)).rule is None
    with pytest.raises(ValueError, match="cannot carry failing findings"):
        _r(status="passed", findings=(Finding(Rule.SECURITY_BREACH, "open"),))
    with pytest.raises(ValueError, match="needs a message"):
        Finding(Rule.SECURITY_BREACH, "")


def test_bad_values_give_one_line_errors() -> None:
    with pytest.raises(ValueError, match=r"status 'pased' is not one of passed, failed, flaky, skipped, inconclusive"):
        _r(status="pased")
    with pytest.raises(ValueError, match="attempts must be 1 or more"):
        _r(attempts=0)
    with pytest.raises(ValueError, match="non-negative number of ms"):
        Traffic(requests=1, slo_requests=1, latencies_ms=(-1.0,))
    with pytest.raises(ValueError, match="unavailable ≤ errors ≤ slo_requests ≤ requests"):
        Traffic(requests=1, slo_requests=2)
    with pytest.raises(ValueError, match="needs a check_id"):
        _r(check_id="")
    with pytest.raises(ValueError, match="unknown alert rule"):
        Finding("MADE_UP", "x")  # type: ignore[arg-type]


def test_the_transport_error_is_a_type_on_the_evidence() -> None:
    timed_out = _r(status="failed", evidence=(ex(None, transport=TransportErrorKind.TIMEOUT),))
    assert timed_out.transport_error is TransportErrorKind.TIMEOUT and timed_out.http_status is None
    answered = _r(status="failed", evidence=(ex(None, transport=TransportErrorKind.CONNECT), ex(503)))
    assert answered.transport_error is None and answered.http_status == 503 and answered.latency_ms == 5.0
    assert timed_out.final is not None and timed_out.final.title().endswith("→ timeout (5 ms)")


def test_evidence_is_redacted_when_recorded_and_has_a_curl_line() -> None:
    record = ex(200)
    assert JWT not in str(record.to_dict())
    assert record.request_headers["Authorization"] == f"Bearer {MASK}"
    assert '"Authorization: Bearer $ATOM_TOKEN"' in record.curl()
    basic = Exchange.record("POST", "http://h/token", {"Authorization": "Basic c2xvZ3VhcmQ6c2VjcmV0"},
                            b"grant_type=client_credentials&client_secret=s3cr3t-value", 200)
    assert basic.request_headers["Authorization"] == f"Basic {MASK}"
    assert '-u "$ATOM_CLIENT_ID:$ATOM_CLIENT_SECRET"' in basic.curl() and "s3cr3t-value" not in basic.curl()
    long = Exchange.record("GET", "http://h/x", {}, None, 200, {}, b"x" * 10_000)
    assert len(long.response_body) < 4200 and "truncated, 10000 bytes in all" in long.response_body


def test_round_trip_through_dict_and_json() -> None:
    original = CheckResult(
        check_id="stripe.list_charges",
        status=Status.FAILED,
        suite="synthetics",
        kind="endpoint",
        integration="stripe",
        operation="stripe_list_charges",
        method="GET",
        path="/api/stripe/charges",
        findings=(Finding(Rule.INTEGRATION_DEGRADED, "500 Internal Server Error"),
                  Finding(Rule.RATE_LIMIT_NEAR, "85% used", warning=True)),
        traffic=Traffic(requests=3, slo_requests=2, errors=2, unavailable=2, latencies_ms=(812.5, 3.0)),
        evidence=(ex(None, transport=TransportErrorKind.TIMEOUT), ex(500, latency_ms=812.5)),
        slo=SLOTarget(latency_p95_ms=800),
        notes=("retried once",),
        attempts=3,
        started_at=datetime(2024, 12, 19, 10, 0, tzinfo=UTC),
        duration_ms=830.0,
        labels={"step": "1000 users"},
        attachments=(Attachment("p95 over time", "charts/p95.png", "image/png"),),
    )
    data = json.loads(json.dumps(original.to_dict()))
    assert data["rule"] == "INTEGRATION_DEGRADED" and data["http_status"] == 500 and data["severity"] == "P1"
    again = CheckResult.from_dict(data)
    assert again == original
    assert again.severity is Severity.P1 and again.slo == SLOTarget(latency_p95_ms=800)
    assert CheckResult.from_dict({"check_id": "x", "status": "passed", "added_later": 1}).check_id == "x"
    naive = _r(started_at="2024-12-19T10:00:00")
    assert naive.started_at.tzinfo is not None


def test_aggregates_merge_losslessly_and_refuse_other_scopes() -> None:
    def agg(step: str, latencies: list[float], errors: int = 0) -> Aggregate:
        t = Tally()
        t.record(requests=len(latencies), errors=errors, unavailable=errors, latencies_ms=latencies)
        return Aggregate("GET /api/slack/messages", integration="slack", step=step, tally=t)

    a, b = agg("1000 users", [10.0] * 900), agg("1000 users", [700.0] * 100, errors=3)
    a.merge(b)
    assert (a.tally.requests, a.tally.errors) == (1000, 3) and a.tally.latency.percentile(95) == 700.0
    with pytest.raises(ValueError, match="different scopes"):
        a.merge(agg("2500 users", [1.0]))
    again = Aggregate.from_dict(json.loads(json.dumps(a.to_dict())))
    assert again.key == a.key and again.tally.latency.percentile(95) == 700.0


# --- ResultSet ----------------------------------------------------------------------------------------


def test_counts_put_errors_in_failed_and_total_adds_up() -> None:
    statuses = ["passed", "passed", "failed", "error", "flaky", "skipped", "skipped", "inconclusive"]
    c = ResultSet([_r(status=s) for s in statuses]).counts()
    assert (c.total, c.passed, c.failed, c.flaky, c.skipped, c.inconclusive, c.errors) == (8, 2, 2, 1, 2, 1, 1)
    assert c.total == c.passed + c.failed + c.flaky + c.skipped + c.inconclusive
    assert c.decided == 5
    assert count([]).total == 0


def test_failures_come_most_severe_first() -> None:
    def failed(check_id: str, rule: Rule) -> CheckResult:
        return _r(check_id, "failed", findings=(Finding(rule, "x"),))

    rs = ResultSet([failed("a", Rule.CONTRACT_DRIFT), failed("b", Rule.SLOW_OPERATION), _r("c", "passed"),
                    failed("d", Rule.SECURITY_BREACH), failed("e", Rule.COSMETIC_CONTRACT)])
    assert [r.check_id for r in rs.failures()] == ["d", "b", "a", "e"]


def test_concurrent_adds_from_threads_and_tasks_lose_nothing() -> None:
    rs = ResultSet()

    def worker(n: int) -> None:
        for i in range(500):
            rs.add(_r(f"t{n}-{i}"))
            if i % 100 == 0:
                list(rs)  # readers iterate snapshots while writers add

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    async def main() -> None:
        async def task(n: int) -> None:
            for i in range(50):
                rs.add(_r(f"a{n}-{i}"))
                await asyncio.sleep(0)

        await asyncio.gather(*(task(n) for n in range(20)), asyncio.to_thread(worker, 99))

    asyncio.run(main())
    assert len(rs) == 8 * 500 + 20 * 50 + 500
    assert len({r.check_id for r in rs}) == len(rs)


def test_jsonl_round_trip_is_redacted(tmp_path: Path) -> None:
    t = Tally()
    t.record(requests=5, latencies_ms=[1, 2, 3, 4, 5])
    rs = ResultSet(
        [
            _r("ok", evidence=(ex(200),)),
            _r("auth", "failed", findings=(Finding(Rule.AUTH_FAILURE, f"token {JWT} rejected; password=hunter22"),),
               evidence=(ex(401),)),
        ],
        [Aggregate("GET /x", tally=t)],
    )
    path = rs.write_jsonl(tmp_path / "run" / "results.jsonl")
    text = path.read_text()
    assert JWT not in text and "hunter22" not in text
    assert len(text.splitlines()) == 3
    back = ResultSet.read_jsonl(path)
    assert [r.check_id for r in back] == ["ok", "auth"]
    auth = back.snapshot()[1]
    assert auth.rule is Rule.AUTH_FAILURE and auth.evidence[0].request_headers["Authorization"] == f"Bearer {MASK}"
    assert back.aggregates()[0].tally.latency.count == 5
    twice = ResultSet.read_jsonl(path, path)  # several worker files merge: results add, aggregates merge
    assert twice.counts().total == 4 and twice.aggregates()[0].tally.requests == 10


def test_reading_a_broken_results_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text('{"check_id": "a", "status": "passed"}\n{"check_id": "b", "status": "exploded"}\n')
    with pytest.raises(UsageError, match=r"results.jsonl:2: not a valid result \(.*status 'exploded'"):
        ResultSet.read_jsonl(path)
    path.write_text('{"check_id": "a", "status": "passed"}\n{not json\n')
    with pytest.raises(UsageError, match=r"results.jsonl:2: not a valid result"):
        ResultSet.read_jsonl(path)
    with pytest.raises(UsageError, match="results file not found"):
        ResultSet.read_jsonl(tmp_path / "missing.jsonl")


# --- atomic writes -------------------------------------------------------------------------------------


def test_a_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    """One thread rewrites the file with documents of very different sizes; another reads in a loop."""
    path = tmp_path / "summary.json"
    small = {"verdict": "pass", "pad": ""}
    large = {"verdict": "fail", "pad": "x" * 400_000}
    write_atomic(path, json.dumps(small))
    stop = threading.Event()
    errors: list[str] = []
    reads = 0

    def writer() -> None:
        for i in range(150):
            write_atomic(path, json.dumps(large if i % 2 else small))
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        raw = path.read_text()
        reads += 1
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError:
            errors.append(f"partial read of {len(raw)} bytes")
            continue
        if doc["verdict"] not in ("pass", "fail"):
            errors.append("unexpected content")
    thread.join(timeout=30)
    assert not errors, errors[:3]
    assert reads > 10
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp files left behind


def test_plain_writes_are_seen_partially_by_the_same_reader(tmp_path: Path) -> None:
    """Control for the test above: a non-atomic write is caught, so the reader loop can fail."""
    path = tmp_path / "summary.json"
    path.write_text("{}")
    stop = threading.Event()
    partial = 0

    def writer() -> None:
        for i in range(150):
            with open(path, "w") as handle:  # truncate, then write in pieces
                doc = json.dumps({"pad": "x" * (400_000 if i % 2 else 10)})
                for start in range(0, len(doc), 65_536):
                    handle.write(doc[start : start + 65_536])
                    handle.flush()
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 30
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            json.loads(path.read_text())
        except json.JSONDecodeError:
            partial += 1
    thread.join(timeout=30)
    assert partial > 0


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()  # os.replace cannot put a file over a directory: a real failure, not a mock
    (target / "keep").write_text("old")
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert (target / "keep").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    path = write_atomic(tmp_path / "a.json", "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
