"""Open-model load (like k6's constant-arrival-rate) on Locust's closed-loop users.

Locust users wait for their own answer before the next request, so a slow server slows the
generator down and hides its own slowness (coordinated omission). Here a scheduler greenlet issues
iterations at a fixed rate to a pool of pre-allocated, idle users; when no user is idle at an
iteration's time, the iteration is dropped and counted, never silently postponed. A user records
how late it started an iteration against its schedule (schedule lag).
"""

from __future__ import annotations

import time
from collections import deque

import gevent
from gevent.event import AsyncResult

from .generator import UsageMeter


class ArrivalScheduler:
    def __init__(self, meter: UsageMeter) -> None:
        self.meter = meter
        self.idle: deque[AsyncResult] = deque()
        self._loop: gevent.Greenlet | None = None
        self.rate = 0.0

    def start(self, rate: float) -> None:
        self.stop()
        if rate > 0:
            self.rate = rate
            self._loop = gevent.spawn(self._run, rate)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.kill(block=False)
            self._loop = None
        self.rate = 0.0

    @property
    def running(self) -> bool:
        return self._loop is not None

    def next(self) -> float:
        """Block until an iteration is handed to this user; returns its scheduled time (perf_counter)."""
        slot = AsyncResult()
        self.idle.append(slot)
        try:
            scheduled: float = slot.get()
        except BaseException:
            if slot in self.idle:
                self.idle.remove(slot)
            raise
        self.meter.record_schedule_lag((time.perf_counter() - scheduled) * 1000.0)
        return scheduled

    def _run(self, rate: float) -> None:
        start = time.perf_counter()
        issued = 0
        while True:
            due = start + issued / rate
            delay = due - time.perf_counter()
            if delay > 0:
                gevent.sleep(delay)
            now = time.perf_counter()
            # Everything due by now goes out now: a late scheduler shows up as lag, not a lower rate.
            while start + issued / rate <= now:
                scheduled = start + issued / rate
                issued += 1
                self.meter.iterations += 1
                if self.idle:
                    self.idle.popleft().set(scheduled)
                else:
                    self.meter.dropped += 1
