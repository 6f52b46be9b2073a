"""The generator side of the tallies: every request lands in its phase's per-operation bucket.

A run moves through phases (step 2 ramping, step 2 holding, ...) announced by the controller with
a sequence number. A worker keeps buckets for the current phase only; when the phase changes it
closes them into HDR tallies, which ride on its next report to the master (Locust's
``report_to_master``), together with the overall window since the last report. So per-operation
histograms cross the wire once per phase, and every request is counted exactly once.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .generator import GeneratorUsage, UsageMeter
from .mix import AUTH_OPERATION
from .records import request_outcome
from .tallies import Bucket

IDLE = "idle"


@dataclass(frozen=True)
class ScopeInfo:
    """What a request name in Locust's statistics stands for: the operation, its integration and the
    statuses that count as OK. Requests are matched by name (Locust passes it to every listener), so
    the hot path needs no per-request context."""

    key: str
    name: str
    integration: str | None
    expected: frozenset[int] | None = None


class Recorder:
    def __init__(self, scopes: Mapping[str, ScopeInfo], meter: UsageMeter) -> None:
        self.info = dict(scopes)  # by request name
        self.meter = meter
        self.seq, self.step, self.phase = 0, -1, IDLE
        self.buckets: dict[str, Bucket] = {}
        self.window = Bucket()
        self.window_started = time.time()
        self.usage = GeneratorUsage()
        self.window_usage = GeneratorUsage()
        self.closed_windows: list[dict[str, Any]] = []
        self.window_logins = 0
        self.closed_phases: list[dict[str, Any]] = []
        self.users = 0

    # ---------------------------------------------------------------- hot path

    def on_request(self, name: str, status: int | None, ms: float) -> None:
        key = name
        info = self.info.get(name)
        expected: Collection[int] | None = info.expected if info is not None else None
        outcome = request_outcome(status, expected)
        error = outcome != "ok"
        unavailable = outcome == "unavailable"
        latency = ms if status is not None else None
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket()
        bucket.add(latency, error, unavailable, status)
        self.window.add(latency, error, unavailable, status)
        if name == AUTH_OPERATION:
            self.window_logins += 1

    # ---------------------------------------------------------------- phases and reports

    def _sample(self) -> None:
        interval = self.meter.take()
        self.usage.merge(interval)
        self.window_usage.merge(interval)

    def _close_window(self) -> None:
        self._sample()
        now = time.time()
        self.closed_windows.append({
            "seq": self.seq, "step": self.step, "phase": self.phase, "t0": self.window_started, "t1": now,
            "tally": self.window.tally().to_dict(), "usage": self.window_usage.to_dict(), "users": self.users,
            "logins": self.window_logins,
        })
        self.window, self.window_started, self.window_usage = Bucket(), now, GeneratorUsage()
        self.window_logins = 0

    def set_phase(self, seq: int, step: int, phase: str) -> None:
        """Close the current phase (its buckets become tallies to report) and start ``phase``."""
        if seq <= self.seq:
            return
        self._close_window()
        if self.phase != IDLE or self.buckets:
            self.closed_phases.append(self._phase_payload())
        self.seq, self.step, self.phase = seq, step, phase
        self.buckets, self.usage = {}, GeneratorUsage()

    def close(self) -> None:
        """The test stopped: the current phase is over, whatever comes next."""
        self.set_phase(self.seq + 1, self.step, IDLE)

    def _phase_payload(self) -> dict[str, Any]:
        scopes = {}
        for name, bucket in self.buckets.items():
            info = self.info.get(name) or ScopeInfo(name, name, None)
            scopes[info.key] = {"name": info.name, "integration": info.integration, "tally": bucket.tally().to_dict()}
        return {"seq": self.seq, "step": self.step, "phase": self.phase, "scopes": scopes,
                "usage": self.usage.to_dict()}

    def report(self) -> dict[str, Any]:
        """Everything since the last report: the overall window(s) and any closed phases."""
        self._close_window()
        out = {"acked": self.seq, "windows": self.closed_windows, "phases": self.closed_phases}
        self.closed_windows, self.closed_phases = [], []
        return out
