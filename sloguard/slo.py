"""SLO evaluation: percentiles, error rate, availability, error budgets and burn-rate alerts.

Latencies go into HdrHistogram (3 significant digits, 1 µs to 1 h), which is exact to its bucket
width (1 µs below 2.048 ms, under 0.1 % above) and mergeable, so Locust workers and pytest
workers can each keep one and the totals are the same as if one process had seen everything.

Definitions (the README quotes these):
- requests: attempts that went on the wire (a response, a timeout or a connection error);
  a check with ``attempts`` = n counts n requests, the n−1 retried ones as failed and unavailable.
- error rate = failed requests / requests, where a failed request is a P0/P1 failure
  (a P2/P3 finding such as a cosmetic contract issue does not make a request fail).
- availability = requests that got an answer / requests; 5xx, timeouts and connection errors are
  unavailable, any 4xx is an answer (an expected 4xx from a negative check is also a pass).
- objectives: p95 latency < objective, error rate < objective (an objective of 0 is met by 0),
  availability ≥ objective, network p95 < objective. No requests → measured None and met None
  (unknown, not a miss).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from hdrh.histogram import HdrHistogram

from sloguard.severity import Rule, Severity

if TYPE_CHECKING:
    from sloguard.results import CheckResult

DEFAULT_LATENCY_P95_MS = 500.0
DEFAULT_ERROR_RATE = 0.01
DEFAULT_AVAILABILITY = 0.999
DEFAULT_NETWORK_MS = 100.0


@dataclass(frozen=True)
class SLOTarget:
    """The objectives one check, integration or run is held to. None = no objective for that SLI.

    Plain values so config (pydantic) can build one without this module knowing config's classes.
    """

    latency_p95_ms: float | None = DEFAULT_LATENCY_P95_MS
    error_rate: float | None = DEFAULT_ERROR_RATE
    availability: float | None = DEFAULT_AVAILABILITY
    network_ms: float | None = DEFAULT_NETWORK_MS

    def __post_init__(self) -> None:
        for name in ("latency_p95_ms", "network_ms"):
            value = getattr(self, name)
            if value is not None and not (_is_number(value) and value > 0):
                raise ValueError(f"SLO {name} must be a positive number of milliseconds, got {value!r}")
        if self.error_rate is not None and not (_is_number(self.error_rate) and 0 <= self.error_rate <= 1):
            raise ValueError(f"SLO error_rate must be a fraction in [0, 1] (1% is 0.01), got {self.error_rate!r}")
        if self.availability is not None and not (_is_number(self.availability) and 0 < self.availability <= 1):
            raise ValueError(
                f"SLO availability must be a fraction in (0, 1] (99.9% is 0.999), got {self.availability!r}"
            )

    @classmethod
    def from_any(cls, source: Any) -> SLOTarget:
        """Build from a mapping or any object with the four attributes (e.g. config's SLO model).

        Missing fields take the defaults; an explicit None means "no objective".
        """
        if isinstance(source, SLOTarget):
            return source
        names = ("latency_p95_ms", "error_rate", "availability", "network_ms")
        if isinstance(source, Mapping):
            unknown = set(source) - set(names)
            if unknown:
                raise ValueError(f"unknown SLO field(s) {', '.join(sorted(map(str, unknown)))}: use {', '.join(names)}")
            values = {n: source[n] for n in names if n in source}
        else:
            values = {n: getattr(source, n) for n in names if hasattr(source, n)}
        return cls(**values)

    def to_dict(self) -> dict[str, float | None]:
        return {
            "latency_p95_ms": self.latency_p95_ms,
            "error_rate": self.error_rate,
            "availability": self.availability,
            "network_ms": self.network_ms,
        }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- latency histograms -------------------------------------------------------------------------

_LOWEST_US = 1
_HIGHEST_US = 3_600_000_000  # one hour; slower values are recorded as one hour
_SIGNIFICANT_FIGURES = 3


class LatencyHistogram:
    """Latencies in milliseconds, stored as whole microseconds in an HdrHistogram.

    Percentiles use the nearest-rank definition (the value at rank ⌈p/100 · N⌉), reported as the
    highest value equivalent to that bucket, capped at the exact largest value recorded — so p100
    is the true maximum and a percentile is never reported lower than the value it stands for.
    """

    def __init__(self) -> None:
        self._hist = HdrHistogram(_LOWEST_US, _HIGHEST_US, _SIGNIFICANT_FIGURES)
        self._lock = threading.Lock()
        self._max_us = 0  # exact, unlike the histogram's bucket-rounded max
        self._min_us = 0
        self.clamped = 0  # values above one hour, recorded as one hour

    def record(self, ms: float, count: int = 1) -> None:
        if not _is_number(ms) or ms < 0:
            raise ValueError(f"a latency must be a non-negative number of ms, got {ms!r}")
        us = max(_LOWEST_US, round(ms * 1000))
        with self._lock:
            if us > _HIGHEST_US:
                us = _HIGHEST_US
                self.clamped += count
            self._hist.record_value(us, count)
            self._track(us, us)

    def _track(self, low_us: int, high_us: int) -> None:
        self._max_us = max(self._max_us, high_us)
        self._min_us = low_us if self._min_us == 0 else min(self._min_us, low_us)

    @property
    def count(self) -> int:
        return int(self._hist.get_total_count())

    def percentile(self, p: float) -> float | None:
        """The p-th percentile in ms (0 < p ≤ 100), or None when nothing was recorded."""
        if not (0 < p <= 100):
            raise ValueError(f"a percentile must be in (0, 100], got {p!r}")
        with self._lock:
            total = self._hist.get_total_count()
            if total == 0:
                return None
            rank = max(1, math.ceil(Fraction(str(p)) * total / 100))
            counts = self._hist.counts
            seen = 0
            for index in range(self._hist.counts_len):
                seen += counts[index]
                if seen >= rank:
                    value = self._hist.get_highest_equivalent_value(self._hist.get_value_from_index(index))
                    return int(min(value, self._max_us)) / 1000.0
        raise AssertionError("histogram counts are inconsistent with its total")  # pragma: no cover

    @property
    def max_ms(self) -> float | None:
        return self._max_us / 1000.0 if self.count else None

    @property
    def min_ms(self) -> float | None:
        return self._min_us / 1000.0 if self.count else None

    def merge(self, other: LatencyHistogram) -> None:
        """Add ``other``'s values into this one (e.g. a Locust worker's histogram into the master's)."""
        self._merge_blob(other.encode())

    def encode(self) -> str:
        """A compact text form to send between processes: exact min/max, then the HdrHistogram
        V2 'histoblob' (base64)."""
        with self._lock:
            blob = self._hist.encode().decode("ascii")
            return f"{self._min_us}:{self._max_us}:{self.clamped}:{blob}"

    @classmethod
    def decode(cls, text: str) -> LatencyHistogram:
        hist = cls()
        if text:
            hist._merge_blob(text)
        return hist

    def _merge_blob(self, text: str) -> None:
        try:
            low, high, clamped, blob = text.split(":", 3)
            incoming = HdrHistogram.decode(blob)
            low_us, high_us, n_clamped = int(low), int(high), int(clamped)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an encoded latency histogram ({exc})") from None
        if incoming.get_total_count() == 0:
            return
        with self._lock:
            self._hist.add(incoming)
            self._track(low_us, high_us)
            self.clamped += n_clamped


# --- tallies and SLO results -------------------------------------------------------------------


@dataclass
class Tally:
    """The counts and histograms an SLO evaluation needs; mergeable across workers and runs."""

    requests: int = 0
    failed: int = 0
    unavailable: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    network: LatencyHistogram = field(default_factory=LatencyHistogram)

    def record(
        self,
        *,
        failed: bool,
        unavailable: bool,
        latency_ms: float | None = None,
        network_ms: float | None = None,
        retried: int = 0,
    ) -> None:
        """One request (plus ``retried`` earlier attempts that failed transiently)."""
        self.requests += 1 + retried
        self.failed += retried + (1 if failed else 0)
        self.unavailable += retried + (1 if unavailable else 0)
        if latency_ms is not None:
            self.latency.record(latency_ms)
        if network_ms is not None:
            self.network.record(network_ms)

    def add_result(self, result: CheckResult) -> None:
        """Count one check result; results that never went on the wire are not requests."""
        if not result.reached_network:
            return
        self.record(
            # a correct answer that was only too slow counts in the latency objective, not as an error
            failed=result.blocks_release and not result.details.get("slow_only", False),
            unavailable=result.unavailable,
            latency_ms=result.latency_ms,
            network_ms=result.network_ms,
            retried=result.retried_attempts,
        )

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.failed += other.failed
        self.unavailable += other.unavailable
        self.latency.merge(other.latency)
        self.network.merge(other.network)

    @property
    def error_rate(self) -> float | None:
        return self.failed / self.requests if self.requests else None

    @property
    def availability(self) -> float | None:
        return (self.requests - self.unavailable) / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "failed": self.failed,
            "unavailable": self.unavailable,
            "latency": self.latency.encode(),
            "network": self.network.encode(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            requests=int(data["requests"]),
            failed=int(data["failed"]),
            unavailable=int(data["unavailable"]),
            latency=LatencyHistogram.decode(str(data.get("latency", ""))),
            network=LatencyHistogram.decode(str(data.get("network", ""))),
        )


def tally(results: Iterable[CheckResult]) -> Tally:
    out = Tally()
    for r in results:
        out.add_result(r)
    return out


@dataclass(frozen=True)
class SLOResult:
    """One objective against its measurement. ``met`` is None when there was nothing to measure."""

    name: str
    objective: float
    measured: float | None
    met: bool | None
    samples: int = 0
    scope: str = "overall"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "objective": self.objective,
            "measured": self.measured,
            "met": self.met,
            "samples": self.samples,
        }

    def describe(self) -> str:
        """'availability 99.20% (objective ≥ 99.90%)' — for alerts and the human summary."""
        where = "" if self.scope == "overall" else f"[{self.scope}] "
        if self.name in ("error_rate", "availability"):
            op = "≥" if self.name == "availability" else "<"
            measured = "no data" if self.measured is None else f"{self.measured:.3%}"
            return f"{where}{self.name} {measured} (objective {op} {self.objective:.3%})"
        measured = "no data" if self.measured is None else f"{self.measured:.1f} ms"
        return f"{where}{self.name} {measured} (objective < {self.objective:g} ms)"


def evaluate_tally(counts: Tally, target: SLOTarget, scope: str = "overall") -> list[SLOResult]:
    """Hold one tally to one target: p95 latency, error rate, availability, network p95."""
    out: list[SLOResult] = []
    if target.latency_p95_ms is not None:
        p95 = counts.latency.percentile(95)
        met = None if p95 is None else p95 < target.latency_p95_ms
        out.append(SLOResult("latency_p95_ms", target.latency_p95_ms, p95, met, counts.latency.count, scope))
    if target.error_rate is not None:
        rate = counts.error_rate
        met = None if rate is None else _below(rate, target.error_rate)
        out.append(SLOResult("error_rate", target.error_rate, rate, met, counts.requests, scope))
    if target.availability is not None:
        avail = counts.availability
        met = None if avail is None else avail >= target.availability
        out.append(SLOResult("availability", target.availability, avail, met, counts.requests, scope))
    if target.network_ms is not None:
        net = counts.network.percentile(95)
        met = None if net is None else net < target.network_ms
        out.append(SLOResult("network_ms", target.network_ms, net, met, counts.network.count, scope))
    return out


def _below(measured: float, objective: float) -> bool:
    """'error rate < 1 %' is strict; an objective of 0 means "no errors at all", met by exactly 0."""
    return measured < objective or (objective == 0 and measured == 0)


def evaluate(results: Iterable[CheckResult], target: SLOTarget, scope: str = "overall") -> list[SLOResult]:
    """Evaluate a run's results against one target (the overall SLO)."""
    return evaluate_tally(tally(results), target, scope)


def evaluate_by_integration(
    results: Iterable[CheckResult],
    target_for: Callable[[str], Any] | None = None,
    default: SLOTarget | None = None,
) -> dict[str, list[SLOResult]]:
    """Evaluate each integration against its own target.

    The target comes from ``target_for(integration)`` (e.g. built from config's ``slo_for``), else
    from the ``slo`` the integration's results were held to, else ``default``. Results without an
    integration only count in the overall evaluation.
    """
    groups: dict[str, list[CheckResult]] = defaultdict(list)
    for r in results:
        if r.integration:
            groups[r.integration].append(r)
    out: dict[str, list[SLOResult]] = {}
    for name in sorted(groups):
        members = groups[name]
        if target_for is not None:
            target = SLOTarget.from_any(target_for(name))
        else:
            target = next((r.slo for r in members if r.slo is not None), None) or default or SLOTarget()
        out[name] = evaluate(members, target, scope=name)
    return out


# --- error budgets ------------------------------------------------------------------------------


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
