"""What an alert is: a rule that fired for one scope of one target, in one run.

Alerts are the input of routing and channels (`sloguard.alerts.routes`, `sloguard.alerts.channels`)
and of the summary's ``alerts`` list. They know nothing of runners: `sloguard.alerts.rules` builds
them from findings and SLO misses. The fingerprint is stable across runs — target, rule and scope,
never a message or a count — so channels can deduplicate and resolve (PagerDuty's ``dedup_key``,
Alertmanager's label set).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sloguard.severity import Rule, Severity

MAX_DETAILS = 20  # finding lines kept per alert; ``count`` says how many there were in all


class AlertState(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


def target_key(target: str) -> str:
    """The part of a target URL that names the deployment: scheme, host, port and base path."""
    parts = urlsplit(target.strip())
    if not parts.scheme:
        return target.strip().rstrip("/").lower()
    return f"{parts.scheme}://{(parts.netloc or '').lower()}{parts.path.rstrip('/')}"


def fingerprint(target: str, rule: Rule, scope: str) -> str:
    """A stable id for (deployment, rule, scope): the same condition in the next run has the same one."""
    text = "\x1f".join((target_key(target), rule.name, scope))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Alert:
    """One alert. ``scope`` says what it is about: ``platform``, ``integration:<name>``,
    ``check:<check id>``, ``slo:<overall|integration>:<objective>``, ``suite:<name>`` or
    ``budget:<burn rule>``.

    ``warning`` alerts (e.g. 80% of a rate limit used) are routed like the others but never fail
    a run. ``details`` holds up to `MAX_DETAILS` lines, one per finding behind the alert.
    """

    rule: Rule
    scope: str
    summary: str
    target: str
    run_id: str
    severity: Severity = None  # type: ignore[assignment]  # defaults to the rule's severity
    suite: str = ""
    integration: str | None = None
    details: tuple[str, ...] = ()
    count: int = 1
    check_ids: tuple[str, ...] = ()
    warning: bool = False
    state: AlertState = AlertState.FIRING
    started_at: datetime = field(default_factory=_utcnow)
    ended_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rule", Rule.parse(self.rule))
        severity = self.rule.severity if self.severity is None else Severity.parse(self.severity)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "state", AlertState(self.state))
        object.__setattr__(self, "details", tuple(self.details)[:MAX_DETAILS])
        object.__setattr__(self, "check_ids", tuple(self.check_ids))
        if not self.scope:
            raise ValueError(f"a {self.rule.name} alert needs a scope (what it is about)")

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.target, self.rule, self.scope)

    @property
    def firing(self) -> bool:
        return self.state is AlertState.FIRING

    def resolve(self, run_id: str, at: datetime | None = None) -> Alert:
        """The resolve notification for this alert, from the run that saw it pass again."""
        return replace(self, state=AlertState.RESOLVED, run_id=run_id, ended_at=at or _utcnow())

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity.value,
            "rule": self.rule.name,
            "summary": self.summary,
            "scope": self.scope,
            "fingerprint": self.fingerprint,
            "state": self.state.value,
            "count": self.count,
            "target": self.target,
            "run_id": self.run_id,
            "suite": self.suite,
            "started_at": self.started_at.isoformat(),
        }
        if self.integration:
            out["integration"] = self.integration
        if self.warning:
            out["warning"] = True
        if self.details:
            out["details"] = list(self.details)
        if self.check_ids:
            out["check_ids"] = list(self.check_ids[:MAX_DETAILS])
        if self.ended_at is not None:
            out["ended_at"] = self.ended_at.isoformat()
        if self.labels:
            out["labels"] = dict(self.labels)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Alert:
        def when(value: Any) -> datetime | None:
            if value is None:
                return None
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

        return cls(
            rule=Rule.parse(data["rule"]),
            scope=str(data["scope"]),
            summary=str(data.get("summary", "")),
            target=str(data.get("target", "")),
            run_id=str(data.get("run_id", "")),
            severity=Severity.parse(data["severity"]) if data.get("severity") else None,  # type: ignore[arg-type]
            suite=str(data.get("suite", "")),
            integration=data.get("integration"),
            details=tuple(data.get("details", ())),
            count=int(data.get("count", 1)),
            check_ids=tuple(data.get("check_ids", ())),
            warning=bool(data.get("warning", False)),
            state=AlertState(data.get("state", "firing")),
            started_at=when(data.get("started_at")) or _utcnow(),
            ended_at=when(data.get("ended_at")),
            labels=dict(data.get("labels") or {}),
        )
