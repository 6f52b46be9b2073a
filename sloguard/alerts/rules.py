"""From findings and SLO misses to alerts: the one place that decides what an on-call engineer sees.

One root cause is one alert. Findings are grouped by (rule, scope), where the rule decides the
scope: the platform as a whole (down, database, auth, 3+ integrations down), one integration (20
failing Slack endpoints are one "Slack degraded" alert listing them), or one check (a data-loss
round trip). A missed SLO is an alert of its own objective and scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sloguard.results import CheckResult, Finding, ResultSet
from sloguard.severity import Rule, Severity, most_severe
from sloguard.slo import BurnRateAlert, SLOResult

from .model import Alert

ScopeKind = Literal["platform", "integration", "check"]

# Which scope each rule's findings are grouped by. Rules not listed group by integration.
SCOPE_OF: dict[Rule, ScopeKind] = {
    Rule.PLATFORM_DOWN: "platform",
    Rule.DATABASE_FAILURE: "platform",
    Rule.AUTH_FAILURE: "platform",
    Rule.HIGH_ERROR_RATE: "platform",
    Rule.INTEGRATIONS_DOWN: "platform",
    Rule.PERFORMANCE_DROP: "platform",
    Rule.TLS_EXPIRY: "platform",
    Rule.NEW_VERSION: "platform",
    Rule.SOAK_GROWTH: "platform",
    Rule.CAPACITY_NEAR: "platform",
    Rule.DATA_LOSS: "check",
}
_MAX_MESSAGE = 300


def scope_for(rule: Rule, result: CheckResult) -> tuple[str, str | None]:
    """(scope, integration) of a finding of ``rule`` on ``result``."""
    kind = SCOPE_OF.get(rule, "integration")
    if kind == "platform":
        return "platform", None
    if kind == "check":
        return f"check:{result.check_id}", result.integration
    if result.integration:
        return f"integration:{result.integration}", result.integration
    return f"suite:{result.suite or 'checks'}", None


def finding_line(result: CheckResult, finding: Finding) -> str:
    """Where, what came back, why: ``[slack] GET /api/slack/messages → 503: took too long``."""
    label = f"{result.method} {result.path}" if result.method and result.path else result.check_id
    if result.integration:
        label = f"[{result.integration}] {label}"
    final = result.final
    if final is not None:
        label += f" → {final.outcome}"
    message = " ".join(finding.message.split())
    if message:
        label += f": {message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + '…'}"
    return label


@dataclass
class _Group:
    rule: Rule
    scope: str
    integration: str | None
    lines: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    severities: list[Severity] = field(default_factory=list)
    warning: bool = True
    suites: list[str] = field(default_factory=list)


def _summary(group: _Group) -> str:
    if len(group.lines) == 1:
        return group.lines[0]
    where = group.scope.split(":", 1)[-1] if group.scope != "platform" else "platform"
    noun = "warnings" if group.warning else "failures"
    return f"{where}: {len(group.lines)} {noun} ({group.rule.name}), first: {group.lines[0]}"


def build_alerts(
    records: ResultSet | Iterable[CheckResult],
    slos: Iterable[SLOResult] = (),
    *,
    target: str,
    run_id: str,
    suite: str = "",
    burn: Iterable[BurnRateAlert] = (),
    extra: Iterable[Alert] = (),
    at: datetime | None = None,
) -> list[Alert]:
    """The firing alerts of one run, most severe first."""
    moment = at or datetime.now(UTC)
    groups: dict[tuple[Rule, str], _Group] = {}
    for result in records:
        for finding in result.findings:
            scope, integration = scope_for(finding.rule, result)
            group = groups.get((finding.rule, scope))
            if group is None:
                group = groups[(finding.rule, scope)] = _Group(finding.rule, scope, integration)
            group.lines.append(finding_line(result, finding))
            group.checks.append(result.check_id)
            group.severities.append(finding.severity)
            group.warning = group.warning and finding.warning
            group.suites.append(result.suite)
    alerts = [
        Alert(rule=g.rule, scope=g.scope, summary=_summary(g), target=target, run_id=run_id,
              severity=most_severe(g.severities) or g.rule.severity, suite=_one(g.suites) or suite,
              integration=g.integration, details=tuple(g.lines), count=len(g.lines),
              check_ids=tuple(dict.fromkeys(g.checks)), warning=g.warning, started_at=moment)
        for g in groups.values()
    ]
    for slo in slos:
        if slo.met is False:
            integration = None if slo.scope == "overall" else slo.scope
            alerts.append(Alert(rule=Rule.SLO_MISSED, scope=f"slo:{slo.scope}:{slo.name}",
                                summary=f"SLO missed: {slo.describe()}", target=target, run_id=run_id,
                                suite=suite, integration=integration, started_at=moment))
    for fired in burn:
        alerts.append(Alert(rule=fired.rule.rule, scope=f"budget:{fired.rule.name}", summary=fired.describe(),
                            target=target, run_id=run_id, suite=suite, started_at=moment))
    alerts.extend(extra)
    return sorted(alerts, key=lambda a: (a.warning, a.severity.rank))


def nothing_ran(counts_total: int, skipped: int, *, target: str, run_id: str, suite: str) -> Alert:
    """A gate that tested nothing must not pass: the alert that says so."""
    reason = f"no check reached a verdict ({counts_total} collected, {skipped} skipped or inconclusive)"
    return Alert(rule=Rule.CHECK_ERROR, scope=f"suite:{suite or 'checks'}", summary=reason, target=target,
                 run_id=run_id, suite=suite)


def _one(values: list[str]) -> str:
    distinct = {v for v in values if v}
    return distinct.pop() if len(distinct) == 1 else ""
