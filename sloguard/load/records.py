"""Load results in the one results model: per-step, per-scope aggregates and one check per step.

This is the only module that knows the results model's classes. Each step becomes:

- one `Aggregate` per operation with its HDR tally (``counts_toward_slo`` when the step measured
  the target: its hold phase, inside the plan's range, with a valid generator), plus one per
  integration and one overall as views that do not count (the operations already partition the
  traffic; counting the views too would count every request three times);
- one `CheckResult` (suite "load", kind "load-step") whose status is the step's verdict — passed,
  failed, inconclusive when the generator was the bottleneck, skipped when the run stopped before
  it — with typed findings and the step's charts attached. Its traffic is `Traffic.uncounted`:
  the aggregates carry the SLO counts.

The run then goes through `sloguard.summary.summarize` and `write_run` like any other suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sloguard.reports import check_baseline, write_allure_metadata
from sloguard.reports.allure_writer import clean, write_allure_results
from sloguard.results import Aggregate, Attachment, CheckResult, Finding, ResultSet, Status, Traffic, request_outcome
from sloguard.slo import Tally
from sloguard.summary import RunSummary, summarize, write_run

if TYPE_CHECKING:
    from .gate import StepResult

SUITE = "load"


def step_check_id(profile: str, step: StepResult) -> str:
    return f"load · {profile} · step {step.index + 1} ({step.label})"


def build_records(profile: str, steps: Sequence[StepResult], *, target: str) -> ResultSet:
    """A `ResultSet` with each step's aggregates and its check result."""
    records = ResultSet()
    for step in steps:
        counted = step.counts_toward_slo
        started = _utc(step.started_at)
        ended = _utc(step.ended_at) if step.ended_at else None
        for scope in step.scopes:
            tally = Tally(requests=scope.tally.requests, errors=scope.tally.errors,
                          unavailable=scope.tally.unavailable, latency=scope.tally.latency)
            operation = scope.key if scope.kind == "operation" else None
            records.add_aggregate(Aggregate(
                name=scope.name, suite=SUITE, integration=scope.integration, operation=operation,
                step=step.label, tally=tally, counts_toward_slo=counted and scope.kind == "operation",
                started_at=started, ended_at=ended,
            ))
        records.add(step_result(profile, step, target=target))
    return records


def step_result(profile: str, step: StepResult, *, target: str) -> CheckResult:
    findings = tuple(Finding(f.rule, f.message, f.severity or f.rule.severity, warning=f.warning)
                     for f in step.findings)
    labels = {"step": step.label, "profile": profile, "users": str(step.users), "group": profile,
              "story": "load step", "rule": "SLO_MISSED"}
    if step.rps is not None:
        labels["rate"] = f"{step.rps:g}/s"
    return CheckResult(
        check_id=step_check_id(profile, step), status=Status(step.status), suite=SUITE, kind="load",
        integration="platform", title=f"{profile} step {step.index + 1}: {step.label} for {step.hold_s:.0f} s",
        findings=findings, traffic=Traffic.uncounted(step.overall.requests),
        skip_reason=step.reason, notes=tuple(step.notes), started_at=_utc(step.started_at),
        duration_ms=step.duration_s * 1000.0, labels=labels,
        attachments=tuple(Attachment(name, str(path), "image/png") for name, path in step.charts),
    )


def write_results(
    profile: str, steps: Sequence[StepResult], *, config: Any, started_at: datetime, duration_s: float,
    reports_dir: Path, extra: dict[str, Any] | None = None, add_to_report: bool = False,
) -> RunSummary:
    """Summarise the run through the engine's summary (baseline included) and write results.jsonl,
    summary.json and the Allure results (one per step, its charts attached). ``add_to_report`` keeps
    the Allure results of other suites already there and writes the load run's files under load/."""
    records = build_records(profile, steps, target=config.target.base_url)
    run = summarize(
        records, suite=SUITE, target=config.target.base_url, started_at=started_at, duration_s=duration_s,
        slo=config.slos.default, target_for=config.slo_for, fail_on=config.checks.fail_on, extra=extra,
        baseline=lambda draft: check_baseline(draft, config.reports.history_path),
    )
    write_run(run, reports_dir / "load" if add_to_report else reports_dir)
    alluredir = Path(config.reports.allure_results_dir)
    if not add_to_report:
        remover = clean(alluredir)
        if remover is not None:
            remover.join(timeout=60)
    write_allure_results(records.snapshot(), alluredir)
    write_allure_metadata(alluredir, target=config.target.base_url, reports_dir=reports_dir,
                          headers=config.target.headers, verify_tls=config.target.verify_tls,
                          overwrite=not add_to_report,
                          extra={"suite": SUITE, "profile": profile, "environment": config.target.environment})
    return run


def _utc(moment: float | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment, UTC)


__all__ = ["build_records", "request_outcome", "step_result", "write_results"]
