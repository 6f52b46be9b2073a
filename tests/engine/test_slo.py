"""SLO maths: exact percentiles, error rate and availability edge cases, budgets and burn rates
(checked against the Google SRE workbook's worked numbers, chapter 5 "Alerting on SLOs")."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from types import SimpleNamespace

import pytest

from sloguard.severity import Rule, Severity
from sloguard.slo import (
    DEFAULT_BURN_RATE_RULES,
    ErrorBudget,
    LatencyHistogram,
    SLOResult,
    SLOTarget,
    Tally,
    burn_rate,
    evaluate_burn_rates,
    evaluate_tally,
    time_to_exhaustion,
)


def nearest_rank(values: list[float], p: float) -> float:
    """Reference percentile: the value at rank ⌈p/100 · N⌉ of the sorted data (no numpy)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(round(p * len(ordered) / 100, 9)))
    return ordered[rank - 1]


def hist_of(values: list[float]) -> LatencyHistogram:
    h = LatencyHistogram()
    for v in values:
        h.record(v)
    return h


# --- percentiles -----------------------------------------------------------------------------------------


def test_percentiles_are_exact_below_2ms() -> None:
    """Below 2.048 ms every microsecond has its own bucket: results equal the reference exactly."""
    rng = random.Random(1)
    values = [rng.randint(1, 2047) / 1000 for _ in range(5000)]
    h = hist_of(values)
    for p in (1, 25, 50, 90, 95, 99, 99.9, 100):
        assert h.percentile(p) == nearest_rank(values, p), p


def test_percentiles_match_the_reference_within_one_bucket_on_skewed_data() -> None:
    rng = random.Random(42)
    values = [round(rng.lognormvariate(4.5, 0.8), 3) for _ in range(20_000)]  # ms, median ~90
    h = hist_of(values)
    for p in (50, 90, 95, 99, 99.9):
        ref = nearest_rank(values, p)
        got = h.percentile(p)
        assert got is not None
        assert ref <= got <= ref * 1.001 + 0.001, (p, ref, got)  # same bucket, never reported lower
    assert h.percentile(100) == max(values)
    assert h.max_ms == max(values) and h.min_ms == min(values)


def test_nearest_rank_on_small_samples_uses_the_ceiling() -> None:
    """With 13 samples p95 is the 13th value (⌈12.35⌉), not the 12th a rounded rank would give."""
    values = [float(v) for v in range(1, 14)]
    assert hist_of(values).percentile(95) == 13.0
    nineteenth = hist_of([100.0] * 19 + [900.0]).percentile(95)  # rank 19 of 20
    assert nineteenth is not None and 100.0 <= nineteenth <= 100.1  # 100 ms, to its 32 µs bucket
    assert hist_of([100.0] * 18 + [900.0] * 2).percentile(95) == 900.0


def test_a_histogram_with_nothing_recorded_has_no_percentile() -> None:
    h = LatencyHistogram()
    assert h.percentile(95) is None and h.count == 0 and h.max_ms is None
    with pytest.raises(ValueError, match=r"percentile must be in \(0, 100\]"):
        h.percentile(0)
    with pytest.raises(ValueError, match="non-negative number of ms"):
        h.record(-5)


def test_merged_histograms_equal_one_histogram_of_everything() -> None:
    rng = random.Random(3)
    values = [rng.uniform(1, 3000) for _ in range(9000)]
    whole = hist_of(values)
    parts = [hist_of(values[i::3]) for i in range(3)]
    merged = LatencyHistogram()
    for part in parts:
        merged.merge(LatencyHistogram.decode(part.encode()))  # as sent from a worker
    assert merged.count == whole.count == 9000
    for p in (50, 95, 99, 100):
        assert merged.percentile(p) == whole.percentile(p)


def test_values_beyond_an_hour_are_clamped_and_counted() -> None:
    h = hist_of([5_000_000.0, 10.0])
    assert h.clamped == 1 and h.count == 2
    assert h.percentile(100) == pytest.approx(3_600_000.0, rel=1e-3)


# --- error rate and availability over a tally ------------------------------------------------------------


def tally_of(*batches: tuple[int, int, int, float | None]) -> Tally:
    """Batches of (requests, errors, unavailable, latency of each answered request)."""
    t = Tally()
    for requests, errors, unavailable, latency in batches:
        answered = requests - unavailable if latency is not None else 0
        t.record(requests=requests, errors=errors, unavailable=unavailable,
                 latencies_ms=[latency] * answered if latency is not None else ())
    return t


def by_name(t: Tally, target: SLOTarget | None = None) -> dict[str, SLOResult]:
    return {s.name: s for s in evaluate_tally(t, target or SLOTarget())}


def test_no_requests_means_measured_none_and_met_none() -> None:
    slos = evaluate_tally(Tally(), SLOTarget())
    assert [s.name for s in slos] == ["latency_p95_ms", "error_rate", "availability", "network_ms"]
    assert all(s.measured is None and s.met is None and s.samples == 0 for s in slos)


def test_error_rate_and_availability_are_their_definitions() -> None:
    t = tally_of((90, 0, 0, 20.0), (6, 6, 0, 5.0), (4, 4, 4, None))  # 6 wrong answers, 4 not served
    slos = by_name(t)
    assert slos["error_rate"].measured == pytest.approx(10 / 100)
    assert slos["availability"].measured == pytest.approx(96 / 100)
    assert slos["error_rate"].samples == slos["availability"].samples == 100
    assert slos["latency_p95_ms"].samples == 96  # only answered requests have a latency
    with pytest.raises(ValueError, match="unavailable ≤ errors ≤ requests"):
        Tally().record(requests=1, errors=0, unavailable=1)


def test_objective_boundaries() -> None:
    """error rate < objective (strict), availability ≥ objective, latency p95 < objective."""
    assert by_name(tally_of((99, 0, 0, 1.0), (1, 1, 0, 1.0)))["error_rate"].met is False
    assert by_name(tally_of((100, 0, 0, 1.0), (1, 1, 0, 1.0)))["error_rate"].met is True
    assert by_name(tally_of((999, 0, 0, 1.0), (1, 1, 1, None)))["availability"].met is True
    assert by_name(tally_of((998, 0, 0, 1.0), (1, 1, 1, None)))["availability"].met is False
    slow, slower = Tally(), Tally()
    slow.record(requests=20, latencies_ms=[499.0] * 20, network_ms=[99.0] * 5)
    slower.record(requests=20, latencies_ms=[501.0] * 20, network_ms=[101.0] * 5)
    assert by_name(slow)["latency_p95_ms"].met is True and by_name(slow)["network_ms"].met is True
    assert by_name(slower)["latency_p95_ms"].met is False and by_name(slower)["network_ms"].met is False


def test_a_zero_error_rate_objective_is_met_only_by_no_errors() -> None:
    zero = SLOTarget(error_rate=0)
    assert by_name(tally_of((5, 0, 0, 1.0)), zero)["error_rate"].met is True
    assert by_name(tally_of((5, 0, 0, 1.0), (1, 1, 1, None)), zero)["error_rate"].met is False


def test_objectives_set_to_none_are_not_evaluated() -> None:
    slos = evaluate_tally(tally_of((1, 0, 0, 1.0)), SLOTarget(network_ms=None, error_rate=None))
    assert [s.name for s in slos] == ["latency_p95_ms", "availability"]


def test_tallies_merge_and_travel_between_processes() -> None:
    a, b = Tally(), Tally()
    a.record(requests=1, latencies_ms=[10], network_ms=[1])
    b.record(requests=2, errors=2, unavailable=2, latencies_ms=[900])
    merged = Tally.from_dict(a.to_dict())
    merged.merge(Tally.from_dict(b.to_dict()))
    assert (merged.requests, merged.errors, merged.unavailable) == (3, 2, 2)
    assert merged.latency.count == 2 and merged.latency.percentile(100) == 900.0
    assert merged.network.count == 1
    with pytest.raises(ValueError, match="not a tally"):
        Tally.from_dict({"requests": 1})


def test_slo_targets_validate_and_build_from_config_like_objects() -> None:
    assert SLOTarget() == SLOTarget(500, 0.01, 0.999, 100)
    assert SLOTarget.from_any({"latency_p95_ms": 800}) == SLOTarget(latency_p95_ms=800)
    assert SLOTarget.from_any(SimpleNamespace(latency_p95_ms=1, error_rate=0.5, availability=0.9, network_ms=2)) == (
        SLOTarget(1, 0.5, 0.9, 2)
    )
    with pytest.raises(ValueError, match=r"error_rate must be a fraction in \[0, 1\] \(1% is 0.01\), got 5"):
        SLOTarget(error_rate=5)
    with pytest.raises(ValueError, match=r"availability must be a fraction .* \(99.9% is 0.999\), got 99.9"):
        SLOTarget(availability=99.9)
    with pytest.raises(ValueError, match="latency_p95_ms must be a positive number"):
        SLOTarget(latency_p95_ms=0)
    with pytest.raises(ValueError, match=r"unknown SLO field.*latency_ms"):
        SLOTarget.from_any({"latency_ms": 3})


# --- error budgets ---------------------------------------------------------------------------------------


def test_error_budget_remaining_and_burn_rate() -> None:
    half = ErrorBudget(objective=0.999, total=1_000_000, bad=500, window=timedelta(days=30))
    assert half.allowed_bad == pytest.approx(1000)
    assert half.consumed == pytest.approx(0.5) and half.remaining == pytest.approx(0.5)
    assert half.burn_rate == pytest.approx(0.5)
    assert half.allowed_downtime == timedelta(minutes=43, seconds=12)  # 99.9% of 30 days
    over = ErrorBudget(objective=0.999, total=1000, bad=3)
    assert over.remaining == pytest.approx(-2.0) and over.burn_rate == pytest.approx(3.0)
    assert ErrorBudget(objective=0.999, total=0, bad=0).remaining == 1.0
    assert ErrorBudget(objective=0.999, total=0, bad=0).burn_rate is None
    assert math.isinf(ErrorBudget(objective=1.0, total=10, bad=1).consumed)
    assert ErrorBudget.from_tally(tally_of((2, 1, 1, 1.0)), 0.9).bad == 1
    with pytest.raises(ValueError, match="bad ≤ total"):
        ErrorBudget(objective=0.999, total=1, bad=2)


def test_burn_rate_and_time_to_exhaustion_match_the_workbook_table() -> None:
    """Workbook table 5-4 (99.9 % SLO, 30-day period): burn 1 → 30 d, 2 → 15 d, 10 → 3 d, 1000 → 43 min."""
    assert burn_rate(0.001, 0.999) == pytest.approx(1)
    assert burn_rate(0.002, 0.999) == pytest.approx(2)
    assert burn_rate(0.01, 0.999) == pytest.approx(10)
    assert burn_rate(1.0, 0.999) == pytest.approx(1000)
    assert time_to_exhaustion(1) == timedelta(days=30)
    assert time_to_exhaustion(2) == timedelta(days=15)
    assert time_to_exhaustion(10) == timedelta(days=3)
    assert time_to_exhaustion(1000) == timedelta(minutes=43, seconds=12)
    assert time_to_exhaustion(0) is None


# --- multiwindow, multi-burn-rate alerts -----------------------------------------------------------------

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)


def fired(observations: dict[timedelta, float], objective: float = 0.999) -> list[str]:
    return [a.rule.name for a in evaluate_burn_rates(observations, objective)]


def test_default_rules_are_the_designs_four() -> None:
    shape = [(r.long_window, r.short_window, r.factor, r.action) for r in DEFAULT_BURN_RATE_RULES]
    assert shape == [
        (1 * H, 5 * M, 14.4, "page"),
        (6 * H, 30 * M, 6.0, "page"),
        (1 * D, 2 * H, 3.0, "ticket"),
        (3 * D, 6 * H, 1.0, "ticket"),
    ]
    # workbook table 5-6: budget spent by the time each long window fires (30-day period)
    spent = [r.budget_consumed() for r in DEFAULT_BURN_RATE_RULES]
    assert spent == pytest.approx([0.02, 0.05, 0.10, 0.10])
    assert [r.severity for r in DEFAULT_BURN_RATE_RULES] == [Severity.P0, Severity.P0, Severity.P1, Severity.P1]
    assert DEFAULT_BURN_RATE_RULES[0].rule is Rule.BUDGET_BURN_FAST


def test_detection_time_matches_the_workbook() -> None:
    """A full outage against 99.9 % trips the 14.4x/1 h rule after 0.864 min (51.84 s)."""
    fast = DEFAULT_BURN_RATE_RULES[0]
    assert fast.detection_time(1.0, 0.999) == timedelta(seconds=51.84)
    assert DEFAULT_BURN_RATE_RULES[1].detection_time(1.0, 0.999) == timedelta(seconds=129.6)  # 2.16 min
    assert fast.detection_time(0.01, 0.999) is None  # 10x never reaches 14.4x


def test_a_fast_burn_pages_on_both_windows() -> None:
    # 2 % errors: 20x the 0.1 % budget, over both the 1 h and the 5 min window
    obs = {1 * H: 0.02, 5 * M: 0.02, 6 * H: 0.004, 30 * M: 0.02, 1 * D: 0.001, 2 * H: 0.01, 3 * D: 0.0005, 6 * H: 0.004}
    assert fired(obs) == ["page 14.4x over 1 h/5 min"]


def test_the_short_window_stops_the_page_once_the_burning_stops() -> None:
    assert fired({1 * H: 0.02, 5 * M: 0.0}) == []
    assert fired({1 * H: 0.005, 5 * M: 0.5}) == []  # a short spike alone is not significant


def test_thresholds_are_strict() -> None:
    assert fired({1 * H: 0.0144, 5 * M: 0.0144}) == []
    assert fired({1 * H: 0.0145, 5 * M: 0.0145}) == ["page 14.4x over 1 h/5 min"]


def test_slower_burns_page_or_open_tickets() -> None:
    six_x = {6 * H: 0.007, 30 * M: 0.007}
    assert fired(six_x) == ["page 6x over 6 h/30 min"]
    assert fired({6 * H: 0.005, 30 * M: 0.007}) == []
    three_x = {1 * D: 0.0035, 2 * H: 0.0035}
    assert fired(three_x) == ["ticket 3x over 1 d/2 h"]
    one_x = {3 * D: 0.0011, 6 * H: 0.0011}
    assert fired(one_x) == ["ticket 1x over 3 d/6 h"]
    assert fired({3 * D: 0.0009, 6 * H: 0.0011}) == []  # within budget over 3 days


def test_everything_fires_in_a_full_outage_with_pages_first() -> None:
    windows = {w for r in DEFAULT_BURN_RATE_RULES for w in (r.long_window, r.short_window)}
    alerts = evaluate_burn_rates({w: 1.0 for w in windows}, 0.999)
    assert [a.rule.action for a in alerts] == ["page", "page", "ticket", "ticket"]
    assert alerts[0].long_burn == pytest.approx(1000) and "1000.0x over 1 h" in alerts[0].describe()


def test_observations_may_use_seconds_and_missing_windows_do_not_fire() -> None:
    assert [a.rule.action for a in evaluate_burn_rates([(3600, 0.5), (300, 0.5)], 0.999)] == ["page"]
    assert fired({1 * H: 0.5}) == []
    with pytest.raises(ValueError, match=r"error ratio over 1 h must be a fraction in \[0, 1\], got 2"):
        evaluate_burn_rates({1 * H: 2, 5 * M: 0.1}, 0.999)
    with pytest.raises(ValueError, match="availability objective must be a fraction"):
        evaluate_burn_rates({1 * H: 0.1, 5 * M: 0.1}, 99.9)
