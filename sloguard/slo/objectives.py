"""Objectives and the tallies they are measured over.

The definitions (docs/slo.md quotes them; `sloguard.results.population` applies them to results):

- **requests**: SLO-counted requests that went on the wire (an answer, a timeout or a connection
  error). Negative, fuzzed and attack traffic is not SLO-counted, and neither is a probe that
  expects a refusal: it is accounted for, but it does not spend the budget.
- **unavailable**: requests that failed for a server-side reason: any 5xx, a 429 (the platform
  refused to serve), a timeout or a connection, TLS or protocol error.
- **errors**: requests whose outcome was wrong: every unavailable request, plus answers with an
  unexpected status (an unexpected 4xx included) or a body that breaks the contract. A correct answer
  that was only too slow is not an error: it counts against the latency objective.
- **availability** = (requests − unavailable) / requests; objective met when ≥ the objective.
- **error rate** = errors / requests; met when < the objective (an objective of 0 is met by 0).
- **latency p95**: nearest-rank p95 over the latency of every answered SLO-counted request; met
  when < the objective.
- **network p95**: p95 of connect (+ TLS) times measured on fresh connections; met when < objective.
- No requests (or no samples) → measured None and met None: unknown, never a pass or a miss.

This module imports nothing from the results model, so Locust workers, pytest and the summary all
share the same maths over plain counts and histograms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._numbers import is_number as _is_number
from .histogram import LatencyHistogram

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


@dataclass
class Tally:
    """The counts and histograms an SLO evaluation needs; mergeable across workers and runs."""

    requests: int = 0
    errors: int = 0
    unavailable: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    network: LatencyHistogram = field(default_factory=LatencyHistogram)

    def record(
        self,
        *,
        requests: int = 1,
        errors: int = 0,
        unavailable: int = 0,
        latencies_ms: Iterable[float] = (),
        network_ms: Iterable[float] = (),
    ) -> None:
        """Count ``requests`` of which ``errors`` went wrong and ``unavailable`` (⊆ errors) failed
        server-side, with the latency of each answered one and any connect times."""
        if not (0 <= unavailable <= errors <= requests):
            raise ValueError(
                f"a tally needs 0 ≤ unavailable ≤ errors ≤ requests, got {unavailable}, {errors}, {requests}"
            )
        self.requests += requests
        self.errors += errors
        self.unavailable += unavailable
        for ms in latencies_ms:
            self.latency.record(ms)
        for ms in network_ms:
            self.network.record(ms)

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.unavailable += other.unavailable
        self.latency.merge(other.latency)
        self.network.merge(other.network)

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    @property
    def availability(self) -> float | None:
        return (self.requests - self.unavailable) / self.requests if self.requests else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "unavailable": self.unavailable,
            "latency": self.latency.encode(),
            "network": self.network.encode(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Tally:
        try:
            return cls(
                requests=int(data["requests"]),
                errors=int(data["errors"]),
                unavailable=int(data["unavailable"]),
                latency=LatencyHistogram.decode(str(data.get("latency", ""))),
                network=LatencyHistogram.decode(str(data.get("network", ""))),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a tally ({exc})") from None


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
