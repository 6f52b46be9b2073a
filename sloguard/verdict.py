"""The one verdict rule: a run fails when a failure at or above ``checks.fail_on`` stands.

``fail_on`` defaults to P1 (P0/P1 fail a release, P2/P3 are reported) and ``--fail-on`` overrides
it. A missed SLO is a P1 failure (SLO_MISSED). Warnings (e.g. 80% of a rate limit) are alerted but
never fail a run; inconclusive checks decided nothing and fail nothing. A run in which no check
reached a verdict fails whatever ``fail_on`` says: a gate that tested nothing must not pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sloguard.alerts import Alert
from sloguard.results import Counts
from sloguard.severity import Severity

DEFAULT_FAIL_ON = Severity.P1


@dataclass(frozen=True)
class Verdict:
    passed: bool
    fail_on: Severity
    failing: tuple[Alert, ...] = ()
    nothing_decided: bool = False

    @property
    def word(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def decide(alerts: Iterable[Alert], counts: Counts, fail_on: Severity | str = DEFAULT_FAIL_ON) -> Verdict:
    threshold = Severity.parse(fail_on)
    failing = tuple(a for a in alerts if a.firing and not a.warning and a.severity.at_least(threshold))
    nothing = counts.decided == 0
    return Verdict(passed=not failing and not nothing, fail_on=threshold, failing=failing, nothing_decided=nothing)
