"""Latency histograms: exact to their bucket width and mergeable across processes.

Latencies go into HdrHistogram (3 significant digits, 1 µs to 1 h), which is exact to its bucket
width (1 µs below 2.048 ms, under 0.1 % above) and mergeable, so Locust workers and pytest
workers can each keep one and the totals are the same as if one process had seen everything.
"""

from __future__ import annotations

import math
import threading
from fractions import Fraction

from hdrh.histogram import HdrHistogram

from ._numbers import is_number as _is_number

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
