"""Severities P0–P3 and the catalogue of alert rules (DESIGN.md section 7).

Every failure names one `Rule`; the rule carries its severity, so routing (P0 → on-call, P1 → team)
and the release verdict (`sloguard.verdict`: failures at or above ``checks.fail_on`` fail it) read
the same number.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import timedelta


class Severity(enum.StrEnum):
    """P0 is the most severe. Members sort by urgency: ``Severity.P0 < Severity.P3``."""

    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 for P0 … 3 for P3 (lower is more severe)."""
        return int(self.value[1])

    @property
    def response_target(self) -> timedelta:
        """How soon someone must respond (the platform plan: P0 at once, P1 2 h, P2 8 h, P3 24 h)."""
        return _RESPONSE[self]

    @property
    def resolution_target(self) -> timedelta:
        """How soon it must be resolved (P0 1 h, P1 4 h, P2 24 h, P3 one week)."""
        return _RESOLUTION[self]

    def at_least(self, other: Severity) -> bool:
        """True when this severity is as urgent as ``other`` or more (P0.at_least(P1) is True)."""
        return self.rank <= other.rank

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """Accept 'P1', 'p1' or a Severity; reject anything else with a one-line message."""
        if isinstance(value, Severity):
            return value
        text = str(value).strip().upper()
        try:
            return cls(text)
        except ValueError:
            raise ValueError(f"unknown severity {value!r}: use one of P0, P1, P2, P3") from None


_RESPONSE = {
    Severity.P0: timedelta(0),
    Severity.P1: timedelta(hours=2),
    Severity.P2: timedelta(hours=8),
    Severity.P3: timedelta(hours=24),
}
_RESOLUTION = {
    Severity.P0: timedelta(hours=1),
    Severity.P1: timedelta(hours=4),
    Severity.P2: timedelta(hours=24),
    Severity.P3: timedelta(weeks=1),
}


def most_severe(severities: Iterable[Severity | None]) -> Severity | None:
    """The most urgent severity in ``severities`` (None entries ignored); None when there is none."""
    present = [s for s in severities if s is not None]
    return min(present, key=lambda s: s.rank) if present else None


# Thresholds named by the monitoring plan, so checks and rules quote the same numbers.
SLOW_OPERATION_S = 2.0  # P1: an operation slower than this
HIGH_ERROR_RATE = 0.05  # P0: error rate above this …
HIGH_ERROR_RATE_SUSTAINED_S = 300.0  # … sustained this long
INTEGRATIONS_DOWN_AT_ONCE = 3  # P0: this many integrations down together
PERFORMANCE_DROP_RATIO = 0.5  # P0: throughput/latency more than 50 % worse than baseline
RESPONSE_TIME_REGRESSION_RATIO = 1.0  # P1: response time more than 100 % above baseline
NEAR_LIMIT_RATIO = 0.8  # P1: 80 % of a rate limit or of capacity
TLS_EXPIRY_DAYS = 30  # P2: certificate expires within this many days


class Rule(enum.Enum):
    """A named alert condition. ``rule.severity`` and ``rule.description`` come with it."""

    # P0 — immediate response
    PLATFORM_DOWN = (Severity.P0, "the platform does not answer at all")
    DATABASE_FAILURE = (Severity.P0, "the database health check fails")
    AUTH_FAILURE = (Severity.P0, "the token endpoint or JWT validation is broken")
    HIGH_ERROR_RATE = (Severity.P0, "error rate above 5% sustained for 5 minutes or more")
    INTEGRATIONS_DOWN = (Severity.P0, "3 or more integrations are down at once")
    DATA_LOSS = (Severity.P0, "a synced record never arrives or arrives corrupted")
    SECURITY_BREACH = (
        Severity.P0,
        "a protected operation answers without valid credentials, or a forged/expired/alg-none token works",
    )
    PERFORMANCE_DROP = (Severity.P0, "performance dropped more than 50% against the baseline")
    BUDGET_BURN_FAST = (Severity.P0, "error budget burning fast enough to page (14.4x/1 h or 6x/6 h)")
    # P1 — business-hours response
    RESPONSE_TIME_REGRESSION = (Severity.P1, "response time more than 100% above its baseline")
    SOAK_GROWTH = (Severity.P1, "memory or latency grows steadily during a soak run")
    SLOW_OPERATION = (Severity.P1, "an operation took longer than 2 s")
    INTEGRATION_DEGRADED = (Severity.P1, "one integration is slow or failing")
    RATE_LIMIT_NEAR = (Severity.P1, "80% of a rate limit reached")
    RATE_LIMITED = (Severity.P1, "the platform refused requests with 429 (rate limited)")
    CAPACITY_NEAR = (Severity.P1, "80% of capacity (CPU, memory, connections) reached")
    SLO_MISSED = (Severity.P1, "a service level objective was not met over the run")
    BUDGET_BURN_SLOW = (Severity.P1, "error budget burning fast enough for a ticket (3x/1 d or 1x/3 d)")
    OPERATION_FAILED = (Severity.P1, "an operation answered with an unexpected status or body")
    CHECK_ERROR = (Severity.P1, "a check could not run to a verdict (setup or harness error)")
    CONTRACT_BREAKING = (
        Severity.P1,
        "a release breaks what clients rely on (removed operation or status, new required input, changed auth)",
    )
    # P2 — scheduled review
    TLS_EXPIRY = (Severity.P2, "the TLS certificate expires within 30 days")
    CONTRACT_DRIFT = (Severity.P2, "the API drifted from its contract (an answer off its schema or status codes)")
    NEW_VERSION = (Severity.P2, "a new platform version was seen")
    # P3 — low priority
    COSMETIC_CONTRACT = (Severity.P3, "cosmetic contract issue (undocumented header, example that does not validate)")

    def __init__(self, severity: Severity, description: str) -> None:
        self.severity = severity
        self.description = description

    def __str__(self) -> str:
        return self.name

    @classmethod
    def parse(cls, value: str | Rule) -> Rule:
        """Accept a rule name (any case) or a Rule; reject unknown names listing the valid ones."""
        if isinstance(value, Rule):
            return value
        key = str(value).strip().upper().replace("-", "_")
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(r.name for r in cls)
            raise ValueError(f"unknown alert rule {value!r}: use one of {names}") from None


def rules_of(severity: Severity) -> list[Rule]:
    """The catalogue's rules at one severity, in declaration order."""
    return [r for r in Rule if r.severity is severity]
