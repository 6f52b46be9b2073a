"""The SLO population: which results' requests count, and the tallies the SLOs are measured over.

This is the policy side of the SLO maths (`sloguard.slo` holds the arithmetic): every SLO figure
of a run — objectives, error budget, per-integration SLOs — comes from the tallies built here,
so one document never shows two populations. A result contributes its SLO-counted requests
(`Traffic.slo_requests`); an aggregate contributes its whole tally when it counts toward the SLOs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sloguard.slo import SLOResult, SLOTarget, Tally, evaluate_tally

from .model import Aggregate, CheckResult
from .store import ResultSet

OVERALL = "overall"


@dataclass
class Population:
    """The tallies of one run: overall and per integration."""

    overall: Tally = field(default_factory=Tally)
    by_integration: dict[str, Tally] = field(default_factory=dict)

    def _scope(self, integration: str | None) -> Tally | None:
        if not integration:
            return None
        tally = self.by_integration.get(integration)
        if tally is None:
            tally = self.by_integration[integration] = Tally()
        return tally

    def add_result(self, result: CheckResult) -> None:
        traffic = result.traffic
        if not traffic.counts_toward_slo:
            return
        traffic.add_to(self.overall)
        scoped = self._scope(result.integration)
        if scoped is not None:
            traffic.add_to(scoped)

    def add_aggregate(self, aggregate: Aggregate) -> None:
        if not aggregate.counts_toward_slo:
            return
        self.overall.merge(aggregate.tally)
        scoped = self._scope(aggregate.integration)
        if scoped is not None:
            scoped.merge(aggregate.tally)

    def evaluate(
        self,
        overall: SLOTarget,
        target_for: Callable[[str], Any] | None = None,
    ) -> tuple[list[SLOResult], dict[str, list[SLOResult]]]:
        """The overall SLOs and each integration's, against its own target (``target_for(name)``).

        An integration is listed only when it has SLO-counted requests; its network objective only
        when it has connect-time samples (network time is the path to the target, measured once).
        """
        results = evaluate_tally(self.overall, overall, OVERALL)
        per: dict[str, list[SLOResult]] = {}
        for name in sorted(self.by_integration):
            tally = self.by_integration[name]
            if tally.requests == 0 and tally.network.count == 0:
                continue
            target = SLOTarget.from_any(target_for(name)) if target_for is not None else overall
            evaluated = evaluate_tally(tally, target, name)
            per[name] = [s for s in evaluated if s.name != "network_ms" or tally.network.count]
        return results, per


def population(records: ResultSet | Iterable[CheckResult]) -> Population:
    """The SLO population of a run's records (check results and aggregates)."""
    out = Population()
    for result in records:
        out.add_result(result)
    if isinstance(records, ResultSet):
        for aggregate in records.aggregates():
            out.add_aggregate(aggregate)
    return out
