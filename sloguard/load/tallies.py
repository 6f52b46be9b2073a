"""Per-scope request tallies of a load run: counts plus an HDR latency histogram, mergeable.

Latency maths is `sloguard.slo.LatencyHistogram` (HdrHistogram, 3 significant digits). Recording a
value into it costs ~18 µs of Python, too much on a generator's hot path, so a worker batches: it
counts each latency under the lowest value of its HDR bucket (a shift and a dict increment) and
builds the histogram when it reports. The histogram is the same as recording every value — same
buckets, same counts, and the exact minimum and maximum are kept and recorded as themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sloguard.slo import LatencyHistogram, Tally

_SUB_BUCKET_BITS = 11  # 3 significant digits: 2048 sub-buckets, values below 2048 µs are exact


def bucket_floor(us: int) -> int:
    """The lowest value HdrHistogram(1 µs, 1 h, 3 digits) treats as equivalent to ``us``."""
    shift = us.bit_length() - _SUB_BUCKET_BITS
    return (us >> shift) << shift if shift > 0 else us


@dataclass
class StepTally(Tally):
    """Requests of one scope (overall, an integration, an operation) in one phase of one step.

    An SLO `Tally` (``unavailable`` ⊆ ``errors``: no answer, 5xx, 429; one latency per answered
    request) plus the failed requests' statuses, for the report.
    """

    statuses: dict[str, int] = field(default_factory=dict)  # the failed requests' status ("none": no answer)

    def merge(self, other: Tally) -> None:
        super().merge(other)
        if isinstance(other, StepTally):
            for status, n in other.statuses.items():
                self.statuses[status] = self.statuses.get(status, 0) + n

    def percentile(self, p: float) -> float | None:
        return self.latency.percentile(p)

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors, "unavailable": self.unavailable,
                "latency": self.latency.encode(), "statuses": dict(self.statuses)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepTally:
        return cls(requests=int(data["requests"]), errors=int(data["errors"]), unavailable=int(data["unavailable"]),
                   latency=LatencyHistogram.decode(str(data.get("latency") or "")),
                   statuses={str(k): int(v) for k, v in (data.get("statuses") or {}).items()})

    @classmethod
    def merged(cls, tallies: Iterable[StepTally]) -> StepTally:
        out = cls()
        for t in tallies:
            out.merge(t)
        return out


class Bucket:
    """The hot-path front of a `StepTally`: plain counters and a dict of HDR bucket floors."""

    __slots__ = ("counts", "errors", "max_us", "min_us", "requests", "statuses", "unavailable")

    def __init__(self) -> None:
        self.requests = 0
        self.errors = 0
        self.unavailable = 0
        self.counts: dict[int, int] = {}
        self.max_us = 0
        self.min_us = 0
        self.statuses: dict[str, int] = {}

    def add(self, ms: float | None, error: bool, unavailable: bool, status: int | None = None) -> None:
        """One request: its latency (None when nothing answered) and how it went."""
        self.requests += 1
        if error:
            self.errors += 1
            if unavailable:
                self.unavailable += 1
            key = str(status) if status else "none"
            self.statuses[key] = self.statuses.get(key, 0) + 1
        if ms is None:
            return
        us = max(1, round(ms * 1000))
        floor = bucket_floor(us)
        counts = self.counts
        counts[floor] = counts.get(floor, 0) + 1
        if us > self.max_us:
            self.max_us = us
        if us < self.min_us or self.min_us == 0:
            self.min_us = us

    def merge(self, other: Bucket) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.unavailable += other.unavailable
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        for floor, n in other.counts.items():
            self.counts[floor] = self.counts.get(floor, 0) + n
        if other.max_us > self.max_us:
            self.max_us = other.max_us
        if other.min_us and (other.min_us < self.min_us or self.min_us == 0):
            self.min_us = other.min_us

    def histogram(self) -> LatencyHistogram:
        hist = LatencyHistogram()
        counts = dict(self.counts)
        exact = [self.max_us] + ([self.min_us] if self.min_us != self.max_us else [])
        for us in exact if counts else ():
            counts[bucket_floor(us)] -= 1
        for floor, n in counts.items():
            if n:
                hist.record(floor / 1000.0, n)
        for us in exact if self.counts else ():
            hist.record(us / 1000.0)
        return hist

    def tally(self) -> StepTally:
        return StepTally(requests=self.requests, errors=self.errors, unavailable=self.unavailable,
                         latency=self.histogram(), statuses=dict(self.statuses))
