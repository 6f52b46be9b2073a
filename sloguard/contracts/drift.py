"""Contract drift as results: the changes between two descriptions become findings, one result per
operation, so Allure, the summary and the alerts see a release's drift like any other check.

A breaking change is a failing finding (CONTRACT_BREAKING at P1, CONTRACT_DRIFT at P2, as the differ
classified it); a compatible one is a warning: reported and alerted for review, never a failed gate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sloguard.catalog import build_catalog
from sloguard.results import CheckResult, Finding, Status
from sloguard.severity import Rule, Severity

from .diff import Change
from .snapshot import check_drift

if TYPE_CHECKING:
    from sloguard.target import Target

SUITE = "contracts"
VERSION_RULES = frozenset({"api-version-changed"})


def finding_of(change: Change) -> Finding:
    """The finding of one change: breaking ones fail, compatible ones warn; a new ``info.version``
    is the plan's "new platform version seen" (P2, for review)."""
    if change.rule_id in VERSION_RULES:
        return Finding(Rule.NEW_VERSION, change.message, warning=True)
    if change.breaking:
        rule = Rule.CONTRACT_BREAKING if change.severity.at_least(Severity.P1) else Rule.CONTRACT_DRIFT
    else:
        rule = Rule.CONTRACT_DRIFT if change.severity.at_least(Severity.P2) else Rule.COSMETIC_CONTRACT
    where = f" ({change.location})" if change.location else ""
    return Finding(rule, f"{change.rule_id}: {change.message}{where}", severity=change.severity,
                   warning=not change.breaking)


def drift_results(
    changes: Iterable[Change],
    *,
    old: str,
    new: str,
    integration_of: Mapping[str, str] | None = None,
    at: datetime | None = None,
) -> list[CheckResult]:
    """One result per operation that changed (document-level changes under "description"),
    ``integration_of`` maps ``"METHOD /path"`` to the operation's integration for grouping."""
    by_operation: dict[str, list[Change]] = {}
    for change in changes:
        by_operation.setdefault(change.operation, []).append(change)
    moment = at or datetime.now(UTC)
    results: list[CheckResult] = []
    for operation, found in by_operation.items():
        method, _, path = operation.partition(" ")
        findings = tuple(finding_of(c) for c in found)
        breaking = any(not f.warning for f in findings)
        label = operation or "description"
        results.append(CheckResult(
            check_id=f"contract drift · {label}",
            status=Status.FAILED if breaking else Status.PASSED,
            suite=SUITE,
            kind="contract",
            integration=(integration_of or {}).get(operation) or "platform",
            method=method or None,
            path=path or None,
            title=f"{label}: {len(found)} change(s) from {old} to {new}",
            findings=findings,
            started_at=moment,
            labels={"group": "drift", "story": "contract drift", "check": "contracts diff"},
        ))
    return results


def live_drift(target: Target, suite: str) -> list[CheckResult]:
    """The served description against the last one seen for this target (kept under the reports
    folder): what changed since, as results of ``suite``; nothing on the first run."""
    catalog = target.catalog
    if catalog is None:
        return []
    drift = check_drift(catalog.spec, target.base_url, target.config.reports.dir)
    if not drift.changes:
        return []
    integration_of: dict[str, str] = {}
    for seen in (build_catalog(drift.previous) if drift.previous is not None else None, catalog):
        if seen is not None:  # the operations a release removed have their integration in the old one
            integration_of.update({f"{e.method} {seen.base_path}{e.path}": e.integration for e in seen.all_entries})
    results = drift_results(drift.changes, old="the description seen last", new="the one served now",
                            integration_of=integration_of)
    return [replace(r, suite=suite) for r in results]
