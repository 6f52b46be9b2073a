"""How hard the load generator itself is working, measured inside each generator process.

A saturated generator measures itself, not the target: its requests queue behind its own CPU and
every latency grows by that wait. Three signals, per phase of a step:

- CPU demand: the share of one core the process used (psutil) plus the share it spent runnable but
  waiting for a core (``/proc/self/task/*/schedstat``). A generator pinned to a core that something
  else also burns shows little CPU but a long wait; both together are what it needed.
- event-loop lag: a greenlet asks to sleep 50 ms and records how late it wakes up; every request's
  measured latency includes that lateness.
- in open-model (rate) runs, schedule lag and dropped iterations (see `arrival`).

Locust's own CPU warning samples every 10 s and changes no exit code, so it is not used.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from sloguard.slo import LatencyHistogram

LAG_INTERVAL_S = 0.05


def _runqueue_wait_s() -> float:
    """Seconds the process's threads spent waiting for a CPU (Linux schedstat); 0 where unknown."""
    total = 0
    try:
        for task in Path("/proc/self/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    except OSError:
        return 0.0
    return total / 1e9


@dataclass
class GeneratorUsage:
    """A process's load over one interval; mergeable across workers (sums and a lag histogram)."""

    wall_s: float = 0.0
    cpu_s: float = 0.0
    wait_s: float = 0.0
    lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    schedule_lag: LatencyHistogram = field(default_factory=LatencyHistogram)
    iterations: int = 0
    dropped: int = 0
    memory_bytes: int = 0  # the largest resident size seen

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def wait_percent(self) -> float:
        return 100.0 * self.wait_s / self.wall_s if self.wall_s else 0.0

    @property
    def demand_percent(self) -> float:
        """CPU used plus CPU waited for, as a share of one core: 100% is a saturated generator."""
        return self.cpu_percent + self.wait_percent

    def merge(self, other: GeneratorUsage) -> None:
        """Add a later interval of the same process (sums, so the percentages are means)."""
        self.wall_s += other.wall_s
        self.cpu_s += other.cpu_s
        self.wait_s += other.wait_s
        self.lag.merge(other.lag)
        self.schedule_lag.merge(other.schedule_lag)
        self.iterations += other.iterations
        self.dropped += other.dropped
        self.memory_bytes = max(self.memory_bytes, other.memory_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {"wall_s": self.wall_s, "cpu_s": self.cpu_s, "wait_s": self.wait_s, "lag": self.lag.encode(),
                "schedule_lag": self.schedule_lag.encode(), "iterations": self.iterations,
                "dropped": self.dropped, "memory_bytes": self.memory_bytes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GeneratorUsage:
        return cls(float(data["wall_s"]), float(data["cpu_s"]), float(data["wait_s"]),
                   LatencyHistogram.decode(str(data.get("lag") or "")),
                   LatencyHistogram.decode(str(data.get("schedule_lag") or "")),
                   int(data.get("iterations", 0)), int(data.get("dropped", 0)),
                   int(data.get("memory_bytes", 0)))


class UsageMeter:
    """Measures one process between two ``take()`` calls (CPU, run-queue wait, loop lag)."""

    def __init__(self) -> None:
        self._proc = psutil.Process(os.getpid())
        self._last = self._snapshot()
        self._lag = LatencyHistogram()
        self._schedule_lag = LatencyHistogram()
        self.iterations = 0
        self.dropped = 0

    def _snapshot(self) -> tuple[float, float, float]:
        times = self._proc.cpu_times()
        return time.monotonic(), times.user + times.system, _runqueue_wait_s()

    def record_lag(self, ms: float) -> None:
        self._lag.record(max(0.0, ms))

    def record_schedule_lag(self, ms: float) -> None:
        self._schedule_lag.record(max(0.0, ms))

    def take(self) -> GeneratorUsage:
        now = self._snapshot()
        then, self._last = self._last, now
        usage = GeneratorUsage(now[0] - then[0], now[1] - then[1], max(0.0, now[2] - then[2]),
                               self._lag, self._schedule_lag, self.iterations, self.dropped,
                               self._proc.memory_info().rss)
        self._lag, self._schedule_lag = LatencyHistogram(), LatencyHistogram()
        self.iterations = self.dropped = 0
        return usage


def run_lag_probe(meter: UsageMeter) -> None:
    """Forever: sleep ``LAG_INTERVAL_S`` and record how late the event loop woke us (a greenlet)."""
    import gevent

    while True:
        start = time.perf_counter()
        gevent.sleep(LAG_INTERVAL_S)
        meter.record_lag((time.perf_counter() - start - LAG_INTERVAL_S) * 1000.0)
