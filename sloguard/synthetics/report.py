"""Turning probes into the engine's results, and the run's results into summary.json and Allure.

Everything here reads exchanges that were redacted when recorded. Allure results are written by the
one writer every suite uses (`sloguard.reports.allure_writer`), from the results model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from sloguard.reports import check_baseline, write_allure_metadata

from .probe import CheckSpec, Probe

if TYPE_CHECKING:
    from sloguard.results import CheckResult

    from .runner import RunOutcome
    from .session import SyntheticSession

def allure_extras(alluredir: Path, session: SyntheticSession) -> None:
    """Failure categories, the run's environment and the CI executor, for the Allure report."""
    catalog = session.catalog
    config = session.config
    write_allure_metadata(
        alluredir, target=config.target.base_url, reports_dir=session.reports_dir,
        platform_version=catalog.version if catalog is not None else None, headers=config.target.headers,
        verify_tls=config.target.verify_tls,
        extra={"suite": "synthetics", "environment": config.target.environment,
               "read_only": str(session.read_only).lower(),
               "api": f"{catalog.title} {catalog.version}" if catalog is not None else "unreachable",
               "operations": str(len(catalog.all_entries)) if catalog is not None else "0"},
    )


def to_result(spec: CheckSpec, probe: Probe, suite: str = "synthetics") -> CheckResult:
    """A probe as the engine's result: findings, SLO traffic and evidence, nothing by convention."""
    from sloguard.results import CheckResult, Outcome, Status, Traffic
    from sloguard.slo import SLOTarget

    status = Status(probe.status)
    samples = probe.samples
    errors = sum(1 for s in samples if s.outcome is not Outcome.OK)
    if samples and samples[-1].outcome is Outcome.OK and any(not f.latency_only for f in probe.failures):
        errors += 1  # the last answer had the right status but the check found it wrong (body, schema)
    traffic = Traffic(
        requests=probe.attempts,
        slo_requests=len(samples),
        errors=errors,
        unavailable=sum(1 for s in samples if s.outcome is Outcome.UNAVAILABLE),
        latencies_ms=tuple(s.exchange.latency_ms for s in samples if s.exchange.status is not None),
        network_ms=tuple(probe.network_samples),
    )
    reason = probe.skipped if status is Status.SKIPPED else probe.undecided if status is Status.INCONCLUSIVE else None
    finished = probe.finished or probe.started
    return CheckResult(
        check_id=spec.id,
        status=status,
        suite=suite,
        kind=spec.kind,
        integration=spec.integration,
        operation=spec.operation_id,
        method=spec.method,
        path=spec.path,
        title=spec.title,
        findings=tuple(probe.findings),
        traffic=traffic,
        evidence=tuple(probe.exchanges),
        slo=SLOTarget.from_any(probe.slo) if probe.slo else None,
        skip_reason=reason,
        notes=tuple(probe.notes),
        attempts=1 + probe.retries,
        started_at=datetime.fromtimestamp(probe.started, UTC),
        duration_ms=max(0.0, (finished - probe.started) * 1000),
        labels={"group": spec.group, "story": spec.story, "rule": spec.rule.name},
    )


def team_result(nodeid: str, rep: pytest.TestReport) -> CheckResult:
    """A team's own test in the suite folder, as a result: a failure is an OPERATION_FAILED finding."""
    from sloguard.results import CheckResult, Finding, Status
    from sloguard.severity import Rule

    text = str(rep.longreprtext or "").strip()
    if rep.failed:
        status = Status.FAILED if rep.when == "call" else Status.ERROR
        message = (text.splitlines()[-1] if text else "the test failed")[:500]
        rule = Rule.OPERATION_FAILED if rep.when == "call" else Rule.CHECK_ERROR
        return CheckResult(nodeid, status, suite="synthetics", kind="custom", title=nodeid,
                           findings=(Finding(rule, message),), duration_ms=rep.duration * 1000)
    if rep.skipped:
        reason = text.rsplit("Skipped: ", 1)[-1] if text else "skipped"
        return CheckResult(nodeid, Status.SKIPPED, suite="synthetics", kind="custom", skip_reason=reason[:300])
    return CheckResult(nodeid, Status.PASSED, suite="synthetics", kind="custom", title=nodeid,
                       duration_ms=rep.duration * 1000)


def check_results(outcome: RunOutcome, known: Mapping[str, CheckResult] | None = None) -> list[CheckResult]:
    """Every reported probe of a run as a result; ``known`` holds results already made (by check id)."""
    specs = outcome.plan.by_id()
    known = known or {}
    return [known.get(i) or to_result(specs[i], p) for i, p in outcome.probes.items() if i in specs]


def drift_results(session: SyntheticSession, outcome: RunOutcome) -> list[CheckResult]:
    """What changed in the served description since the last run, when ``checks.drift`` is on."""
    if not (session.config.checks.drift and outcome.reachable):
        return []
    from sloguard.contracts.drift import live_drift  # here: the diff engine is not start-up's cost

    return live_drift(session.target, "synthetics")


def write_summary(session: SyntheticSession, outcome: RunOutcome, results: list[CheckResult]) -> dict[str, Any]:
    """summary.json and results.jsonl of ``results`` (the run's checks, drift, a team's own tests)
    under the reports folder; returns the summary."""
    from sloguard import summary as summary_mod

    coverage = None
    if session.catalog is not None:
        checked = [op for op, spec_id in outcome.plan.covered.items()
                   if spec_id in outcome.probes and outcome.probes[spec_id].status not in ("skipped", "inconclusive")]
        reasons = dict(outcome.plan.reasons)
        for op, spec_id in outcome.plan.covered.items():
            probe = outcome.probes.get(spec_id)
            if probe is not None and probe.status in ("skipped", "inconclusive"):
                reasons[op] = probe.skipped or probe.undecided or "skipped"
            elif probe is None:
                reasons.setdefault(op, "not selected")
        cov = session.catalog.coverage(checked, reasons)
        coverage = {"checked": cov.checked, "total": cov.total,
                    "reasons": dict(sorted(Counter(cov.unchecked.values()).items()))}
    config = session.config
    run = summary_mod.summarize(
        results, suite="synthetics", target=config.target.base_url,
        started_at=datetime.fromtimestamp(outcome.started_at, UTC), duration_s=outcome.duration_s,
        slo=config.slos.default, target_for=config.slo_for, coverage=coverage, fail_on=session.fail_on,
        baseline=lambda draft: check_baseline(draft, config.reports.history_path),
    )
    path = summary_mod.write_run(run, session.reports_dir)
    session.last_run = run
    summary = dict(run.document)
    summary["_path"] = str(path)
    return summary


def human_lines(summary: dict[str, Any]) -> list[str]:
    from sloguard import summary as summary_mod

    return [line.plain for line in summary_mod.human_summary(summary)]
