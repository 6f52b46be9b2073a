"""Error budgets and multiwindow, multi-burn-rate alerts (Google SRE workbook, chapter 5)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from sloguard.severity import Rule, Severity

from ._numbers import is_number as _is_number
from .objectives import Tally


def _budget_fraction(objective: float) -> float:
    """1 − objective, rounded so that 1 − 0.999 is 0.001 and not 0.0010000000000000009."""
    if not (_is_number(objective) and 0 < objective <= 1):
        raise ValueError(f"an availability objective must be a fraction in (0, 1] (99.9% is 0.999), got {objective!r}")
    return round(1.0 - objective, 12)


@dataclass(frozen=True)
class ErrorBudget:
    """The error budget of an availability objective over ``total`` requests (or a time window).

    ``remaining`` is the unspent share of the budget: 1.0 untouched, 0 spent, negative overspent.
    ``burn_rate`` is how fast it is spent: 1.0 spends exactly the budget over the SLO period.
    """

    objective: float
    total: int
    bad: int
    window: timedelta | None = None

    def __post_init__(self) -> None:
        _budget_fraction(self.objective)
        if self.total < 0 or self.bad < 0 or self.bad > self.total:
            raise ValueError(f"error budget needs 0 ≤ bad ≤ total, got bad={self.bad}, total={self.total}")

    @property
    def allowed_bad(self) -> float:
        return _budget_fraction(self.objective) * self.total

    @property
    def error_ratio(self) -> float | None:
        return self.bad / self.total if self.total else None

    @property
    def consumed(self) -> float:
        if self.bad == 0:
            return 0.0
        allowed = self.allowed_bad
        return self.bad / allowed if allowed > 0 else math.inf

    @property
    def remaining(self) -> float:
        return 1.0 - self.consumed

    @property
    def burn_rate(self) -> float | None:
        ratio = self.error_ratio
        return None if ratio is None else burn_rate(ratio, self.objective)

    @property
    def allowed_downtime(self) -> timedelta | None:
        """How much full outage the objective allows over the window (99.9 % of 30 d → 43.2 min)."""
        return None if self.window is None else self.window * _budget_fraction(self.objective)

    @classmethod
    def from_tally(cls, counts: Tally, objective: float, window: timedelta | None = None) -> ErrorBudget:
        return cls(objective=objective, total=counts.requests, bad=counts.unavailable, window=window)

    def to_dict(self) -> dict[str, Any]:
        remaining = self.remaining
        return {
            "objective": self.objective,
            "requests": self.total,
            "failures": self.bad,
            "allowed_failures": round(self.allowed_bad, 6),
            "remaining": None if math.isinf(remaining) else round(remaining, 6),
            "burn_rate": None if self.burn_rate is None or math.isinf(self.burn_rate) else round(self.burn_rate, 6),
            "window_s": None if self.window is None else self.window.total_seconds(),
        }


def burn_rate(error_ratio: float, objective: float) -> float:
    """Error ratio over the budget fraction: 1.0 spends the budget exactly over the SLO period."""
    if not (_is_number(error_ratio) and 0 <= error_ratio <= 1):
        raise ValueError(f"an error ratio must be a fraction in [0, 1], got {error_ratio!r}")
    budget = _budget_fraction(objective)
    if budget == 0:
        return math.inf if error_ratio > 0 else 0.0
    return error_ratio / budget


# --- multiwindow, multi-burn-rate alerts (Google SRE workbook, ch. 5) ----------------------------

BurnAction = Literal["page", "ticket"]
SLO_PERIOD = timedelta(days=30)


def time_to_exhaustion(rate: float, period: timedelta = SLO_PERIOD) -> timedelta | None:
    """How long a whole period's budget lasts at a steady burn rate (1× → the period; 0 → never)."""
    if not (_is_number(rate) and rate >= 0):
        raise ValueError(f"a burn rate must be a non-negative number, got {rate!r}")
    return None if rate == 0 else period / rate


@dataclass(frozen=True)
class BurnRateRule:
    """Fire when both the long and the short window burn faster than ``factor``.

    The long window makes the alert significant; the short one makes it stop soon after the
    burning stops.
    """

    long_window: timedelta
    short_window: timedelta
    factor: float
    action: BurnAction

    @property
    def rule(self) -> Rule:
        return Rule.BUDGET_BURN_FAST if self.action == "page" else Rule.BUDGET_BURN_SLOW

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def name(self) -> str:
        return f"{self.action} {self.factor:g}x over {_fmt_window(self.long_window)}/{_fmt_window(self.short_window)}"

    def threshold(self, objective: float) -> float:
        """The error ratio above which this rule fires."""
        return self.factor * _budget_fraction(objective)

    def budget_consumed(self, period: timedelta = SLO_PERIOD) -> float:
        """Share of the period's budget spent by the time the long window alone would fire."""
        return self.factor * (self.long_window / period)

    def detection_time(self, error_ratio: float, objective: float) -> timedelta | None:
        """How long a steady ``error_ratio`` takes to fire this rule; None if it never does."""
        threshold = self.threshold(objective)
        if error_ratio <= threshold:
            return None
        return self.long_window * (threshold / error_ratio)


DEFAULT_BURN_RATE_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(timedelta(hours=1), timedelta(minutes=5), 14.4, "page"),
    BurnRateRule(timedelta(hours=6), timedelta(minutes=30), 6.0, "page"),
    BurnRateRule(timedelta(days=1), timedelta(hours=2), 3.0, "ticket"),
    BurnRateRule(timedelta(days=3), timedelta(hours=6), 1.0, "ticket"),
)


@dataclass(frozen=True)
class BurnRateAlert:
    """A rule that fired, with the error ratios and burn rates that made it fire."""

    rule: BurnRateRule
    objective: float
    long_ratio: float
    short_ratio: float

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def long_burn(self) -> float:
        return burn_rate(self.long_ratio, self.objective)

    @property
    def short_burn(self) -> float:
        return burn_rate(self.short_ratio, self.objective)

    def describe(self) -> str:
        return (
            f"error budget burn {self.long_burn:.1f}x over {_fmt_window(self.rule.long_window)} and "
            f"{self.short_burn:.1f}x over {_fmt_window(self.rule.short_window)} "
            f"(limit {self.rule.factor:g}x, objective {self.objective:.3%}) — {self.rule.action}"
        )


Observations = Mapping[timedelta, float] | Iterable[tuple[timedelta | float, float]]


def evaluate_burn_rates(
    observations: Observations,
    objective: float,
    rules: Iterable[BurnRateRule] = DEFAULT_BURN_RATE_RULES,
) -> list[BurnRateAlert]:
    """Which burn-rate rules fire, given the error ratio measured over each window.

    ``observations`` maps a window (timedelta, or seconds) to the error ratio over that window.
    A rule whose two windows are not both observed cannot fire. Fired alerts come back pages first.
    """
    items = observations.items() if isinstance(observations, Mapping) else observations
    ratios: dict[timedelta, float] = {}
    for window, ratio in items:
        key = window if isinstance(window, timedelta) else timedelta(seconds=float(window))
        if not (_is_number(ratio) and 0 <= ratio <= 1):
            raise ValueError(f"error ratio over {_fmt_window(key)} must be a fraction in [0, 1], got {ratio!r}")
        ratios[key] = float(ratio)
    fired: list[BurnRateAlert] = []
    for rule in rules:
        if rule.long_window not in ratios or rule.short_window not in ratios:
            continue
        threshold = rule.threshold(objective)
        long_ratio, short_ratio = ratios[rule.long_window], ratios[rule.short_window]
        if long_ratio > threshold and short_ratio > threshold:
            fired.append(BurnRateAlert(rule, objective, long_ratio, short_ratio))
    return sorted(fired, key=lambda a: a.severity.rank)


def _fmt_window(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
