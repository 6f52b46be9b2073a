"""Where capacity runs out: the knee of a stepped run, headroom against the plan, and what to do.

Two knees, because capacity ends in two ways:

- the **SLO knee**: the highest step that held the SLO, counting up from the first step and
  stopping at the first decided step that missed it (a lucky pass above a failure is not capacity);
- the **saturation knee**: the last step before throughput stopped growing while latency or errors
  rose — more users, but not more work done, only more waiting. Throughput "stops growing" when it
  grows by less than half of what the added users would give at the previous step's rate.

Invalid (generator-bound) and skipped steps are left out: they did not measure the target.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SCALING_EFFICIENCY = 0.5  # throughput must grow by at least half the users' growth to count as scaling
LATENCY_RISE = 1.25  # ... and the step "rises" when p95 grows by 25% or more
ERROR_RISE = 0.005  # ... or the error rate by half a percentage point


@dataclass(frozen=True)
class StepPoint:
    """A step as the knee finder sees it."""

    users: int
    rps: float  # goodput: requests served right per second
    p95_ms: float | None
    error_rate: float | None
    status: str  # passed | failed | inconclusive | skipped
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"{self.users:,} users"


@dataclass(frozen=True)
class Knee:
    max_inside_slo: StepPoint | None
    saturation: StepPoint | None  # the last step that still scaled
    saturated_at: StepPoint | None  # the first step where throughput stopped growing
    first_failure: StepPoint | None

    def to_dict(self) -> dict[str, Any]:
        def one(p: StepPoint | None) -> dict[str, Any] | None:
            return None if p is None else {"users": p.users, "label": p.name, "rps": round(p.rps, 3),
                                           "p95_ms": p.p95_ms, "error_rate": p.error_rate}

        return {"max_users_inside_slo": self.max_inside_slo.users if self.max_inside_slo else None,
                "slo_knee": one(self.max_inside_slo), "saturation_knee": one(self.saturation),
                "saturated_at": one(self.saturated_at), "first_failure": one(self.first_failure)}


def find_knee(steps: Sequence[StepPoint]) -> Knee:
    measured = [s for s in steps if s.status in ("passed", "failed")]
    inside: StepPoint | None = None
    first_failure: StepPoint | None = None
    for s in measured:
        if s.status == "failed":
            first_failure = s
            break
        inside = s
    saturation: StepPoint | None = None
    saturated_at: StepPoint | None = None
    for before, after in itertools.pairwise(measured):
        if before.users <= 0 or before.rps <= 0 or after.users <= before.users:
            continue
        expected_gain = before.rps * (after.users / before.users - 1)
        gain = after.rps - before.rps
        latency_rose = (before.p95_ms is not None and after.p95_ms is not None
                        and after.p95_ms >= before.p95_ms * LATENCY_RISE)
        errors_rose = (after.error_rate or 0.0) >= (before.error_rate or 0.0) + ERROR_RISE
        if gain < SCALING_EFFICIENCY * expected_gain and (latency_rose or errors_rose):
            saturation, saturated_at = before, after
            break
    return Knee(inside, saturation, saturated_at, first_failure)


@dataclass(frozen=True)
class TargetStatus:
    users: int
    action: str
    status: str  # holds | breaks | not measured
    headroom: float | None  # (max users inside the SLO / target) − 1
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"users": self.users, "action": self.action, "status": self.status,
                "headroom": None if self.headroom is None else round(self.headroom, 4), "detail": self.detail}


def headroom(knee: Knee, steps: Sequence[StepPoint], targets: Sequence[Any]) -> list[TargetStatus]:
    """Each of the plan's targets: held (with headroom), broken (where), or not measured."""
    best = knee.max_inside_slo.users if knee.max_inside_slo else 0
    highest = max((s.users for s in steps if s.status in ("passed", "failed")), default=0)
    out: list[TargetStatus] = []
    for t in targets:
        if best >= t.users:
            out.append(TargetStatus(t.users, t.action, "holds", best / t.users - 1,
                                    f"held inside the SLO up to {best:,} users"))
        elif knee.first_failure is not None and knee.first_failure.users <= t.users:
            f = knee.first_failure
            out.append(TargetStatus(t.users, t.action, "breaks", best / t.users - 1 if best else -1.0,
                                    f"the SLO broke at {f.users:,} users" + _numbers(f)))
        elif highest and highest < t.users:
            out.append(TargetStatus(t.users, t.action, "not measured", None,
                                    f"the highest measured step was {highest:,} users"))
        else:
            out.append(TargetStatus(t.users, t.action, "not measured", None, "no valid step reached it"))
    return out


def _numbers(p: StepPoint) -> str:
    parts = []
    if p.p95_ms is not None:
        parts.append(f"p95 {p.p95_ms:.0f} ms")
    if p.error_rate is not None:
        parts.append(f"errors {p.error_rate:.2%}")
    return f" ({', '.join(parts)})" if parts else ""


def recommendations(knee: Knee, statuses: Sequence[TargetStatus], steps: Sequence[StepPoint], *,
                    target_cpu: Sequence[tuple[int, float]] = (), target_memory: Sequence[tuple[int, float]] = (),
                    triggers: Any = None, invalid: Sequence[tuple[str, str]] = ()) -> list[str]:
    """What a capacity planner should do, phrased against the plan's targets and scaling triggers."""
    out: list[str] = []
    first = statuses[0] if statuses else None
    if first is not None and first.status == "breaks":
        out.append(f"The platform does not hold today's {first.users:,} users inside the SLO ({first.detail}): "
                   "fix performance before planning growth.")
    for s in statuses:
        if s is first and s.status == "breaks":
            continue
        if s.status == "breaks":
            out.append(f"Before {s.users:,} users: {s.action} — {s.detail}; the SLO holds up to "
                       f"{knee.max_inside_slo.users if knee.max_inside_slo else 0:,} users.")
        elif s.status == "holds" and s.headroom is not None:
            out.append(f"{s.users:,} users: holds inside the SLO ({s.headroom:+.0%} headroom); "
                       f"\"{s.action}\" is not needed yet for this target.")
    if knee.saturation is not None and knee.saturated_at is not None:
        a, b = knee.saturation, knee.saturated_at
        out.append(f"Throughput stops growing after {a.users:,} users ({a.rps:.0f} → {b.rps:.0f} req/s at "
                   f"{b.users:,} users while p95 rose to {b.p95_ms or 0:.0f} ms): the platform saturates there; "
                   "add capacity before that point, not at the SLO break.")
    if triggers is not None:
        for users, cpu in target_cpu:
            if cpu >= triggers.cpu_percent:
                out.append(f"Target CPU averaged {cpu:.0f}% at {users:,} users (trigger: scale up at "
                           f"{triggers.cpu_percent:g}% sustained): add application instances before {users:,} users.")
                break
        for users, mem in target_memory:
            if mem >= triggers.memory_percent:
                out.append(f"Target memory reached {mem:.0f}% at {users:,} users (trigger: scale up at "
                           f"{triggers.memory_percent:g}% sustained): add memory or instances before "
                           f"{users:,} users.")
                break
    for label, remedy in invalid:
        out.append(f"{label} was not measured: the load generator was the bottleneck; {remedy}.")
    measured = [s for s in steps if s.status in ("passed", "failed")]
    if not out and measured and statuses and all(t.status == "not measured" for t in statuses):
        top = max(s.users for s in measured)
        out.append(f"The run's highest step ({top:,} users) is below the plan's first target "
                   f"({statuses[0].users:,} users): run the capacity profile to measure headroom.")
    if not out:
        out.append("No step measured the target (all were skipped or invalid); rerun with more workers.")
    return out
