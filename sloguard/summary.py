"""The run summary: ``reports/summary.json``, the verdict, the exit code and the human lines.

Every check and load run ends here, whatever produced the results, so the verdict rule lives in one
place: a run fails when any SLO (overall or per integration) is missed or any P0/P1 alert stands;
P2/P3 findings are listed but do not fail it. A run where no check ran also fails — a gate that
tested nothing must not pass.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from sloguard.redact import redact, redact_text
from sloguard.results import CheckResult, Status, count, write_atomic
from sloguard.severity import Rule, Severity
from sloguard.slo import (
    BurnRateAlert,
    ErrorBudget,
    SLOResult,
    SLOTarget,
    evaluate_by_integration,
    evaluate_tally,
    tally,
)

SCHEMA_VERSION = 1
DEFAULT_SUMMARY_PATH = Path("reports/summary.json")
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class SummaryAlert:
    """One line of the summary's ``alerts`` list: what fired, how bad, in one sentence."""

    severity: Severity
    rule: Rule
    summary: str
    check_id: str | None = None
    integration: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity.value, "rule": self.rule.name, "summary": self.summary}
        if self.check_id:
            out["check_id"] = self.check_id
        if self.integration:
            out["integration"] = self.integration
        return out


def failure_alert(result: CheckResult) -> SummaryAlert:
    """The alert line for a failed or errored check: where, what came back, why."""
    label = f"{result.method} {result.path}" if result.method and result.path else result.check_id
    if result.integration:
        label = f"[{result.integration}] {label}"
    if result.http_status is not None:
        label += f" → {result.http_status}"
    elif result.transport_error:
        label += f" → {result.transport_error}"
    if result.error:
        first_line = result.error.strip().splitlines()[0] if result.error.strip() else ""
        if first_line:
            label += f": {_shorten(first_line)}"
    rule = result.rule or Rule.OPERATION_FAILED
    return SummaryAlert(result.severity or rule.severity, rule, label, result.check_id, result.integration)


def slo_alert(slo: SLOResult) -> SummaryAlert:
    """A missed objective is a P1 (SLO_MISSED): it fails the run."""
    integration = None if slo.scope == "overall" else slo.scope
    return SummaryAlert(Rule.SLO_MISSED.severity, Rule.SLO_MISSED, f"SLO missed: {slo.describe()}", None, integration)


def burn_alert(alert: BurnRateAlert) -> SummaryAlert:
    return SummaryAlert(alert.severity, alert.rule.rule, alert.describe())


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


@dataclass(frozen=True)
class Coverage:
    """How much of the catalog the run exercised, and why the rest was not checked."""

    checked: int
    total: int
    reasons: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (0 <= self.checked <= self.total):
            raise ValueError(f"coverage needs 0 ≤ checked ≤ total, got checked={self.checked}, total={self.total}")

    @classmethod
    def from_results(
        cls,
        results: Iterable[CheckResult],
        total: int | None = None,
        reasons: Mapping[str, int] | None = None,
    ) -> Coverage:
        """Count operations (by operationId, else check id) that ran at least one check.

        ``total`` is the catalog size; ``reasons`` counts catalog operations that produced no result
        at all (e.g. {"read-only target": 40}). Operations whose every result was skipped are counted
        under their first skip reason; any remaining gap is counted as "not run".
        """
        ran: set[str] = set()
        skipped: dict[str, str] = {}
        for r in results:
            key = r.operation or r.check_id
            if r.status is Status.SKIPPED:
                skipped.setdefault(key, r.skip_reason or r.error or "skipped")
            else:
                ran.add(key)
        why: Counter[str] = Counter(dict(reasons or {}))
        for key, reason in skipped.items():
            if key not in ran:
                why[reason] += 1
        seen = len(ran | set(skipped))
        catalog = max(total if total is not None else seen, len(ran))
        gap = catalog - len(ran) - sum(why.values())
        if gap > 0:
            why["not run"] += gap
        return cls(checked=len(ran), total=catalog, reasons=dict(sorted(why.items())))

    @classmethod
    def from_any(cls, source: Any) -> Coverage:
        """Accept a Coverage, a mapping {checked, total, reasons}, or any object with ``checked`` and
        ``total`` plus either ``reasons`` (why → count) or ``unchecked`` (operation → why), such as
        the catalog's own coverage record."""
        if isinstance(source, Coverage):
            return source

        def get(name: str) -> Any:
            return source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)

        checked, total = get("checked"), get("total")
        if checked is None or total is None:
            raise ValueError(f"coverage needs 'checked' and 'total', got {type(source).__name__}")
        reasons = get("reasons")
        if reasons is None:
            reasons = Counter(str(why) for why in (get("unchecked") or {}).values())
        return cls(checked=int(checked), total=int(total), reasons=dict(sorted(reasons.items())))

    def to_dict(self) -> dict[str, Any]:
        return {"checked": self.checked, "total": self.total, "reasons": dict(self.reasons)}


def build_summary(
    results: Iterable[CheckResult],
    *,
    suite: str,
    target: str,
    started_at: datetime,
    duration_s: float,
    slo: Any = None,
    target_for: Callable[[str], Any] | None = None,
    coverage: Any = None,
    extra_alerts: Iterable[SummaryAlert | BurnRateAlert] = (),
    slos: Iterable[SLOResult] | None = None,
    fail_on: Severity | str = Severity.P1,
) -> dict[str, Any]:
    """The summary.json document (DESIGN.md §5), already redacted.

    ``slo`` is the overall target (an `SLOTarget`, a mapping or config's SLO model; default: the
    platform defaults); ``target_for(integration)`` gives each integration's target. A runner that
    evaluated its SLOs itself (e.g. over a tally with more requests than results) passes ``slos``
    instead: scope "overall" goes to ``slos``, any other scope to ``integration_slos``.
    ``coverage`` is anything `Coverage.from_any` takes; ``extra_alerts`` carries alerts decided
    elsewhere, e.g. burn-rate alerts from history. ``fail_on`` is the least severe failure that
    fails the verdict (P1 by default: P2/P3 are listed only).
    """
    items = list(results)
    overall_target = SLOTarget.from_any(slo) if slo is not None else SLOTarget()
    overall_tally = tally(items)
    if slos is None:
        overall = evaluate_tally(overall_tally, overall_target)
        per_integration = evaluate_by_integration(items, target_for, default=overall_target)
    else:
        given = list(slos)
        overall = [x for x in given if x.scope == "overall"]
        per_integration = {}
        for x in given:
            if x.scope != "overall":
                per_integration.setdefault(x.scope, []).append(x)
        per_integration = dict(sorted(per_integration.items()))
    counts = count(items)

    alerts: list[SummaryAlert] = [failure_alert(r) for r in items if r.is_failure]
    missed = [s for s in overall if s.met is False]
    missed += [s for slos in per_integration.values() for s in slos if s.met is False]
    alerts += [slo_alert(s) for s in missed]
    for extra in extra_alerts:
        alerts.append(burn_alert(extra) if isinstance(extra, BurnRateAlert) else extra)
    if counts.total - counts.skipped == 0:
        reason = f"no check ran ({counts.skipped} skipped)" if counts.total else "no check ran (none collected)"
        alerts.append(SummaryAlert(Rule.CHECK_ERROR.severity, Rule.CHECK_ERROR, reason))
    alerts.sort(key=lambda a: a.severity.rank)

    threshold = Severity.parse(fail_on)
    failing = any(a.severity.at_least(threshold) for a in alerts)
    budget = (
        ErrorBudget.from_tally(overall_tally, overall_target.availability).to_dict()
        if overall_target.availability is not None
        else None
    )
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "verdict": "fail" if failing else "pass",
        "suite": suite,
        "target": target,
        "started_at": _iso(started_at),
        "duration_s": round(float(duration_s), 3),
        "checks": counts.to_dict(),
        "slos": [s.to_dict() for s in overall],
        "integration_slos": {name: [s.to_dict() for s in slos] for name, slos in per_integration.items()},
        "error_budget": budget,
        "coverage": (Coverage.from_any(coverage) if coverage is not None else Coverage.from_results(items)).to_dict(),
        "alerts": [a.to_dict() for a in alerts],
    }
    return dict(redact(summary))


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def write_summary(summary: Mapping[str, Any], path: str | os.PathLike[str] = DEFAULT_SUMMARY_PATH) -> Path:
    """Redact and write summary.json atomically (readers see the old file or the new one)."""
    text = json.dumps(redact(dict(summary)), indent=2, ensure_ascii=False, default=str) + "\n"
    return write_atomic(path, text)


def write_run_summary(
    reports_dir: str | os.PathLike[str],
    *,
    results: Iterable[CheckResult],
    suite: str,
    target: str,
    started_at: datetime,
    duration_s: float,
    **options: Any,
) -> dict[str, Any]:
    """Build the summary (``options`` as for `build_summary`) and write ``<reports_dir>/summary.json``."""
    summary = build_summary(
        results, suite=suite, target=target, started_at=started_at, duration_s=duration_s, **options
    )
    write_summary(summary, Path(reports_dir) / "summary.json")
    return summary


def exit_code(summary: Mapping[str, Any]) -> int:
    """0 when the verdict is pass, 1 when it is fail (usage/config errors, 2, are the CLI's)."""
    return 0 if summary.get("verdict") == "pass" else 1


_SEVERITY_STYLE = {"P0": "bold red", "P1": "red", "P2": "yellow", "P3": "dim"}


def human_summary(summary: Mapping[str, Any], top: int = 5) -> list[Text]:
    """A few lines for a terminal: verdict, counts, coverage, missed SLOs, the worst failures.

    Text is assembled, not parsed as markup, so a '[bold]' inside an error message stays literal.
    """
    passed = summary.get("verdict") == "pass"
    checks = summary.get("checks", {})
    lines = [
        Text.assemble(
            ("PASS" if passed else "FAIL", "bold green" if passed else "bold red"),
            f"  {summary.get('suite', '')} against {redact_text(str(summary.get('target', '')))}"
            f" in {float(summary.get('duration_s', 0.0)):.1f} s",
        ),
        Text(
            f"checks: {checks.get('total', 0)} total · {checks.get('passed', 0)} passed · "
            f"{checks.get('failed', 0)} failed · {checks.get('flaky', 0)} flaky · {checks.get('skipped', 0)} skipped"
        ),
    ]
    coverage = summary.get("coverage")
    if coverage:
        why = ", ".join(f"{k}: {v}" for k, v in coverage.get("reasons", {}).items())
        line = f"coverage: {coverage.get('checked', 0)}/{coverage.get('total', 0)} operations"
        lines.append(Text(line + (f" (not checked — {why})" if why else "")))
    alerts = list(summary.get("alerts", []))
    for alert in (a for a in alerts if a.get("rule") == Rule.SLO_MISSED.name):
        lines.append(Text.assemble(("SLO ", "red"), redact_text(str(alert.get("summary", "")))))
    others = [a for a in alerts if a.get("rule") != Rule.SLO_MISSED.name]
    for alert in others[:top]:
        sev = str(alert.get("severity", ""))
        lines.append(
            Text.assemble(
                (f"{sev} ", _SEVERITY_STYLE.get(sev, "")),
                (f"{alert.get('rule', '')}  ", "bold"),
                redact_text(str(alert.get("summary", ""))),
            )
        )
    if len(others) > top:
        lines.append(Text(f"… and {len(others) - top} more (see reports/summary.json)", style="dim"))
    return lines


def human_summary_text(summary: Mapping[str, Any], top: int = 5) -> str:
    """The human summary as plain text (logs, CI annotations)."""
    return "\n".join(line.plain for line in human_summary(summary, top))
