"""The controller: it walks the plan's steps, collects the workers' reports and watches the run.

It lives where Locust's load shape runs (the master, or the only process): the shape's ``tick``
asks it how many users to run; it announces each phase (step i ramping, step i holding, done)
to the generators with a sequence number; it merges what they report into per-phase tallies and a
one-second timeline, and aborts the run when the error rate stays above the abort threshold for
the sustained period (P0 HIGH_ERROR_RATE). It imports no Locust, so it is tested as plain Python.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .gate import Abort, PhaseMeasure
from .generator import GeneratorUsage
from .plan import LoadPlan
from .tallies import StepTally

RAMP_GRACE_S = 30.0
FINAL_REPORT_TIMEOUT_S = 15.0
ABORT_MIN_REQUESTS = 20  # the abort window needs this many requests to judge an error rate


@dataclass
class Point:
    """One second (or so) of the run, merged over every generator."""

    t: float  # wall clock at the end of the interval
    elapsed_s: float
    users: int
    step: int
    phase: str
    tally: StepTally
    interval_s: float
    demand_percent: float = 0.0  # the busiest generator's CPU demand

    @property
    def rps(self) -> float:
        return self.tally.requests / self.interval_s if self.interval_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        t = self.tally
        return {"t": round(self.t, 3), "elapsed_s": round(self.elapsed_s, 3), "users": self.users,
                "step": self.step, "phase": self.phase, "requests": t.requests, "errors": t.errors,
                "rps": round(self.rps, 3), "error_rate": t.error_rate, "p50_ms": t.percentile(50),
                "p95_ms": t.percentile(95), "generator_cpu_percent": round(self.demand_percent, 1)}


@dataclass
class PhaseData:
    scopes: dict[str, tuple[str, str | None, StepTally]] = field(default_factory=dict)
    usage: dict[str, GeneratorUsage] = field(default_factory=dict)


class Aggregator:
    """Merges generator reports (see `recorder.Recorder.report`) losslessly."""

    def __init__(self) -> None:
        self.phases: dict[tuple[int, str], PhaseData] = {}
        self.pending: list[tuple[str, dict[str, Any]]] = []
        self.acked: dict[str, int] = {}
        self.last_usage: dict[str, GeneratorUsage] = {}
        self.logins = 0  # token requests in the windows drained last

    def add(self, worker: str, payload: dict[str, Any]) -> None:
        self.acked[worker] = max(self.acked.get(worker, 0), int(payload.get("acked", 0)))
        for window in payload.get("windows", ()):
            self.pending.append((worker, window))
        for phase in payload.get("phases", ()):
            data = self.phases.setdefault((int(phase["step"]), str(phase["phase"])), PhaseData())
            for key, scope in phase["scopes"].items():
                tally = StepTally.from_dict(scope["tally"])
                known = data.scopes.get(key)
                if known is None:
                    data.scopes[key] = (scope["name"], scope["integration"], tally)
                else:
                    known[2].merge(tally)
            usage = GeneratorUsage.from_dict(phase["usage"])
            if worker in data.usage:
                data.usage[worker].merge(usage)
            else:
                data.usage[worker] = usage

    def drain(self) -> tuple[StepTally, dict[str, GeneratorUsage]]:
        """The windows received since the last call, merged, and each worker's latest usage."""
        tally = StepTally()
        usage: dict[str, GeneratorUsage] = {}
        self.logins = sum(int(w.get("logins", 0)) for _, w in self.pending)
        for worker, window in self.pending:
            tally.merge(StepTally.from_dict(window["tally"]))
            u = GeneratorUsage.from_dict(window["usage"])
            usage[worker] = u
            self.last_usage[worker] = u
        self.pending = []
        return tally, usage


class Controller:
    def __init__(
        self,
        plan: LoadPlan,
        *,
        abort_rate: float,
        abort_after_s: float,
        slo_p95_ms: float,
        slo_error_rate: float,
        min_samples: int,
        user_count: Callable[[], int],
        worker_count: Callable[[], int],
        notify: Callable[[dict[str, Any]], None],
        generators: Callable[[], list[str]] = lambda: ["local"],
        first_seq: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.aggregator = Aggregator()
        self.abort_rate, self.abort_after_s = abort_rate, abort_after_s
        self.slo_p95_ms, self.slo_error_rate, self.min_samples = slo_p95_ms, slo_error_rate, min_samples
        self.user_count, self.worker_count, self._notify = user_count, worker_count, notify
        self.clock = clock
        self.generators = generators
        self.seq = first_seq
        self.finished_at: float | None = None
        self._late_noted = False
        self.step = -1
        self.phase = "idle"
        self.phase_started = 0.0
        self.started_wall = time.time()
        self.started_mono = clock()
        self.phase_times: dict[tuple[int, str], list[float]] = {}  # (step, phase) -> [wall start, wall end]
        self.timeline: list[Point] = []
        self.hold_tallies: dict[int, StepTally] = {}
        self.finished = False
        self.abort: Abort | None = None
        self.stopped_after: int | None = None
        self.notes: list[str] = []
        self.locust_totals: dict[str, int] = {}
        self._recent: deque[tuple[float, int, int]] = deque()
        self._last_sample = clock()
        self._reached_at: float | None = None
        self.settle_s = plan.settle_s

    # ---------------------------------------------------------------- phases

    def _enter(self, step: int, phase: str) -> None:
        now_wall = time.time()
        if self.phase != "idle":
            self.phase_times[(self.step, self.phase)][1] = now_wall
        self.seq += 1
        self.step, self.phase, self.phase_started = step, phase, self.clock()
        self.phase_times[(step, phase)] = [now_wall, now_wall]
        rate = None
        if phase == "hold" and self.plan.steps[step].rps is not None:
            rate = float(self.plan.steps[step].rps or 0) / max(1, self.worker_count())
        message: dict[str, Any] = {"seq": self.seq, "step": step, "phase": phase, "rate": rate}
        if step == 0 and phase == "ramp":
            message["plan"] = self.plan.to_dict()  # the generators run this plan's users, whatever they were given
        self._notify(message)

    def finish(self) -> None:
        if self.finished:
            return
        if self.phase != "idle":
            self.phase_times[(self.step, self.phase)][1] = time.time()
        self.finished = True
        self.finished_at = self.clock()
        self.seq += 1
        self.phase = "done"
        self._notify({"seq": self.seq, "step": self.step, "phase": "done", "rate": None})

    @property
    def reported(self) -> bool:
        """Every generator has reported the last phase (or waiting for them has timed out)."""
        if not self.finished or self.finished_at is None:
            return False
        return self.all_acked(self.generators()) or self.clock() - self.finished_at > FINAL_REPORT_TIMEOUT_S

    def tick(self) -> tuple[int, float] | None:
        """The load shape's answer: (users, spawn rate) for now, or None when the run is over — once
        every generator has reported the last phase, so that stopping loses no tallies."""
        if self.finished:
            if not self.reported:
                return self.plan.steps[max(0, self.step)].users, self.plan.spawn_rate
            if not self.all_acked(self.generators()) and not self._late_noted:
                self._late_noted = True
                self.notes.append("not every generator reported its last phase in time; its tallies may be missing")
            return None
        steps = self.plan.steps
        if self.step < 0:
            self._enter(0, "ramp")
        step = steps[self.step]
        now = self.clock()
        if self.phase == "ramp":
            reached = self.user_count() >= step.users
            late = now - self.phase_started > 2 * self.plan.ramp_s(self.step) + RAMP_GRACE_S
            if late and not reached:
                self.notes.append(f"step {self.step + 1}: only {self.user_count():,} of {step.users:,} users "
                                  "started in time; holding with what runs")
                self._reached_at = now - self.settle_s
            elif reached and self._reached_at is None:
                self._reached_at = now
            # Settle before measuring: every user has logged in and run at least one iteration (logins can
            # queue on a server that hashes passwords; they are the ramp's cost, not the step's).
            settled = self._reached_at is not None and now - self._reached_at >= self.settle_s
            logging_in = self.aggregator.logins > 0 and now - (self._reached_at or now) < RAMP_GRACE_S
            if settled and not logging_in:
                self._reached_at = None
                self._enter(self.step, "hold")
        elif self.phase == "hold" and now - self.phase_started >= step.hold_s:
            index = self.step
            if self.plan.stop_at_break and self._broke(index):
                self.stopped_after = index
                self.finish()
            elif index + 1 < len(steps):
                self._enter(index + 1, "ramp")
            else:
                self.finish()
        return steps[self.step].users, self.plan.spawn_rate

    def _broke(self, step: int) -> bool:
        tally = self.hold_tallies.get(step)
        if tally is None or tally.requests < self.min_samples:
            return False
        p95 = tally.percentile(95) or 0.0
        return p95 >= self.slo_p95_ms or (tally.error_rate or 0.0) >= self.slo_error_rate

    # ---------------------------------------------------------------- monitoring

    def sample(self) -> Point | None:
        """Merge what arrived since the last call into one timeline point; check the abort rule."""
        now = self.clock()
        interval, self._last_sample = now - self._last_sample, now
        tally, _ = self.aggregator.drain()
        if self.phase == "hold":
            self.hold_tallies.setdefault(self.step, StepTally()).merge(tally)
        demand = max((u.demand_percent for u in self.aggregator.last_usage.values()), default=0.0)
        point = Point(time.time(), now - self.started_mono, self.user_count(), self.step, self.phase, tally,
                      interval, demand)
        if self.step >= 0 and not self.finished:
            self.timeline.append(point)
            self._check_abort(point, now)
        return point

    def _check_abort(self, point: Point, now: float) -> None:
        """Abort when the error rate over the last ``abort_after_s`` seconds is above the threshold (like an
        alert rule on ``errors[5m] / requests[5m]``), once the run has run that long."""
        self._recent.append((now, point.tally.requests, point.tally.errors))
        while self._recent and self._recent[0][0] <= now - self.abort_after_s:
            self._recent.popleft()
        if self.abort is not None or now - self.started_mono < self.abort_after_s:
            return
        requests = sum(r for _, r, _ in self._recent)
        errors = sum(e for _, _, e in self._recent)
        if requests >= ABORT_MIN_REQUESTS and errors / requests > self.abort_rate:
            self.abort = Abort(self.step, errors / requests, self.abort_after_s, point.users)

    # ---------------------------------------------------------------- results

    def all_acked(self, workers: list[str]) -> bool:
        return all(self.aggregator.acked.get(w, 0) >= self.seq for w in workers)

    def totals(self) -> dict[str, int]:
        """Requests over every phase (ramps included), as the generators counted them."""
        requests = errors = tokens = 0
        for data in self.aggregator.phases.values():
            for key, (_, _, tally) in data.scopes.items():
                requests += tally.requests
                errors += tally.errors
                if key.startswith("auth · token"):
                    tokens += tally.requests
        return {"requests": requests, "errors": errors, "token_requests": tokens}

    def measures(self) -> dict[int, PhaseMeasure]:
        out: dict[int, PhaseMeasure] = {}
        for (step, phase), (start, end) in self.phase_times.items():
            if phase != "hold":
                continue
            data = self.aggregator.phases.get((step, "hold"), PhaseData())
            users = max((p.users for p in self.timeline if p.step == step and p.phase == "hold"), default=0)
            out[step] = PhaseMeasure(data.scopes, data.usage, start, end, users)
        return out
