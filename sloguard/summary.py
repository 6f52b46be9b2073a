"""The run summary: ``reports/summary.json``, its alerts and verdict, and the human lines.

Every check and load run ends here, whatever produced the records. The SLOs, the error budget
and the counts come from one population (`sloguard.results.population`), the alerts from
`sloguard.alerts.rules`, and the verdict from `sloguard.verdict` — so the document never shows
two populations and the verdict rule lives in one place.
"""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text

from sloguard.alerts import Alert, build_alerts, nothing_ran
from sloguard.redact import redact, redact_text
from sloguard.results import CheckResult, ResultSet, Status, count, population, write_atomic
from sloguard.severity import Rule, Severity
from sloguard.slo import BurnRateAlert, ErrorBudget, SLOTarget
from sloguard.verdict import DEFAULT_FAIL_ON, Verdict, decide

SCHEMA_VERSION = 2
DEFAULT_SUMMARY_PATH = Path("reports/summary.json")


def new_run_id(started_at: datetime | None = None) -> str:
    """``20261201T080526Z-3f2a9c1b``: sortable by time, unique across parallel runs."""
    moment = (started_at or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def coverage_of(results: Iterable[CheckResult]) -> dict[str, Any]:
    """Operations (by operationId, else check id) that ran at least one check, and why others did
    not (their first skip reason), for runners that have no catalog coverage of their own."""
    ran: set[str] = set()
    skipped: dict[str, str] = {}
    for r in results:
        key = r.operation or r.check_id
        if r.status is Status.SKIPPED:
            skipped.setdefault(key, r.skip_reason or "skipped")
        else:
            ran.add(key)
    why = Counter(reason for key, reason in skipped.items() if key not in ran)
    return {"checked": len(ran), "total": len(ran | set(skipped)), "reasons": dict(sorted(why.items()))}


@dataclass
class RunSummary:
    """What a run leaves: the summary.json document, its alerts and its verdict."""

    document: dict[str, Any]
    alerts: list[Alert]
    verdict: Verdict
    records: ResultSet

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


def summarize(
    records: ResultSet | Iterable[CheckResult],
    *,
    suite: str,
    target: str,
    started_at: datetime,
    duration_s: float,
    slo: Any = None,
    target_for: Callable[[str], Any] | None = None,
    coverage: Mapping[str, Any] | None = None,
    fail_on: Severity | str = DEFAULT_FAIL_ON,
    run_id: str | None = None,
    burn: Iterable[BurnRateAlert] = (),
    extra_alerts: Iterable[Alert] = (),
    extra: Mapping[str, Any] | None = None,
    baseline: Callable[[Mapping[str, Any]], Iterable[Alert]] | None = None,
) -> RunSummary:
    """The summary of a run (DESIGN.md §5), already redacted.

    ``slo`` is the overall target (an `SLOTarget`, a mapping or config's SLO model; default: the
    platform defaults); ``target_for(integration)`` gives each integration's target. ``coverage``
    is ``{checked, total, reasons}`` from the runner's catalog (else counted from the results).
    ``extra`` adds runner-specific keys (e.g. a contract run's seed). ``baseline`` is given the
    summary without its baseline alerts (its SLO figures) and returns the alerts of comparing them
    with earlier runs (`sloguard.reports.check_baseline`); they join the verdict like any other.
    """
    records = records if isinstance(records, ResultSet) else ResultSet(records)
    results = records.snapshot()
    run_id = run_id or new_run_id(started_at)
    overall_target = SLOTarget.from_any(slo) if slo is not None else SLOTarget()
    pop = population(records)
    overall, per_integration = pop.evaluate(overall_target, target_for)
    counts = count(results)

    slo_results = [*overall, *(s for group in per_integration.values() for s in group)]
    alerts = build_alerts(records, slo_results, target=target, run_id=run_id, suite=suite, burn=burn,
                          extra=extra_alerts)
    if counts.decided == 0:
        alerts.append(nothing_ran(counts.total, counts.skipped + counts.inconclusive, target=target,
                                  run_id=run_id, suite=suite))
    verdict = decide(alerts, counts, fail_on)
    if baseline is not None:
        draft = {"run_id": run_id, "suite": suite, "target": target, "started_at": _iso(started_at),
                 "verdict": verdict.word, "slos": [s.to_dict() for s in overall],
                 "integration_slos": {name: [s.to_dict() for s in group] for name, group in per_integration.items()}}
        found = list(baseline(draft))
        if found:
            alerts = sorted([*alerts, *found], key=lambda a: (a.warning, a.severity.rank))
            verdict = decide(alerts, counts, fail_on)
    budget = (ErrorBudget.from_tally(pop.overall, overall_target.availability).to_dict()
              if overall_target.availability is not None else None)
    suites = records.suites()
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "verdict": verdict.word,
        "fail_on": verdict.fail_on.value,
        "suite": suite,
        "target": target,
        "started_at": _iso(started_at),
        "duration_s": round(float(duration_s), 3),
        "checks": counts.to_dict(),
        "suites": {name: count(r for r in results if r.suite == name).to_dict() for name in suites},
        "slos": [s.to_dict() for s in overall],
        "integration_slos": {name: [s.to_dict() for s in group] for name, group in per_integration.items()},
        "error_budget": budget,
        "coverage": dict(coverage) if coverage is not None else coverage_of(results),
        "alerts": [_alert_line(a) for a in alerts],
        "warnings": [{"check": r.check_id, "rule": w.rule.name, "severity": w.severity.value, "message": w.message}
                     for r in results for w in r.warnings],
    }
    if extra:
        document.update(extra)
    return RunSummary(dict(redact(document)), alerts, verdict, records)


def _alert_line(alert: Alert) -> dict[str, Any]:
    out = alert.to_dict()
    for key in ("target", "run_id", "state", "started_at", "check_ids"):
        out.pop(key, None)
    return out


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def write_summary(summary: Mapping[str, Any], path: str | os.PathLike[str] = DEFAULT_SUMMARY_PATH) -> Path:
    """Redact and write summary.json atomically (readers see the old file or the new one)."""
    text = json.dumps(redact(dict(summary)), indent=2, ensure_ascii=False, default=str) + "\n"
    return write_atomic(path, text)


def write_run(run: RunSummary, reports_dir: str | os.PathLike[str]) -> Path:
    """``results.jsonl`` and ``summary.json`` under ``reports_dir``; returns the summary's path."""
    folder = Path(reports_dir)
    run.records.write_jsonl(folder / "results.jsonl")
    return write_summary(run.document, folder / "summary.json")


_SEVERITY_STYLE = {"P0": "bold red", "P1": "red", "P2": "yellow", "P3": "dim"}


def human_summary(summary: Mapping[str, Any], top: int = 5) -> list[Text]:
    """A few lines for a terminal: verdict, counts, coverage, missed SLOs, the worst alerts.

    Text is assembled, not parsed as markup, so a '[bold]' inside an error message stays literal.
    """
    passed = summary.get("verdict") == "pass"
    checks = summary.get("checks", {})
    lines = [
        Text.assemble(
            ("PASS" if passed else "FAIL", "bold green" if passed else "bold red"),
            f"  {summary.get('suite', '')} against {redact_text(str(summary.get('target', '')))}"
            f" in {float(summary.get('duration_s', 0.0)):.1f} s"
            + (f" (fails on {summary['fail_on']} and above)" if summary.get("fail_on") else ""),
        ),
        Text(
            f"checks: {checks.get('total', 0)} total · {checks.get('passed', 0)} passed · "
            f"{checks.get('failed', 0)} failed · {checks.get('flaky', 0)} flaky · "
            f"{checks.get('inconclusive', 0)} inconclusive · {checks.get('skipped', 0)} skipped"
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
        tag = "warning " if alert.get("warning") else ""
        lines.append(
            Text.assemble(
                (f"{sev} ", _SEVERITY_STYLE.get(sev, "")),
                (f"{tag}{alert.get('rule', '')}  ", "bold"),
                redact_text(str(alert.get("summary", ""))),
            )
        )
    if len(others) > top:
        lines.append(Text(f"… and {len(others) - top} more alerts (see reports/summary.json)", style="dim"))
    return lines


def human_summary_text(summary: Mapping[str, Any], top: int = 5) -> str:
    """The human summary as plain text (logs, CI annotations)."""
    return "\n".join(line.plain for line in human_summary(summary, top))
