"""What a channel is asked to deliver: one alert at one moment, with everything a responder needs.

A `Notification` is the channel-neutral, already-redacted view of an `Alert`: its severity's
response and resolution targets, its runbook, a link to the failing result in the report, and the
kind of message (trigger, repeat, resolve, test). It is what the spool stores, so channels build
their payloads from it at delivery time and no channel secret is ever written to disk.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sloguard.redact import redact, redact_text
from sloguard.severity import Severity

from .model import Alert

TEST_RULE = "SLOGUARD_TEST"
_PLACEHOLDER = re.compile(r"\{(run_id|fingerprint|check_id|rule)\}")


class Kind(enum.StrEnum):
    TRIGGER = "trigger"  # the alert starts firing (or reaches a channel it had not reached)
    REPEAT = "repeat"  # still firing: Alertmanager every run, others after ``repeat_after``
    RESOLVE = "resolve"  # the condition cleared
    TEST = "test"  # `sloguard alerts test`


def describe_delay(delay: timedelta) -> str:
    """0 → 'immediately', 2 h → '2 h', 7 days → '1 week'."""
    seconds = int(delay.total_seconds())
    if seconds <= 0:
        return "immediately"
    if seconds % (7 * 86400) == 0:
        weeks = seconds // (7 * 86400)
        return f"{weeks} week{'s' if weeks > 1 else ''}"
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    return f"{seconds // 60} min"


def report_link(template: str | None, *, run_id: str, fingerprint: str, check_id: str, rule: str) -> str | None:
    """The link to the failing result: ``{run_id}``-style placeholders are filled in; a plain URL
    gets ``#<check id>`` (or ``#<fingerprint>`` for alerts about no single check)."""
    if not template:
        return None
    values = {"run_id": run_id, "fingerprint": fingerprint, "check_id": check_id, "rule": rule}
    if _PLACEHOLDER.search(template):
        return _PLACEHOLDER.sub(lambda m: values[m[1]], template)
    if "#" in template:
        return template
    return f"{template}#{check_id or fingerprint}"


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


def _when(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Notification:
    """One message about one alert. ``id`` is unique per message and stable once spooled, so a
    receiver can drop the duplicate that the crash window of the spool may produce."""

    id: str
    kind: Kind
    fingerprint: str
    rule: str
    severity: Severity
    scope: str
    summary: str
    target: str
    run_id: str
    started_at: datetime
    created_at: datetime
    suite: str = ""
    integration: str | None = None
    details: tuple[str, ...] = ()
    count: int = 1
    check_ids: tuple[str, ...] = ()
    warning: bool = False
    ended_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    runbook_url: str | None = None
    report_url: str | None = None
    description: str = ""

    @classmethod
    def from_alert(
        cls, alert: Alert, kind: Kind, *, runbooks: Mapping[str, str] | None = None,
        report_url: str | None = None, now: datetime | None = None, id: str | None = None,
    ) -> Notification:
        """The notification of ``alert``, redacted: an alert's text comes from responses and may
        quote a credential the platform leaked."""
        books = runbooks or {}
        check_id = alert.check_ids[0] if alert.check_ids else ""
        return cls(
            id=id or uuid.uuid4().hex,
            kind=Kind(kind),
            fingerprint=alert.fingerprint,
            rule=alert.rule.name,
            severity=alert.severity,
            scope=redact_text(alert.scope),
            summary=redact_text(alert.summary),
            target=redact_text(alert.target),
            run_id=alert.run_id,
            started_at=alert.started_at,
            created_at=now or datetime.now(UTC),
            suite=alert.suite,
            integration=alert.integration,
            details=tuple(redact_text(d) for d in alert.details),
            count=alert.count,
            check_ids=tuple(redact_text(c) for c in alert.check_ids),
            warning=alert.warning,
            ended_at=alert.ended_at,
            labels={str(k): redact_text(str(v)) for k, v in alert.labels.items()},
            runbook_url=books.get(alert.rule.name) or books.get("default"),
            report_url=report_link(report_url, run_id=alert.run_id, fingerprint=alert.fingerprint,
                                   check_id=redact_text(check_id), rule=alert.rule.name),
            description=alert.rule.description,
        )

    @classmethod
    def test(cls, target: str, *, runbooks: Mapping[str, str] | None = None, report_url: str | None = None,
             now: datetime | None = None) -> Notification:
        """The message `sloguard alerts test` sends: clearly a test, lowest urgency."""
        moment = now or datetime.now(UTC)
        ident = uuid.uuid4().hex
        books = runbooks or {}
        return cls(
            id=ident, kind=Kind.TEST, fingerprint=f"sloguard-test-{ident[:12]}", rule=TEST_RULE,
            severity=Severity.P3, scope="test", target=redact_text(target), run_id=f"test-{ident[:8]}",
            summary="sloguard test alert: if you can read this, the channel works (no action needed)",
            started_at=moment, created_at=moment, runbook_url=books.get("default"),
            report_url=report_link(report_url, run_id=f"test-{ident[:8]}", fingerprint="test", check_id="",
                                   rule=TEST_RULE),
            description="a test message sent by `sloguard alerts test`",
        )

    # ------------------------------------------------------------ what responders read

    @property
    def resolved(self) -> bool:
        return self.kind is Kind.RESOLVE

    @property
    def response_target(self) -> timedelta:
        return self.severity.response_target

    @property
    def resolution_target(self) -> timedelta:
        return self.severity.resolution_target

    @property
    def state(self) -> str:
        return "resolved" if self.resolved else "firing"

    def title(self) -> str:
        """``P0 PLATFORM_DOWN firing: the platform does not answer`` (one line, no newline)."""
        if self.kind is Kind.TEST:
            return f"sloguard test alert ({self.target})"
        word = {Kind.TRIGGER: "firing", Kind.REPEAT: "still firing", Kind.RESOLVE: "resolved"}[self.kind]
        tag = " (warning)" if self.warning else ""
        return " ".join(f"{self.severity.value} {self.rule}{tag} {word}: {self.summary}".split())

    def labels_for_routing(self) -> dict[str, str]:
        """The labels routes match on (see `sloguard.alerts.routes`)."""
        return {
            **{str(k): str(v) for k, v in self.labels.items()},
            "rule": self.rule, "severity": self.severity.value, "scope": self.scope, "suite": self.suite,
            "integration": self.integration or "", "target": self.target,
            "warning": "true" if self.warning else "false", "state": self.state,
        }

    # ------------------------------------------------------------ storage

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape (the generic webhook's body and the spool's file); redacted."""
        out = asdict(self)
        out["kind"] = self.kind.value
        out["severity"] = self.severity.value
        out["state"] = self.state
        out["details"] = list(self.details)
        out["check_ids"] = list(self.check_ids)
        out["labels"] = dict(self.labels)
        out["started_at"] = _iso(self.started_at)
        out["created_at"] = _iso(self.created_at)
        out["ended_at"] = _iso(self.ended_at)
        out["response_target"] = describe_delay(self.response_target)
        out["resolution_target"] = describe_delay(self.resolution_target)
        out["response_target_s"] = int(self.response_target.total_seconds())
        out["resolution_target_s"] = int(self.resolution_target.total_seconds())
        result: dict[str, Any] = redact(out)
        return result

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        started = _when(data.get("started_at")) or datetime.now(UTC)
        return cls(
            id=str(data["id"]), kind=Kind(data["kind"]), fingerprint=str(data["fingerprint"]),
            rule=str(data["rule"]), severity=Severity.parse(data["severity"]), scope=str(data.get("scope", "")),
            summary=str(data.get("summary", "")), target=str(data.get("target", "")),
            run_id=str(data.get("run_id", "")), started_at=started,
            created_at=_when(data.get("created_at")) or started, suite=str(data.get("suite", "")),
            integration=data.get("integration"), details=tuple(data.get("details") or ()),
            count=int(data.get("count", 1)), check_ids=tuple(data.get("check_ids") or ()),
            warning=bool(data.get("warning", False)), ended_at=_when(data.get("ended_at")),
            labels=dict(data.get("labels") or {}), runbook_url=data.get("runbook_url"),
            report_url=data.get("report_url"), description=str(data.get("description", "")),
        )
