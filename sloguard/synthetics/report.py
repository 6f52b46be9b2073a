"""Turning probes into what people read: Allure steps and attachments, result records, summary.json.

Everything here reads exchanges that were redacted when recorded; the SLO attachment and the
summary carry numbers and messages only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import allure
import pytest

from sloguard import redact
from sloguard.http import Exchange
from sloguard.severity import Severity

from .probe import CheckSpec, Probe

if TYPE_CHECKING:
    from sloguard.results import CheckResult
    from sloguard.slo import SLOResult

    from .runner import RunOutcome
    from .session import SyntheticSession

ALLURE_SEVERITY = {
    Severity.P0: allure.severity_level.BLOCKER,
    Severity.P1: allure.severity_level.CRITICAL,
    Severity.P2: allure.severity_level.NORMAL,
    Severity.P3: allure.severity_level.MINOR,
}


def to_allure(spec: CheckSpec, probe: Probe | None) -> None:
    """Labels, one step per request (request, response, curl attached), and the SLO held to."""
    allure.dynamic.epic(spec.integration)
    allure.dynamic.feature(spec.group)
    allure.dynamic.story(spec.story)
    allure.dynamic.title(spec.id)
    severity = probe.rule.severity if probe is not None and probe.rule is not None else spec.rule.severity
    allure.dynamic.severity(ALLURE_SEVERITY[severity])
    allure.dynamic.tag(str(severity))
    allure.dynamic.label("rule", (probe.rule if probe and probe.rule else spec.rule).name)
    if spec.operation_id:
        allure.dynamic.label("operation", spec.operation_id)
    if probe is None:
        return
    detailed = probe.status in ("failed", "flaky")
    for exchange in probe.exchanges:
        with allure.step(exchange.title()):
            if detailed:
                allure.attach(exchange.as_text("request"), "request", allure.attachment_type.TEXT)
                allure.attach(exchange.as_text("response"), "response", allure.attachment_type.TEXT)
                allure.attach(exchange.curl(), "curl", allure.attachment_type.TEXT)
            else:
                # One file per request for passing checks: a green sweep writes ~2,000 exchanges, and
                # three files each made the report cost more than the checks themselves.
                allure.attach(exchange_text(exchange), "request · response · curl", allure.attachment_type.TEXT)
    if probe.slo is not None and spec.kind in ("endpoint", "crud", "action", "health"):
        measured = [e.latency_ms for e in probe.measured]
        held = {"objective": dict(probe.slo), "latency_ms": measured,
                "network_ms": [e.network_ms for e in probe.measured if e.network_ms is not None]}
        allure.attach(json.dumps(held, indent=2), "SLO", allure.attachment_type.JSON)
    if probe.notes or probe.findings:
        lines = [f"{'warning' if f.warning else 'failure'} [{f.severity} {f.rule.name}] {f.message}"
                 for f in probe.findings] + [f"note: {n}" for n in probe.notes]
        allure.attach(redact.redact_text("\n".join(lines)), "findings", allure.attachment_type.TEXT)


def exchange_text(exchange: Exchange) -> str:
    return (f"{exchange.as_text('request')}\n\n--- response ---\n{exchange.as_text('response')}"
            f"\n\n--- curl ---\n{exchange.curl()}\n")


CATEGORIES = Path(__file__).resolve().parents[2] / "reports" / "categories.json"


def allure_extras(alluredir: Path, session: SyntheticSession) -> None:
    """Failure categories (by severity and rule) and the run's environment, for the Allure report."""
    alluredir.mkdir(parents=True, exist_ok=True)
    # The team's own categories (reports/categories.json in the reports folder), else the project's.
    categories = next((p for p in (session.reports_dir / "categories.json", CATEGORIES) if p.is_file()), None)
    (alluredir / "categories.json").write_text(categories.read_text() if categories else json.dumps(DEFAULT_CATEGORIES))
    catalog = session.catalog
    environment = {
        "target": session.config.target.base_url,
        "environment": session.config.target.environment,
        "read_only": str(session.read_only).lower(),
        "api": f"{catalog.title} {catalog.version}" if catalog is not None else "unreachable",
        "operations": str(len(catalog.all_entries)) if catalog is not None else "0",
    }
    (alluredir / "environment.properties").write_text(
        "".join(f"{k}={v}\n" for k, v in environment.items()))


DEFAULT_CATEGORIES = [
    {"name": f"{s} failures", "messageRegex": f".*\\[{s} .*", "matchedStatuses": ["failed"]} for s in Severity
]


def mark_allure_flaky(item: pytest.Item) -> None:
    """Set Allure's flaky flag on the item's result (allure-pytest has no public call for it)."""
    listener = item.config.pluginmanager.get_plugin("allure_listener")
    if listener is None:
        return
    try:
        from allure_commons.model2 import StatusDetails

        uuid = listener._cache.get(item.nodeid)
        result = listener.allure_logger.get_test(uuid)
        if result is not None:
            details = result.statusDetails or StatusDetails()
            details.flaky = True
            details.message = details.message or "passed only on retry"
            result.statusDetails = details
    except Exception:
        return


def to_result(spec: CheckSpec, probe: Probe, suite: str = "synthetics") -> CheckResult:
    from sloguard.results import CheckResult, Status
    from sloguard.slo import SLOTarget

    final = probe.measured[-1] if probe.measured else probe.last
    failures = probe.failures
    worst = probe.rule
    transport = final.error if final is not None and final.status is None else None
    return CheckResult(
        check_id=spec.id,
        status=Status(probe.status),
        suite=suite,
        kind=spec.kind,
        integration=spec.integration,
        operation=spec.operation_id,
        method=spec.method,
        path=spec.path,
        latency_ms=final.latency_ms if final else None,
        # network time comes from the dedicated check (quiet sockets), not from the sweep's exchanges
        network_ms=probe.network_samples[len(probe.network_samples) // 2] if probe.network_samples else None,
        http_status=final.status if final else None,
        transport_error=transport,
        slo=SLOTarget.from_any(probe.slo) if probe.slo else None,
        severity=worst.severity if worst else None,
        rule=worst if worst else None,
        error="; ".join(f.message for f in failures) or None,
        skip_reason=probe.skipped if probe.status == "skipped" else None,
        attempts=1 + probe.retries,
        started_at=datetime.fromtimestamp(probe.started, UTC),
        details={"requests": probe.attempts, "slow_only": bool(failures) and all(f.slow for f in failures),
                 "warnings": [{"rule": w.rule.name, "severity": str(w.severity), "message": w.message}
                              for w in probe.warnings], "notes": probe.notes},
    )


SLO_KINDS = frozenset({"endpoint", "crud", "action", "health"})  # traffic that is meant to succeed


def evaluate_slos(session: SyntheticSession, results: list[CheckResult]) -> list[SLOResult]:
    """Overall and per-integration SLOs over the requests that should succeed (not the probes that
    expect a refusal), each integration against its own objective from the config."""
    from sloguard.slo import SLOTarget, evaluate, evaluate_by_integration

    traffic = [r for r in results if r.kind in SLO_KINDS and r.status != "skipped"]
    config = session.config
    slos = evaluate(traffic, SLOTarget.from_any(config.slos.default))
    for per in evaluate_by_integration(traffic, lambda name: config.slo_for(name)).values():
        slos.extend(per)
    return slos


def write_summary(session: SyntheticSession, outcome: RunOutcome) -> dict[str, Any]:
    """summary.json and results.jsonl under the reports folder; returns the summary."""
    from sloguard import summary as summary_mod
    from sloguard.results import ResultSet

    specs = outcome.plan.by_id()
    results = [to_result(specs[i], p) for i, p in outcome.probes.items() if i in specs]
    coverage = None
    if session.catalog is not None:
        checked = [op for op, spec_id in outcome.plan.covered.items()
                   if spec_id in outcome.probes and outcome.probes[spec_id].status != "skipped"]
        reasons = dict(outcome.plan.reasons)
        for op, spec_id in outcome.plan.covered.items():
            probe = outcome.probes.get(spec_id)
            if probe is not None and probe.status == "skipped":
                reasons[op] = probe.skipped or "skipped"
            elif probe is None:
                reasons.setdefault(op, "not selected")
        coverage = session.catalog.coverage(checked, reasons)
    session.reports_dir.mkdir(parents=True, exist_ok=True)
    ResultSet(results).write_jsonl(session.reports_dir / "results.jsonl")
    summary = summary_mod.build_summary(
        results, suite="synthetics", target=session.config.target.base_url,
        started_at=datetime.fromtimestamp(outcome.started_at, UTC), duration_s=outcome.duration_s,
        slos=evaluate_slos(session, results), coverage=coverage, fail_on=session.config.checks.fail_on,
    )
    warnings = [{"check": r.check_id, **w} for r in results for w in r.details.get("warnings", [])]
    if warnings:  # near-limit conditions: reported for review, they do not fail the run
        summary["warnings"] = warnings
    summary_mod.write_summary(summary, session.reports_dir / "summary.json")
    summary["_path"] = str(session.reports_dir / "summary.json")
    return summary


def human_lines(summary: dict[str, Any]) -> list[str]:
    from sloguard import summary as summary_mod

    return [line.plain for line in summary_mod.human_summary(summary)]
