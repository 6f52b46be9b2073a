"""From what the controller collected to the run's outcome: step verdicts, soak growth, the knee."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psutil

from sloguard.config import Config, is_loopback
from sloguard.severity import Rule

from . import gate, soak
from .control import Controller
from .gate import GateFinding, StepResult, TargetUsage
from .knee import Knee, StepPoint, TargetStatus, find_knee, headroom, recommendations
from .plan import LoadPlan
from .tallies import StepTally
from .target_metrics import Sample, window


@dataclass
class RunOutcome:
    plan: LoadPlan
    steps: list[StepResult]
    knee: Knee
    targets: list[TargetStatus]
    recommendations: list[str]
    controller: Controller
    started_at: float
    ended_at: float
    target_samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    soak: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return gate.exit_code(self.steps)

    @property
    def duration_s(self) -> float:
        return self.ended_at - self.started_at

    def points(self) -> list[StepPoint]:
        return [StepPoint(s.users, s.goodput, s.overall.percentile(95), s.overall.error_rate, s.status, s.label)
                for s in self.steps]


def _memory_limit(config: Config) -> float | None:
    limit = config.load.metrics.memory_limit_mb
    if limit is not None:
        return limit * 2**20
    return float(psutil.virtual_memory().total) if is_loopback(config.target.base_url) else None


def decide(config: Config, plan: LoadPlan, controller: Controller, samples: list[Sample]) -> RunOutcome:
    measures = controller.measures()
    metrics = config.load.metrics
    limit = _memory_limit(config)
    usage: dict[int, TargetUsage] = {}
    for index, m in measures.items():
        cpu, rss, mem, n = window(samples, m.started_at, m.ended_at, cores=metrics.cpu_cores, memory_limit_bytes=limit)
        if n:
            usage[index] = TargetUsage(cpu, rss, mem, n)
    steps = gate.judge(plan, measures, slo_for=config.slo_for, min_samples=config.load.min_samples,
                       limits=config.load.generator, abort=controller.abort, stopped_after=controller.stopped_after,
                       target_usage=usage, triggers=config.load.triggers)
    soak_info: dict[str, Any] = {}
    if plan.soak and steps:
        soak_info = _soak(config, controller, samples, steps[0])
    outcome = RunOutcome(plan, steps, find_knee([]), [], [], controller, controller.started_wall, time.time(),
                         samples, list(controller.notes), soak_info)
    points = outcome.points()
    outcome.knee = find_knee(points)
    outcome.targets = headroom(outcome.knee, points, plan.targets) if plan.mode == "closed" else []
    invalid = [(s.label, s.generator.remedy) for s in steps
               if s.status == "inconclusive" and s.generator is not None and not s.generator.valid]
    outcome.recommendations = recommendations(
        outcome.knee, outcome.targets, points,
        target_cpu=[(s.users, s.target.cpu_percent) for s in steps if s.target and s.target.cpu_percent is not None],
        target_memory=[(s.users, s.target.memory_percent) for s in steps
                       if s.target and s.target.memory_percent is not None],
        triggers=config.load.triggers, invalid=invalid,
    ) if plan.mode == "closed" else _rate_recommendations(steps)
    return outcome


def _rate_recommendations(steps: list[StepResult]) -> list[str]:
    out = []
    for s in steps:
        g = s.generator
        if g is not None and g.dropped:
            out.append(f"{s.label}: {g.dropped:,} of {g.iterations:,} iterations were dropped — the pool of users "
                       "was too small for the arrival rate at this latency; raise the profile's users.")
        elif s.status == "passed":
            out.append(f"{s.label}: held inside the SLO at the full arrival rate.")
        elif s.status == "failed":
            out.append(f"{s.label}: the SLO broke at this arrival rate ({'; '.join(f.message for f in s.findings)}).")
    return out or ["No step measured the target."]


def _soak(config: Config, controller: Controller, samples: list[Sample], step: StepResult) -> dict[str, Any]:
    """Memory and latency trends over the soak's hold; SOAK_GROWTH findings on its step."""
    cfg = config.load.soak
    start, end = step.started_at, step.ended_at or time.time()
    rss = [(s.t - start, s.rss_bytes / 2**20) for s in samples if s.rss_bytes is not None and start <= s.t <= end]
    memory = soak.fit(rss)
    holds = [p for p in controller.timeline if p.phase == "hold" and p.step == step.index]
    latency = None
    windows: list[tuple[float, float]] = []
    if len(holds) >= cfg.windows:
        size = len(holds) / cfg.windows
        for i in range(cfg.windows):
            chunk = holds[int(i * size):int((i + 1) * size)]
            merged = StepTally.merged(p.tally for p in chunk)
            p95 = merged.percentile(95)
            if p95 is not None and chunk:
                windows.append((chunk[-1].t - start, p95))
        latency = soak.fit(windows)
    messages = [
        soak.growth_finding(memory, what="target memory (RSS)", threshold_percent=cfg.memory_growth_percent,
                            min_r2=cfg.min_r2, unit=" MiB"),
        soak.growth_finding(latency, what="p95 latency", threshold_percent=cfg.latency_growth_percent,
                            min_r2=cfg.min_r2, unit=" ms"),
    ]
    for message in filter(None, messages):
        step.findings.append(GateFinding(Rule.SOAK_GROWTH, message))
        if step.status == "passed":
            step.status = "failed"
    return {
        "memory_mb": [(round(t, 1), round(v, 2)) for t, v in rss],
        "memory_trend": None if memory is None else {"growth": memory.growth, "r2": memory.r2,
                                                      "slope_mb_per_min": memory.slope_per_s * 60},
        "p95_windows": [(round(t, 1), round(v, 3)) for t, v in windows],
        "latency_trend": None if latency is None else {"growth": latency.growth, "r2": latency.r2},
    }
