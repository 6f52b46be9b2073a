"""summary.json of real runs against the reference platform: one population for every SLO figure.

Each run's SLOs, error budget and per-integration SLOs must agree with each other and with the
traffic recorded in results.jsonl, whatever the fault: none, a 5% error rate, an integration down,
a rate limit that answers 429.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.synthetics.test_suite_against_faults import SuiteRun, run_suite

# serial: its verdicts depend on the machine's headroom (latency objectives, CPU, arrival rates)
pytestmark = [pytest.mark.slow, pytest.mark.serial]


def slos(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in items}


def assert_consistent(run: SuiteRun, *, network: bool = True) -> dict[str, dict[str, Any]]:
    summary, results = run.summary, run.results
    checks = [r for r in results if r.get("record") == "check"]
    counted = [r["traffic"] for r in checks]
    requests = sum(t["slo_requests"] for t in counted)
    errors = sum(t["errors"] for t in counted)
    unavailable = sum(t["unavailable"] for t in counted)
    overall = slos(summary["slos"])
    budget = summary["error_budget"]
    assert overall["availability"]["samples"] == overall["error_rate"]["samples"] == budget["requests"] == requests
    assert budget["failures"] == unavailable
    assert overall["availability"]["measured"] == pytest.approx((requests - unavailable) / requests)
    assert overall["error_rate"]["measured"] == pytest.approx(errors / requests)
    assert overall["latency_p95_ms"]["samples"] == sum(len(t["latencies_ms"]) for t in counted)
    if network:  # the network check ran: its connect times are the network SLO
        assert overall["network_ms"]["measured"] is not None and overall["network_ms"]["samples"] == 5
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in checks:
        if r["integration"] and r["traffic"]["slo_requests"]:
            acc = per[r["integration"]]
            acc[0] += r["traffic"]["slo_requests"]
            acc[1] += r["traffic"]["errors"]
            acc[2] += r["traffic"]["unavailable"]
    for name, (n, e, u) in per.items():
        mine = slos(summary["integration_slos"][name])
        assert mine["availability"]["samples"] == mine["error_rate"]["samples"] == n, name
        assert mine["availability"]["measured"] == pytest.approx((n - u) / n), name
        assert mine["error_rate"]["measured"] == pytest.approx(e / n), name
    assert summary["checks"]["total"] == len(checks)
    return overall


def test_healthy_run_measures_every_slo(platform, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform.base_url)
    assert run.code == 0, run.failed()[:3]
    overall = assert_consistent(run)
    assert all(s["measured"] is not None and s["met"] is True for s in overall.values()), overall
    assert run.summary["error_budget"]["failures"] == 0


def test_error_rate_fault_is_counted_once_in_every_figure(platform_factory, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform_factory("error_rate=0.05").base_url)
    overall = assert_consistent(run)
    # 500s are both errors and unavailable, retried attempts included: availability drops with them
    assert 0.9 < overall["availability"]["measured"] < 0.99 and overall["availability"]["met"] is False
    # (every unavailable answer is also an error; the two ratios are computed apart, so allow rounding)
    assert overall["error_rate"]["measured"] >= 1 - overall["availability"]["measured"] - 1e-9


def test_an_integration_down_shows_in_its_own_slos_and_one_alert(platform_factory, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform_factory("integration_down=slack").base_url)
    assert_consistent(run)
    slack = slos(run.summary["integration_slos"]["slack"])
    assert slack["availability"]["measured"] == 0.0 and slack["availability"]["met"] is False
    assert slos(run.summary["integration_slos"]["discord"])["availability"]["measured"] == 1.0
    degraded = [a for a in run.summary["alerts"] if a["rule"] == "INTEGRATION_DEGRADED"]
    assert [a["scope"] for a in degraded] == ["integration:slack"] and degraded[0]["count"] > 10


def test_429s_are_unavailability_not_a_perfect_score(platform_factory, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform_factory("rate_limit=5").base_url,
                    "-k", "GET and not auth and not security")
    overall = assert_consistent(run, network=False)
    throttled = [r for r in run.results if r.get("http_status") == 429]
    assert len(throttled) > 50
    assert overall["availability"]["measured"] < 0.5 and overall["availability"]["met"] is False
