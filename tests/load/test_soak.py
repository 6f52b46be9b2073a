"""Soak runs find steady memory growth from the target's own Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningPlatform

from .conftest import run_load, write_config

pytestmark = pytest.mark.slow


def _soak(tmp_path: Path, base_url: str) -> list[dict[str, object]]:
    # Reads only: at ~250 writes/s the reference platform's tables grow, and its searches slow down with
    # them — a true latency growth, but not what these tests are about.
    config = write_config(tmp_path, base_url, metrics={"interval_s": 1},
                          mix={"kinds": {"create": 0, "update": 0, "delete": 0}},
                          # memory only: a p95 trend over 10 s on this shared machine is noise (the trend
                          # maths is tested in test_analysis.py)
                          soak={"windows": 4, "memory_growth_percent": 20, "latency_growth_percent": 10_000},
                          profiles={"soak": {"users": 20, "duration": "10s", "spawn_rate": 20,
                                             "think_time_s": [0.05, 0.1]}})
    run = run_load(tmp_path, "--profile", "soak", "--config", str(config))
    [step] = run.steps
    assert step["target"] is not None and step["target"]["samples"] >= 8  # /metrics was read each second
    return [f for f in step["findings"] if f["rule"] == "SOAK_GROWTH"]  # type: ignore[index]


def test_a_leaking_target_is_a_p1_soak_growth(platform_factory: Callable[..., RunningPlatform],
                                              tmp_path: Path) -> None:
    leaking = platform_factory("leak_kb_per_request=64")
    findings = _soak(tmp_path / "leak", leaking.base_url)
    memory = [f for f in findings if str(f["message"]).startswith("target memory (RSS) grew steadily by")]
    assert len(memory) == 1 and memory[0]["severity"] == "P1", findings


def test_a_steady_target_is_not(platform_factory: Callable[..., RunningPlatform], tmp_path: Path) -> None:
    assert _soak(tmp_path / "steady", platform_factory().base_url) == []
