"""The runner-neutral results model: what a check found, what it sent, and the evidence.

Synthetics, contract runs and load runs all produce these records; nothing downstream (SLOs,
summary, alerts, Allure, JUnit) knows which runner made one. A `CheckResult` is one check's verdict
with its typed findings, its traffic and its evidence; an `Aggregate` is a high-volume runner's
per-scope tally (one Locust step for one operation stands for thousands of requests).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sloguard.severity import Rule, Severity
from sloguard.slo import SLOTarget, Tally

from .evidence import Exchange, TransportErrorKind


class Status(enum.StrEnum):
    """A check's outcome.

    ``flaky``: passed only after a retry. ``inconclusive``: it ran but the answer could not decide
    (a probe that got 503 or 429 verified nothing); counted apart, never as passed. ``error``: the
    check itself could not run to a verdict (a harness error).
    """

    PASSED = "passed"
    FAILED = "failed"
    FLAKY = "flaky"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"


class Outcome(enum.StrEnum):
    """How one request counts toward the SLOs (see `request_outcome`)."""

    OK = "ok"
    ERROR = "error"  # served, but wrong: an unexpected status (4xx included) or a broken body
    UNAVAILABLE = "unavailable"  # not served: 5xx, 429, timeout, connection/TLS/protocol error


def request_outcome(status: int | None, expected: Iterable[int] | None = None) -> Outcome:
    """The one rule for how a request counts, whatever runner sent it.

    No answer is unavailable; an expected status is OK (a negative check expecting 404 gets OK);
    otherwise 5xx and 429 are unavailable — the platform refused to serve — and any other status
    outside the expected ones is an error. Without ``expected``, below 400 is OK.
    """
    if status is None:
        return Outcome.UNAVAILABLE
    if expected is not None and status in set(expected):
        return Outcome.OK
    if status >= 500 or status == 429:
        return Outcome.UNAVAILABLE
    if expected is None and status < 400:
        return Outcome.OK
    return Outcome.ERROR


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _time(value: datetime | str, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Finding:
    """One thing a check found, with the rule that says how bad it is.

    ``warning``: reported (and alerted) but the check still passes, e.g. 80% of a rate limit used.
    ``latency_only``: the answer was right but too slow, so it counts against the latency
    objective and not as an error.
    """

    rule: Rule
    message: str
    severity: Severity = None  # type: ignore[assignment]  # defaults to the rule's severity
    warning: bool = False
    latency_only: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", Rule.parse(self.rule))
        severity = self.rule.severity if self.severity is None else Severity.parse(self.severity)
        object.__setattr__(self, "severity", severity)
        if not self.message:
            raise ValueError(f"a {self.rule.name} finding needs a message that says what was found")

    @property
    def label(self) -> str:
        """``[P0 SECURITY_BREACH] message``: the form pytest, Allure categories and logs match on."""
        return f"[{self.severity} {self.rule.name}] {self.message}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule.name, "severity": self.severity.value, "message": self.message}
        if self.warning:
            out["warning"] = True
        if self.latency_only:
            out["latency_only"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        return cls(Rule.parse(data["rule"]), str(data["message"]), Severity.parse(data["severity"]),
                   bool(data.get("warning", False)), bool(data.get("latency_only", False)))


@dataclass(frozen=True)
class Traffic:
    """The requests a result stands for, and which of them count toward the SLOs.

    ``requests`` is everything the check sent. ``slo_requests`` of them count toward the SLOs
    (security probes, negative and fuzzed input do not: an expected 401 must not burn the budget);
    ``errors`` and ``unavailable`` (⊆ errors) are among those, and ``latencies_ms`` holds one
    latency per answered SLO-counted request. ``network_ms`` are connect (+ TLS) times on fresh
    connections, from the network check.
    """

    requests: int = 0
    slo_requests: int = 0
    errors: int = 0
    unavailable: int = 0
    latencies_ms: tuple[float, ...] = ()
    network_ms: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not (0 <= self.unavailable <= self.errors <= self.slo_requests <= self.requests):
            raise ValueError(
                "traffic needs 0 ≤ unavailable ≤ errors ≤ slo_requests ≤ requests, got "
                f"{self.unavailable}, {self.errors}, {self.slo_requests}, {self.requests}"
            )
        if len(self.latencies_ms) > self.slo_requests:
            raise ValueError(f"{len(self.latencies_ms)} latencies for {self.slo_requests} SLO-counted requests")
        for ms in (*self.latencies_ms, *self.network_ms):
            if not isinstance(ms, int | float) or ms < 0:
                raise ValueError(f"a latency must be a non-negative number of ms, got {ms!r}")

    @classmethod
    def uncounted(cls, requests: int) -> Traffic:
        """Requests that do not count toward the SLOs (probes, negative and fuzzed input)."""
        return cls(requests=requests)

    @property
    def counts_toward_slo(self) -> bool:
        return self.slo_requests > 0 or bool(self.network_ms)

    def add_to(self, tally: Tally) -> None:
        tally.record(requests=self.slo_requests, errors=self.errors, unavailable=self.unavailable,
                     latencies_ms=self.latencies_ms, network_ms=self.network_ms)

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "slo_requests": self.slo_requests, "errors": self.errors,
                "unavailable": self.unavailable, "latencies_ms": [round(v, 3) for v in self.latencies_ms],
                "network_ms": [round(v, 3) for v in self.network_ms]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Traffic:
        return cls(int(data.get("requests", 0)), int(data.get("slo_requests", 0)), int(data.get("errors", 0)),
                   int(data.get("unavailable", 0)), tuple(float(v) for v in data.get("latencies_ms", ())),
                   tuple(float(v) for v in data.get("network_ms", ())))


@dataclass(frozen=True)
class Attachment:
    """A file a reporter shows beside a result (a load step's chart, a replay script)."""

    name: str
    path: str
    content_type: str = "text/plain"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path, "content_type": self.content_type}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Attachment:
        return cls(str(data["name"]), str(data["path"]), str(data.get("content_type") or "text/plain"))


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: its findings, its traffic and its evidence.

    The status and the findings must agree: a failed or errored result has a failing finding (a
    runner that gives none gets one naming the default rule), a passed one has none.
    """

    check_id: str
    status: Status
    suite: str = ""
    kind: str = "endpoint"
    integration: str | None = None
    operation: str | None = None  # the OpenAPI operationId
    method: str | None = None
    path: str | None = None
    title: str = ""
    findings: tuple[Finding, ...] = ()
    traffic: Traffic = Traffic()
    evidence: tuple[Exchange, ...] = ()
    slo: SLOTarget | None = None
    skip_reason: str | None = None  # skipped or inconclusive: why
    notes: tuple[str, ...] = ()
    attempts: int = 1
    started_at: datetime = field(default_factory=_utcnow)
    duration_ms: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)  # e.g. load step, contract check
    attachments: tuple[Attachment, ...] = ()

    def __post_init__(self) -> None:
        where = f"check {self.check_id!r}"
        if not self.check_id:
            raise ValueError("a result needs a check_id: name the check (e.g. 'stripe · GET /api/stripe/charges')")
        try:
            status = Status(str(self.status).lower())
        except ValueError:
            valid = ", ".join(s.value for s in Status)
            raise ValueError(f"{where}: status {self.status!r} is not one of {valid}") from None
        set_ = object.__setattr__
        set_(self, "status", status)
        if self.attempts < 1:
            raise ValueError(f"{where}: attempts must be 1 or more, got {self.attempts}")
        findings = tuple(self.findings)
        failing = [f for f in findings if not f.warning]
        if status in (Status.FAILED, Status.ERROR) and not failing:
            rule = Rule.CHECK_ERROR if status is Status.ERROR else (
                Rule.INTEGRATION_DEGRADED if self.integration else Rule.OPERATION_FAILED)
            findings += (Finding(rule, self.skip_reason or "the check failed without saying why"),)
        elif status in (Status.PASSED, Status.FLAKY) and failing:
            raise ValueError(f"{where}: a {status} result cannot carry failing findings ({failing[0].label})")
        set_(self, "findings", findings)
        set_(self, "evidence", tuple(self.evidence))
        set_(self, "notes", tuple(self.notes))
        set_(self, "attachments", tuple(self.attachments))
        set_(self, "started_at", _time(self.started_at, where))
        if isinstance(self.slo, Mapping):
            set_(self, "slo", SLOTarget.from_any(self.slo))

    # --- what reports, SLOs and the verdict read ---------------------------------------------------

    @property
    def failures(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.warning)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.warning)

    @property
    def worst(self) -> Finding | None:
        """The most severe failing finding (the first of equals)."""
        failures = self.failures
        return min(failures, key=lambda f: f.severity.rank) if failures else None

    @property
    def rule(self) -> Rule | None:
        worst = self.worst
        return worst.rule if worst else None

    @property
    def severity(self) -> Severity | None:
        worst = self.worst
        return worst.severity if worst else None

    @property
    def is_failure(self) -> bool:
        """Failed or errored (flaky passed in the end; inconclusive decided nothing)."""
        return self.status in (Status.FAILED, Status.ERROR)

    @property
    def error(self) -> str | None:
        """The failing findings' messages, for a human (the findings are the data)."""
        return "; ".join(f.message for f in self.failures) or None

    @property
    def final(self) -> Exchange | None:
        """The last request the check made."""
        return self.evidence[-1] if self.evidence else None

    @property
    def http_status(self) -> int | None:
        return self.final.status if self.final else None

    @property
    def transport_error(self) -> TransportErrorKind | None:
        """Why the last request got no usable answer (a decode error can follow a status line)."""
        final = self.final
        return final.transport if final is not None else None

    @property
    def latency_ms(self) -> float | None:
        return self.final.latency_ms if self.final else None

    # --- serialisation ---------------------------------------------------------------------------

    def to_dict(self, *, evidence: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; derived fields (rule, severity, error, http_status) are written too so
        that a reader of results.jsonl needs no code to see what failed."""
        out: dict[str, Any] = {
            "record": "check",
            "check_id": self.check_id,
            "status": self.status.value,
            "suite": self.suite,
            "kind": self.kind,
            "integration": self.integration,
            "operation": self.operation,
            "method": self.method,
            "path": self.path,
            "title": self.title,
            "rule": self.rule.name if self.rule else None,
            "severity": self.severity.value if self.severity else None,
            "error": self.error,
            "http_status": self.http_status,
            "transport_error": self.transport_error.value if self.transport_error else None,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "findings": [f.to_dict() for f in self.findings],
            "traffic": self.traffic.to_dict(),
            "slo": self.slo.to_dict() if self.slo else None,
            "skip_reason": self.skip_reason,
            "notes": list(self.notes),
            "attempts": self.attempts,
            "started_at": self.started_at.isoformat(),
            "duration_ms": None if self.duration_ms is None else round(self.duration_ms, 3),
            "labels": dict(self.labels),
            "attachments": [a.to_dict() for a in self.attachments],
        }
        if evidence:
            out["evidence"] = [e.to_dict() for e in self.evidence]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        if "check_id" not in data or "status" not in data:
            raise ValueError("a result needs at least 'check_id' and 'status'")
        return cls(
            check_id=str(data["check_id"]),
            status=str(data["status"]),  # type: ignore[arg-type]  # validated in __post_init__
            suite=str(data.get("suite") or ""),
            kind=str(data.get("kind") or "endpoint"),
            integration=data.get("integration"),
            operation=data.get("operation"),
            method=data.get("method"),
            path=data.get("path"),
            title=str(data.get("title") or ""),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", ())),
            traffic=Traffic.from_dict(data.get("traffic") or {}),
            evidence=tuple(Exchange.from_dict(e) for e in data.get("evidence", ())),
            slo=SLOTarget.from_any(data["slo"]) if data.get("slo") else None,
            skip_reason=data.get("skip_reason"),
            notes=tuple(data.get("notes", ())),
            attempts=int(data.get("attempts", 1)),
            started_at=data.get("started_at") or _utcnow(),
            duration_ms=data.get("duration_ms"),
            labels=dict(data.get("labels") or {}),
            attachments=tuple(Attachment.from_dict(a) for a in data.get("attachments", ())),
        )


@dataclass
class Aggregate:
    """Many requests of one scope in one record, for runners that send millions (Locust).

    The scope is (suite, name, integration, operation, step): e.g. one operation during one load
    step. Aggregates of the same scope merge losslessly (the tally's histograms are HdrHistograms),
    so per-worker records add up to what one process would have seen.
    """

    name: str
    suite: str = "load"
    integration: str | None = None
    operation: str | None = None
    step: str | None = None
    tally: Tally = field(default_factory=Tally)
    counts_toward_slo: bool = True
    started_at: datetime = field(default_factory=_utcnow)
    ended_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an aggregate needs a name (e.g. 'GET /api/slack/messages')")
        self.started_at = _time(self.started_at, f"aggregate {self.name!r}")
        if self.ended_at is not None:
            self.ended_at = _time(self.ended_at, f"aggregate {self.name!r}")

    @property
    def key(self) -> tuple[str, str, str | None, str | None, str | None]:
        return (self.suite, self.name, self.integration, self.operation, self.step)

    def merge(self, other: Aggregate) -> None:
        if other.key != self.key:
            raise ValueError(f"cannot merge aggregate {other.key} into {self.key}: different scopes")
        self.tally.merge(other.tally)
        self.started_at = min(self.started_at, other.started_at)
        if other.ended_at is not None:
            self.ended_at = other.ended_at if self.ended_at is None else max(self.ended_at, other.ended_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": "aggregate",
            "name": self.name,
            "suite": self.suite,
            "integration": self.integration,
            "operation": self.operation,
            "step": self.step,
            "counts_toward_slo": self.counts_toward_slo,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "tally": self.tally.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Aggregate:
        return cls(
            name=str(data["name"]),
            suite=str(data.get("suite") or "load"),
            integration=data.get("integration"),
            operation=data.get("operation"),
            step=data.get("step"),
            tally=Tally.from_dict(data["tally"]),
            counts_toward_slo=bool(data.get("counts_toward_slo", True)),
            started_at=data.get("started_at") or _utcnow(),
            ended_at=data.get("ended_at"),
        )


@dataclass(frozen=True)
class Counts:
    """The ``checks`` block of summary.json. ``failed`` includes ``errors`` (also counted on their
    own); total = passed + failed + flaky + skipped + inconclusive."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    flaky: int = 0
    skipped: int = 0
    inconclusive: int = 0
    errors: int = 0

    @property
    def decided(self) -> int:
        """Checks that reached a verdict (passed, flaky or failed)."""
        return self.passed + self.flaky + self.failed

    def to_dict(self) -> dict[str, int]:
        return {"total": self.total, "passed": self.passed, "failed": self.failed, "flaky": self.flaky,
                "skipped": self.skipped, "inconclusive": self.inconclusive, "errors": self.errors}


def count(results: Iterable[CheckResult]) -> Counts:
    """Tally statuses into the summary's ``checks`` block."""
    tally = dict.fromkeys(Status, 0)
    for r in results:
        tally[r.status] += 1
    return Counts(
        total=sum(tally.values()),
        passed=tally[Status.PASSED],
        failed=tally[Status.FAILED] + tally[Status.ERROR],
        flaky=tally[Status.FLAKY],
        skipped=tally[Status.SKIPPED],
        inconclusive=tally[Status.INCONCLUSIVE],
        errors=tally[Status.ERROR],
    )
