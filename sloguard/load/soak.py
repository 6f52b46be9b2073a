"""Steady growth during a soak: memory (from the target's metrics) or latency (from the windows).

A leak shows as a line that keeps going up. Growth is a least-squares fit over the hold: it is a
finding (P1 SOAK_GROWTH) when the fitted rise over the hold exceeds the configured share of the
starting level and the fit explains most of the variation (R² ≥ ``min_r2``), so one spike or a
noisy plateau is not a leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Trend:
    slope_per_s: float
    start: float  # the fitted value at the first point
    end: float  # ... and at the last
    r2: float
    points: int

    @property
    def growth(self) -> float:
        """Fitted rise over the window, as a share of the fitted start (0.25 = +25%)."""
        return (self.end - self.start) / self.start if self.start > 0 else 0.0


def fit(points: Sequence[tuple[float, float]]) -> Trend | None:
    """Least-squares line through (t, value) points; None with fewer than 3 points."""
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    stt = sum((t - mt) ** 2 for t, _ in points)
    if stt == 0:
        return None
    slope = sum((t - mt) * (v - mv) for t, v in points) / stt
    svv = sum((v - mv) ** 2 for _, v in points)
    r2 = 1.0 if svv == 0 else (slope * slope * stt) / svv
    t0, t1 = points[0][0], points[-1][0]
    return Trend(slope, mv + slope * (t0 - mt), mv + slope * (t1 - mt), r2, n)


def growth_finding(trend: Trend | None, *, what: str, threshold_percent: float, min_r2: float,
                   unit: str = "") -> str | None:
    """The finding's message when ``trend`` is steady growth over the threshold, else None."""
    if trend is None or trend.slope_per_s <= 0 or trend.r2 < min_r2:
        return None
    if trend.growth * 100.0 < threshold_percent:
        return None
    return (f"{what} grew steadily by {trend.growth:.0%} over the soak ({trend.start:,.1f} → {trend.end:,.1f}{unit}, "
            f"R² {trend.r2:.2f}; limit {threshold_percent:g}%)")
