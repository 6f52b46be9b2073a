"""Baseline comparison: is this run slower, or worse, than the runs before it? (DESIGN.md §7)

The baseline of a scope (the platform, or one integration) is the **median** over the last
`BaselinePolicy.runs` earlier runs of the same target and suite that measured that scope with
enough samples; the median shrugs off one bad run in the window. Fewer than ``min_runs`` such runs:
no comparison (a new target is never "slower than itself").

- **P1 RESPONSE_TIME_REGRESSION** — a scope's p95 is more than 100% above its baseline
  (``p95 > 2 × baseline``) *and* at least ``min_delta_ms`` higher. Raised per integration (one
  integration slow is a P1, §7) and for the platform.
- **P0 PERFORMANCE_DROP** — the platform as a whole lost more than 50% of its performance, where
  performance is *good answers per second per client*: ``(1 − error rate) / p95``. With the error
  rate unchanged this is exactly "p95 more than doubled" platform-wide, so the P0 is the P1
  condition spread over the whole platform, and it also catches a platform that stays fast but
  fails half its calls. It needs the same ``min_delta_ms`` (or a ``min_error_delta`` rise in
  errors) so that 3 ms becoming 7 ms on loopback pages nobody. When it fires it replaces the
  per-integration P1s of the same run (one root cause, one alert); they are listed in its details.

A scope counts only with ``min_samples`` latency samples in the run and in each baseline run
(``min_samples_platform`` for the P0), so a p95 over a handful of requests cannot page anyone.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sloguard.alerts import Alert
from sloguard.history import PLATFORM, RunHistory, RunRecord, ScopePoint
from sloguard.severity import PERFORMANCE_DROP_RATIO, RESPONSE_TIME_REGRESSION_RATIO, Rule


@dataclass(frozen=True)
class BaselinePolicy:
    runs: int = 5  # earlier runs per baseline (their median)
    min_runs: int = 3  # fewer qualifying earlier runs: no comparison
    lookback: int = 50  # how many earlier runs are searched for qualifying ones
    min_samples: int = 10  # latency samples a scope needs, in the run and in each baseline run
    min_samples_platform: int = 50  # … for the platform-wide P0
    min_delta_ms: float = 50.0  # a regression must also add at least this much to p95
    min_error_delta: float = 0.05  # … or, for a drop, this much error rate
    regression_ratio: float = RESPONSE_TIME_REGRESSION_RATIO  # 1.0: p95 more than 100% above baseline
    drop_ratio: float = PERFORMANCE_DROP_RATIO  # 0.5: performance more than 50% below baseline


@dataclass(frozen=True)
class Comparison:
    """One scope of the run against its baseline."""

    scope: str
    p95_ms: float
    baseline_p95_ms: float
    error_rate: float
    baseline_error_rate: float
    baseline_runs: int

    @property
    def latency_ratio(self) -> float:
        return self.p95_ms / self.baseline_p95_ms if self.baseline_p95_ms > 0 else float("inf")

    @property
    def performance_drop(self) -> float:
        """1 − performance / baseline performance, performance being ``(1 − error rate) / p95``."""
        now = (1.0 - self.error_rate) / self.p95_ms if self.p95_ms > 0 else float("inf")
        base = (1.0 - self.baseline_error_rate) / self.baseline_p95_ms if self.baseline_p95_ms > 0 else float("inf")
        if base in (0.0, float("inf")):
            return 0.0
        return 1.0 - now / base

    def describe(self) -> str:
        where = "platform" if self.scope == PLATFORM else self.scope.split(":", 1)[-1]
        return (f"[{where}] p95 {self.p95_ms:.1f} ms vs baseline {self.baseline_p95_ms:.1f} ms "
                f"({self.latency_ratio:.1f}×), error rate {self.error_rate:.2%} vs {self.baseline_error_rate:.2%}, "
                f"median of {self.baseline_runs} earlier runs")


def _usable(point: ScopePoint | None, min_samples: int) -> bool:
    return (point is not None and point.p95_ms is not None and point.p95_ms > 0
            and point.latency_samples >= min_samples)


def compare(current: RunRecord, earlier: Sequence[RunRecord], policy: BaselinePolicy = BaselinePolicy()
            ) -> list[Comparison]:
    """Each scope of ``current`` that has a baseline in ``earlier`` (newest first)."""
    out: list[Comparison] = []
    for point in current.points:
        platform = point.scope == PLATFORM
        need = policy.min_samples_platform if platform else policy.min_samples
        if not _usable(point, need):
            continue
        window = [r.point(point.scope) for r in earlier
                  if (not platform or r.population == current.population) and _usable(r.point(point.scope), need)]
        window = window[: policy.runs]
        if len(window) < policy.min_runs:
            continue
        assert point.p95_ms is not None
        out.append(Comparison(
            scope=point.scope,
            p95_ms=point.p95_ms,
            baseline_p95_ms=statistics.median(p.p95_ms for p in window if p is not None and p.p95_ms is not None),
            error_rate=point.error_rate or 0.0,
            baseline_error_rate=statistics.median((p.error_rate or 0.0) for p in window if p is not None),
            baseline_runs=len(window),
        ))
    return out


def _regressed(c: Comparison, policy: BaselinePolicy) -> bool:
    return (c.latency_ratio > 1.0 + policy.regression_ratio
            and c.p95_ms - c.baseline_p95_ms >= policy.min_delta_ms)


def _dropped(c: Comparison, policy: BaselinePolicy) -> bool:
    worse = (c.p95_ms - c.baseline_p95_ms >= policy.min_delta_ms
             or c.error_rate - c.baseline_error_rate >= policy.min_error_delta)
    return c.scope == PLATFORM and worse and c.performance_drop > policy.drop_ratio


def baseline_alerts(
    comparisons: Sequence[Comparison],
    *,
    target: str,
    run_id: str,
    suite: str = "",
    policy: BaselinePolicy = BaselinePolicy(),
) -> list[Alert]:
    """The alerts a run's comparisons raise: a platform P0, or P1s per scope (see the module doc)."""
    regressions = [c for c in comparisons if _regressed(c, policy)]
    platform = next((c for c in comparisons if _dropped(c, policy)), None)
    if platform is not None:
        slower = [c.describe() for c in regressions if c.scope != PLATFORM]
        return [Alert(
            rule=Rule.PERFORMANCE_DROP, scope="platform", target=target, run_id=run_id, suite=suite,
            summary=(f"performance dropped {platform.performance_drop:.0%} against the baseline: "
                     f"{platform.describe()}"),
            details=(platform.describe(), *slower), count=1 + len(slower),
        )]
    alerts = []
    for c in regressions:
        integration = None if c.scope == PLATFORM else c.scope.split(":", 1)[1]
        alerts.append(Alert(
            rule=Rule.RESPONSE_TIME_REGRESSION, scope="platform" if c.scope == PLATFORM else c.scope,
            target=target, run_id=run_id, suite=suite, integration=integration,
            summary=f"response time {c.latency_ratio - 1:.0%} above baseline: {c.describe()}",
            details=(c.describe(),),
        ))
    return alerts


def check_baseline(
    summary: Mapping[str, Any],
    history: str | Path,
    *,
    policy: BaselinePolicy = BaselinePolicy(),
    record: bool = True,
) -> list[Alert]:
    """Compare a run (its ``summary.json`` document) with the kept history, then keep it.

    The one call a runner makes: returns the baseline alerts of the run (for the summary's alerts),
    and records the run so the next one is compared with it too.
    """
    run = RunRecord.from_summary(summary)
    kept = RunHistory(history)
    earlier = kept.previous(run, policy.lookback)
    alerts = baseline_alerts(compare(run, earlier, policy), target=str(summary.get("target", "")),
                             run_id=run.run_id, suite=run.suite, policy=policy)
    if record:
        kept.record(run)
    return alerts
