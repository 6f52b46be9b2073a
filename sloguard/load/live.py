"""The live progress of a run: step, users, throughput, p95, errors and time left.

On a terminal, a rich panel refreshed once a second; otherwise (CI logs, tests) one plain line
every ten seconds, so a log shows progress without drowning in it.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .control import Controller
from .plan import LoadPlan
from .tallies import StepTally

PLAIN_EVERY_S = 10.0
RECENT_POINTS = 5


class LiveProgress:
    def __init__(self, plan: LoadPlan, controller: Controller, *, quiet: bool = False) -> None:
        self.plan, self.controller, self.quiet = plan, controller, quiet
        self.console = Console(file=sys.stderr)
        self._live: Live | None = None
        self._last_plain = 0.0
        self._last_phase: tuple[int, str] = (-1, "idle")
        if self.console.is_terminal and not quiet:
            self._live = Live(self._table(), console=self.console, refresh_per_second=2, transient=False)
            self._live.start()

    def numbers(self) -> dict[str, Any]:
        c = self.controller
        recent = c.timeline[-RECENT_POINTS:]
        tally = StepTally.merged(p.tally for p in recent)
        seconds = sum(p.interval_s for p in recent)
        step = c.plan.steps[max(0, c.step)]
        left = self._time_left()
        return {"step": f"{max(0, c.step) + 1}/{len(c.plan.steps)} {step.label}", "phase": c.phase,
                "users": recent[-1].users if recent else 0, "rps": tally.requests / seconds if seconds else 0.0,
                "p95": tally.percentile(95), "errors": tally.error_rate, "cpu": recent[-1].demand_percent if recent
                else 0.0, "left": left}

    def _time_left(self) -> float:
        c = self.controller
        if c.step < 0:
            return self.plan.expected_s()
        elapsed = time.monotonic() - c.phase_started
        left = 0.0
        for i, s in enumerate(self.plan.steps):
            if i < c.step:
                continue
            ramp, hold = self.plan.ramp_s(i), s.hold_s
            if i == c.step:
                left += (max(0.0, ramp - elapsed) + hold) if c.phase == "ramp" else max(0.0, hold - elapsed)
            else:
                left += ramp + hold
        return left

    def _table(self) -> Table:
        n = self.numbers() if self.controller.timeline else None
        table = Table(title=f"sloguard load · {self.plan.profile} → {self.plan.base_url}", show_header=True)
        for col in ("step", "phase", "users", "req/s", "p95", "errors", "generator CPU", "time left"):
            table.add_column(col, justify="right" if col not in ("step", "phase") else "left")
        if n is not None:
            table.add_row(n["step"], n["phase"], f"{n['users']:,}", f"{n['rps']:.0f}",
                          "—" if n["p95"] is None else f"{n['p95']:.0f} ms",
                          "—" if n["errors"] is None else f"{n['errors']:.2%}", f"{n['cpu']:.0f}%",
                          f"{n['left']:.0f} s")
        return table

    def update(self) -> None:
        if self._live is not None:
            self._live.update(self._table())
            return
        now = time.monotonic()
        phase = (self.controller.step, self.controller.phase)
        changed = phase != self._last_phase
        self._last_phase = phase
        if self.quiet or not self.controller.timeline or (not changed and now - self._last_plain < PLAIN_EVERY_S):
            return
        self._last_plain = now
        n = self.numbers()
        p95 = "—" if n["p95"] is None else f"{n['p95']:.0f} ms"
        errors = "—" if n["errors"] is None else f"{n['errors']:.2%}"
        self.console.print(f"[{n['step']} {n['phase']}] users {n['users']:,} · {n['rps']:.0f} req/s · p95 {p95} · "
                           f"errors {errors} · generator CPU {n['cpu']:.0f}% · {n['left']:.0f} s left",
                           markup=False, highlight=False)

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
