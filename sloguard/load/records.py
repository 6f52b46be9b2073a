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

import importlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sloguard.results as _results

if TYPE_CHECKING:
    from .gate import StepResult

HAVE_MODEL = hasattr(_results, "Aggregate") and hasattr(_results, "request_outcome")
SUITE = "load"


def _local_request_outcome(status: int | None, expected: Iterable[int] | None = None) -> str:
    """The results model's rule, for engines that predate it: no answer is unavailable, an expected
    status is ok, otherwise 5xx and 429 are unavailable and any other unexpected status an error."""
    if status is None:
        return "unavailable"
    if expected is not None and status in set(expected):
        return "ok"
    if status >= 500 or status == 429:
        return "unavailable"
    if expected is None and status < 400:
        return "ok"
    return "error"


if HAVE_MODEL:
    request_outcome: Any = getattr(_results, "request_outcome")  # noqa: B009
else:
    request_outcome = _local_request_outcome


def _model(name: str) -> Any:
    return getattr(_results, name)


def step_check_id(profile: str, step: StepResult) -> str:
    return f"load · {profile} · step {step.index + 1} ({step.label})"


def build_records(profile: str, steps: Sequence[StepResult], *, target: str) -> Any:
    """A `ResultSet` with each step's aggregates and its check result (needs the results model)."""
    if not HAVE_MODEL:
        raise RuntimeError("needs the new results model (sloguard.results.Aggregate)")
    Aggregate, Tally, ResultSet = _model("Aggregate"), _slo_tally(), _model("ResultSet")
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


def step_result(profile: str, step: StepResult, *, target: str) -> Any:
    Attachment, CheckResult, Finding, Traffic = (_model(n) for n in ("Attachment", "CheckResult", "Finding",
                                                                     "Traffic"))
    findings = tuple(Finding(f.rule, f.message, f.severity, warning=f.warning) for f in step.findings)
    labels = {"step": step.label, "profile": profile, "users": str(step.users)}
    if step.rps is not None:
        labels["rate"] = f"{step.rps:g}/s"
    return CheckResult(
        check_id=step_check_id(profile, step), status=step.status, suite=SUITE, kind="load-step",
        title=f"{profile} step {step.index + 1}: {step.label} for {step.hold_s:.0f} s",
        findings=findings, traffic=Traffic.uncounted(step.overall.requests),
        skip_reason=step.reason, notes=tuple(step.notes), started_at=_utc(step.started_at),
        duration_ms=step.duration_s * 1000.0, labels=labels,
        attachments=tuple(Attachment(name, str(path), "image/png") for name, path in step.charts),
    )


def write_results(
    profile: str, steps: Sequence[StepResult], *, config: Any, started_at: datetime, duration_s: float,
    reports_dir: Path, extra: dict[str, Any] | None = None,
) -> tuple[int, Path] | None:
    """Summarise the run through the engine's summary and write results.jsonl and summary.json.

    Returns (the summary's exit code, the summary path), or None when the engine has no results model.
    """
    if not HAVE_MODEL:
        return None
    summary = importlib.import_module("sloguard.summary")
    records = build_records(profile, steps, target=config.target.base_url)
    run = summary.summarize(
        records, suite=SUITE, target=config.target.base_url, started_at=started_at, duration_s=duration_s,
        slo=config.slos.default, target_for=config.slo_for, fail_on=config.checks.fail_on, extra=extra,
    )
    path = summary.write_run(run, reports_dir)
    return int(run.exit_code), path


def _slo_tally() -> Any:
    return getattr(importlib.import_module("sloguard.slo"), "Tally")  # noqa: B009


def _utc(moment: float | datetime) -> datetime:
    if isinstance(moment, datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment, UTC)


__all__ = ["HAVE_MODEL", "build_records", "request_outcome", "step_result", "write_results"]
