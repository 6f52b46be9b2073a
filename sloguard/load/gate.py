"""The SLO gate of a load run: one verdict per step, from the step's hold-phase HDR tallies.

A step is judged only on what it measured: its hold phase (ramps are recorded, not judged), each
scope (overall, every integration, every operation) against its own SLO once it has
``load.min_samples`` samples. A step whose generator was the bottleneck is *inconclusive* (it
measured the generator), never passed or failed; a step the run never reached is *skipped*. A
miss inside the plan's range is a P1 SLO_MISSED that fails the run; beyond it (stress steps past
10,000 users) it is the breaking point, reported as P3 so it does not fail the run. A run aborted
for a sustained error rate carries a P0 HIGH_ERROR_RATE on the step it happened in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sloguard.severity import Rule, Severity

from .generator import GeneratorUsage
from .plan import LoadPlan, StepPlan
from .tallies import StepTally

Status = Literal["passed", "failed", "inconclusive", "skipped"]
ScopeKind = Literal["overall", "integration", "operation"]
MAX_OPERATION_FINDINGS = 10


@dataclass(frozen=True)
class Objective:
    latency_p95_ms: float
    error_rate: float
    availability: float

    @classmethod
    def of(cls, slo: Any) -> Objective:
        return cls(float(slo.latency_p95_ms), float(slo.error_rate), float(slo.availability))


@dataclass
class ScopeResult:
    kind: ScopeKind
    key: str
    name: str
    integration: str | None
    tally: StepTally
    objective: Objective
    met: bool | None = None  # None: too few samples to decide
    misses: list[str] = field(default_factory=list)

    def p(self, q: float) -> float | None:
        return self.tally.percentile(q)

    def to_dict(self) -> dict[str, Any]:
        t = self.tally
        return {"kind": self.kind, "key": self.key, "name": self.name, "integration": self.integration,
                "requests": t.requests, "errors": t.errors, "unavailable": t.unavailable,
                "error_rate": t.error_rate, "p50_ms": self.p(50), "p95_ms": self.p(95), "p99_ms": self.p(99),
                "max_ms": t.latency.max_ms, "failed_statuses": t.statuses, "met": self.met, "misses": self.misses}


@dataclass(frozen=True)
class GateFinding:
    rule: Rule
    message: str
    severity: Severity | None = None
    warning: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule.name, "severity": (self.severity or self.rule.severity).value,
                "message": self.message, "warning": self.warning}


@dataclass
class GeneratorSummary:
    """The generator over a step's hold: the busiest worker, and what would make the step valid."""

    workers: int
    demand_percent: float  # CPU used + waited for, busiest worker
    cpu_percent: float
    wait_percent: float
    lag_p95_ms: float | None
    lag_p99_ms: float | None
    schedule_lag_p99_ms: float | None
    iterations: int
    dropped: int
    memory_mb: float
    problems: list[str] = field(default_factory=list)
    workers_needed: int | None = None
    starved: bool = False  # it needed little CPU but waited for it: other processes took the cores

    @property
    def valid(self) -> bool:
        return not self.problems

    @classmethod
    def of(cls, usage: dict[str, GeneratorUsage], limits: Any) -> GeneratorSummary:
        workers = list(usage.values()) or [GeneratorUsage()]
        busiest = max(workers, key=lambda u: u.demand_percent)
        lag, sched = GeneratorUsage(), GeneratorUsage()
        for u in workers:
            lag.lag.merge(u.lag)
            sched.schedule_lag.merge(u.schedule_lag)
        iterations = sum(u.iterations for u in workers)
        dropped = sum(u.dropped for u in workers)
        out = cls(len(usage), busiest.demand_percent, busiest.cpu_percent, busiest.wait_percent,
                  lag.lag.percentile(95), lag.lag.percentile(99), sched.schedule_lag.percentile(99), iterations,
                  dropped, sum(u.memory_bytes for u in workers) / 2**20)
        if out.demand_percent > limits.max_cpu_percent:
            wait = f", {out.wait_percent:.0f}% of it waiting for a core" if out.wait_percent >= 10 else ""
            out.problems.append(f"generator CPU {out.demand_percent:.0f}%{wait} (limit {limits.max_cpu_percent:g}%)")
        if out.lag_p95_ms is not None and out.lag_p95_ms > limits.max_loop_lag_ms:
            out.problems.append(f"event-loop lag p95 {out.lag_p95_ms:.0f} ms (limit {limits.max_loop_lag_ms:g} ms)")
        if out.schedule_lag_p99_ms is not None and out.schedule_lag_p99_ms > limits.max_schedule_lag_ms:
            out.problems.append(f"schedule lag p99 {out.schedule_lag_p99_ms:.0f} ms "
                                f"(limit {limits.max_schedule_lag_ms:g} ms)")
        if iterations and dropped / iterations > limits.max_dropped_ratio:
            out.problems.append(f"{dropped:,} of {iterations:,} iterations dropped ({dropped / iterations:.1%}): "
                                "the user pool was too small for the arrival rate")
        if out.problems and out.cpu_percent >= limits.target_cpu_percent:
            n = max(1, len(usage))
            out.workers_needed = max(n + 1, math.ceil(n * max(out.demand_percent, 1.0) / limits.target_cpu_percent))
        elif out.problems and not dropped:
            out.starved = True
        return out

    @property
    def remedy(self) -> str:
        if self.workers_needed:
            return f"run with --workers {self.workers_needed}"
        if not self.starved:
            return "give the rate profile more users (its pool of pre-allocated users)"
        return (f"it used {self.cpu_percent:.0f}% of a core but waited for one {self.wait_percent:.0f}% of the "
                "time: other processes took the machine's cores — run the generator on a quieter machine")

    def to_dict(self) -> dict[str, Any]:
        return {"workers": self.workers, "cpu_demand_percent": round(self.demand_percent, 1),
                "cpu_percent": round(self.cpu_percent, 1), "cpu_wait_percent": round(self.wait_percent, 1),
                "loop_lag_p95_ms": self.lag_p95_ms, "loop_lag_p99_ms": self.lag_p99_ms,
                "schedule_lag_p99_ms": self.schedule_lag_p99_ms,
                "iterations": self.iterations, "dropped": self.dropped, "memory_mb": round(self.memory_mb, 1),
                "valid": self.valid, "problems": self.problems, "workers_needed": self.workers_needed,
                "starved": self.starved, "remedy": self.remedy if self.problems else None}


@dataclass
class TargetUsage:
    """The target's own CPU and memory over a step's hold, from its Prometheus metrics."""

    cpu_percent: float | None
    memory_mb: float | None
    memory_percent: float | None
    samples: int

    def to_dict(self) -> dict[str, Any]:
        return {"cpu_percent": self.cpu_percent, "memory_mb": self.memory_mb,
                "memory_percent": self.memory_percent, "samples": self.samples}


@dataclass
class PhaseMeasure:
    """What the controller and the workers measured over one step's hold."""

    scopes: dict[str, tuple[str, str | None, StepTally]]  # key -> (name, integration, tally)
    usage: dict[str, GeneratorUsage]
    started_at: float  # wall clock
    ended_at: float
    users: int


@dataclass
class Abort:
    step: int
    error_rate: float
    sustained_s: float
    at_users: int


@dataclass
class StepResult:
    index: int
    label: str
    users: int
    rps: float | None
    hold_s: float
    in_target_range: bool
    status: Status
    reason: str | None = None
    started_at: float = 0.0
    ended_at: float | None = None
    duration_s: float = 0.0
    overall: StepTally = field(default_factory=StepTally)
    scopes: list[ScopeResult] = field(default_factory=list)
    generator: GeneratorSummary | None = None
    target: TargetUsage | None = None
    findings: list[GateFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.overall.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def goodput(self) -> float:
        """Requests served right per second: what capacity is (429s and 5xx are not work done)."""
        o = self.overall
        return (o.requests - o.errors) / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def decided(self) -> bool:
        return self.status in ("passed", "failed")

    @property
    def counts_toward_slo(self) -> bool:
        return self.decided and self.in_target_range and (self.generator is None or self.generator.valid)

    def to_dict(self) -> dict[str, Any]:
        o = self.overall
        return {
            "index": self.index, "label": self.label, "users": self.users, "rps_target": self.rps,
            "hold_s": self.hold_s, "measured_s": round(self.duration_s, 3), "in_target_range": self.in_target_range,
            "status": self.status, "reason": self.reason, "started_at": self.started_at, "ended_at": self.ended_at,
            "requests": o.requests, "errors": o.errors, "unavailable": o.unavailable,
            "throughput_rps": round(self.throughput, 3), "goodput_rps": round(self.goodput, 3),
            "error_rate": o.error_rate,
            "p50_ms": o.percentile(50), "p95_ms": o.percentile(95), "p99_ms": o.percentile(99),
            "generator": self.generator.to_dict() if self.generator else None,
            "target": self.target.to_dict() if self.target else None,
            "findings": [f.to_dict() for f in self.findings], "notes": self.notes,
            "scopes": [s.to_dict() for s in self.scopes], "charts": [p for _, p in self.charts],
        }


def _judge_scope(scope: ScopeResult, min_samples: int) -> None:
    t, obj = scope.tally, scope.objective
    if t.requests < min_samples:
        return
    p95 = t.percentile(95)
    if p95 is not None and p95 >= obj.latency_p95_ms:
        scope.misses.append(f"p95 {p95:.1f} ms ≥ {obj.latency_p95_ms:g} ms")
    rate = t.error_rate or 0.0
    if not (rate < obj.error_rate or (obj.error_rate == 0 and rate == 0)):
        scope.misses.append(f"error rate {rate:.2%} ≥ {obj.error_rate:.2%} ({t.errors:,} of {t.requests:,})")
    avail = t.availability
    if avail is not None and avail < obj.availability:
        scope.misses.append(f"availability {avail:.3%} < {obj.availability:.3%}")
    scope.met = not scope.misses


def judge(
    plan: LoadPlan,
    measures: dict[int, PhaseMeasure],
    *,
    slo_for: Callable[[str | None], Any],
    min_samples: int,
    limits: Any,
    abort: Abort | None = None,
    stopped_after: int | None = None,
    target_usage: dict[int, TargetUsage] | None = None,
    triggers: Any = None,
) -> list[StepResult]:
    """The verdict of every planned step (see the module docstring for the rules)."""
    out: list[StepResult] = []
    for step in plan.steps:
        m = measures.get(step.index)
        result = StepResult(step.index, step.label, step.users, step.rps, step.hold_s, step.in_target_range,
                            "skipped")
        if m is None:
            if abort is not None and abort.step == step.index:
                result.status = "failed"
                result.findings.append(_abort_finding(abort))
            else:
                result.reason = _why_not_reached(step, abort, stopped_after)
            out.append(result)
            continue
        result.started_at, result.ended_at = m.started_at, m.ended_at
        result.duration_s = max(0.0, m.ended_at - m.started_at)
        _fill_scopes(result, m, slo_for, min_samples)
        result.generator = GeneratorSummary.of(m.usage, limits)
        result.target = (target_usage or {}).get(step.index)
        _decide(result, step, plan, min_samples, abort)
        if triggers is not None and result.target is not None:
            result.findings.extend(_capacity_warnings(result, triggers))
        out.append(result)
    return out


def _fill_scopes(result: StepResult, m: PhaseMeasure, slo_for: Callable[[str | None], Any], min_samples: int) -> None:
    by_integration: dict[str, list[StepTally]] = {}
    overall = StepTally()
    ops: list[ScopeResult] = []
    for key, (name, integration, tally) in sorted(m.scopes.items()):
        overall.merge(tally)
        if integration:
            by_integration.setdefault(integration, []).append(tally)
        ops.append(ScopeResult("operation", key, name, integration, tally, Objective.of(slo_for(integration))))
    result.overall = overall
    scopes = [ScopeResult("overall", "overall", "overall", None, overall, Objective.of(slo_for(None)))]
    scopes += [ScopeResult("integration", name, name, name, StepTally.merged(ts), Objective.of(slo_for(name)))
               for name, ts in sorted(by_integration.items())]
    scopes += ops
    for scope in scopes:
        _judge_scope(scope, min_samples)
    result.scopes = scopes


def _decide(result: StepResult, step: StepPlan, plan: LoadPlan, min_samples: int, abort: Abort | None) -> None:
    gen = result.generator
    aborted_here = abort is not None and abort.step == step.index
    if aborted_here:
        assert abort is not None
        result.findings.append(_abort_finding(abort))
    if gen is not None and not gen.valid and not aborted_here:
        result.status = "inconclusive"
        result.reason = (f"invalid step: the load generator was the bottleneck ({'; '.join(gen.problems)}); "
                         f"it measured itself, not the target — {gen.remedy}")
        return
    overall = result.scopes[0]
    if overall.tally.requests < min_samples and not aborted_here:
        result.status = "inconclusive"
        result.reason = (f"only {overall.tally.requests} requests in the hold phase; a verdict needs "
                         f"{min_samples} (load.min_samples) — hold the step longer or add users")
        return
    beyond = not step.in_target_range
    severity = Severity.P3 if beyond else None
    suffix = (f" (beyond the plan's {plan.target_range_users:,}-user range: the breaking point)" if beyond else "")
    where = f"at {step.label}"
    findings: list[GateFinding] = []
    for miss in overall.misses:
        findings.append(GateFinding(Rule.SLO_MISSED, f"{where}: {miss}{suffix}", severity))
    missed_integrations = set()
    for scope in result.scopes[1:]:
        misses = _own_misses(scope, overall)
        if scope.kind == "integration" and misses:
            missed_integrations.add(scope.key)
            findings.append(GateFinding(Rule.SLO_MISSED, f"[{scope.key}] {where}: {'; '.join(misses)}{suffix}",
                                        severity))
    op_misses = [s for s in result.scopes if s.kind == "operation" and _own_misses(s, overall)
                 and s.integration not in missed_integrations]
    for scope in op_misses[:MAX_OPERATION_FINDINGS]:
        findings.append(GateFinding(Rule.SLO_MISSED, f"{scope.name} {where}: {'; '.join(_own_misses(scope, overall))}"
                                    f"{suffix}", severity))
    if len(op_misses) > MAX_OPERATION_FINDINGS:
        result.notes.append(f"{len(op_misses) - MAX_OPERATION_FINDINGS} more operations missed their SLO "
                            "(see the capacity report)")
    limited = overall.tally.statuses.get("429", 0)
    if limited and limited * 2 >= overall.tally.errors:
        findings.append(GateFinding(Rule.RATE_LIMITED, f"{where}: {limited:,} of {overall.tally.errors:,} failed "
                                    "requests were refused with 429 (rate limited)", severity))
    result.findings.extend(findings)
    result.status = "failed" if findings or aborted_here else "passed"


OUTLIER = 2.0  # a scope missing the same objective as the whole step is its own finding only when this much worse


def _own_misses(scope: ScopeResult, overall: ScopeResult) -> list[str]:
    """The scope's misses that the step's overall misses do not already explain (one root cause, one
    finding): objectives the step met, or where this scope is an outlier."""
    if not scope.misses or not overall.misses:
        return scope.misses
    out = []
    for miss in scope.misses:
        objective = miss.split(" ", 1)[0]
        shared = any(m.startswith(objective) for m in overall.misses)
        if not shared or _worse(scope, overall, objective):
            out.append(miss)
    return out


def _worse(scope: ScopeResult, overall: ScopeResult, objective: str) -> bool:
    if objective == "p95":
        mine, all_ = scope.tally.percentile(95) or 0.0, overall.tally.percentile(95) or 0.0
    elif objective == "availability":
        mine, all_ = 1 - (scope.tally.availability or 1.0), 1 - (overall.tally.availability or 1.0)
    else:
        mine, all_ = scope.tally.error_rate or 0.0, overall.tally.error_rate or 0.0
    return mine >= OUTLIER * all_


def _abort_finding(abort: Abort) -> GateFinding:
    return GateFinding(Rule.HIGH_ERROR_RATE,
                       f"error rate {abort.error_rate:.1%} above the abort threshold for {abort.sustained_s:.0f} s "
                       f"at {abort.at_users:,} users: run aborted")


def _why_not_reached(step: StepPlan, abort: Abort | None, stopped_after: int | None) -> str:
    if abort is not None:
        return f"not run: the run was aborted at step {abort.step + 1} for a sustained error rate"
    if stopped_after is not None:
        return f"not run: the SLO broke at step {stopped_after + 1} and the profile stops at the break"
    return "not run: the run stopped before this step"


def _capacity_warnings(result: StepResult, triggers: Any) -> list[GateFinding]:
    t = result.target
    out: list[GateFinding] = []
    if t is None:
        return out
    if t.cpu_percent is not None and t.cpu_percent >= triggers.cpu_percent:
        out.append(GateFinding(Rule.CAPACITY_NEAR, f"target CPU {t.cpu_percent:.0f}% at {result.label} "
                                                   f"(scale-up trigger: {triggers.cpu_percent:g}% sustained)",
                               warning=True))
    if t.memory_percent is not None and t.memory_percent >= triggers.memory_percent:
        out.append(GateFinding(Rule.CAPACITY_NEAR, f"target memory {t.memory_percent:.0f}% at {result.label} "
                                                   f"(scale-up trigger: {triggers.memory_percent:g}% sustained)",
                               warning=True))
    return out


def exit_code(steps: Sequence[StepResult]) -> int:
    """1 when a step inside the plan's range failed (or nothing was decided), else 0."""
    if any(s.status == "failed" and (s.in_target_range or any(f.rule is Rule.HIGH_ERROR_RATE for f in s.findings))
           for s in steps):
        return 1
    if not any(s.decided for s in steps):
        return 1
    return 0
