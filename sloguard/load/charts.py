"""The capacity report's charts (matplotlib, Agg backend: no display needed).

Over time: users, throughput, p95 and error rate, with each step's hold shaded. Against users:
p95 and throughput per step, with the SLO line and the knee marked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from .control import Point
from .gate import StepResult

COLORS = {"passed": "#2e7d32", "failed": "#c62828", "inconclusive": "#f9a825", "skipped": "#9e9e9e"}


def timeline_chart(points: Sequence[Point], steps: Sequence[StepResult], path: Path, *, slo_p95_ms: float,
                   start: float | None = None, end: float | None = None, title: str = "") -> Path:
    chosen = [p for p in points if (start is None or p.t >= start) and (end is None or p.t <= end)]
    t0 = points[0].t - points[0].interval_s if points else 0.0
    xs = [p.t - t0 for p in chosen]
    fig, axes = plt.subplots(4, 1, figsize=(9, 8), sharex=True)
    series = [
        ("users", [p.users for p in chosen], "#1565c0"),
        ("req/s", [p.rps for p in chosen], "#6a1b9a"),
        ("p95 (ms)", [p.tally.percentile(95) or float("nan") for p in chosen], "#ef6c00"),
        ("errors (%)", [100 * (p.tally.error_rate or 0.0) for p in chosen], "#c62828"),
    ]
    for ax, (label, ys, color) in zip(axes, series, strict=True):
        ax.plot(xs, ys, color=color, linewidth=1.4)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        for s in steps:
            if s.ended_at and s.started_at:
                a, b = s.started_at - t0, s.ended_at - t0
                if (start is None or s.ended_at >= start) and (end is None or s.started_at <= end):
                    ax.axvspan(a, b, color=COLORS.get(s.status, "#9e9e9e"), alpha=0.08)
    axes[2].axhline(slo_p95_ms, color="#c62828", linestyle="--", linewidth=1, label=f"SLO {slo_p95_ms:g} ms")
    axes[2].legend(loc="upper left", fontsize=8)
    axes[-1].set_xlabel("seconds since start")
    fig.suptitle(title or "load over time (shaded: each step's hold, coloured by verdict)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def scaling_chart(steps: Sequence[StepResult], path: Path, *, slo_p95_ms: float, knee_users: int | None) -> Path:
    measured = [s for s in steps if s.duration_s > 0]
    users = [s.users for s in measured]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(users, [s.overall.percentile(95) or float("nan") for s in measured], color="#ef6c00", marker="o")
    ax1.axhline(slo_p95_ms, color="#c62828", linestyle="--", linewidth=1, label=f"SLO {slo_p95_ms:g} ms")
    ax1.set_xlabel("concurrent users")
    ax1.set_ylabel("p95 (ms)")
    ax2.plot(users, [s.throughput for s in measured], color="#6a1b9a", marker="o", label="all requests")
    ax2.plot(users, [s.goodput for s in measured], color="#2e7d32", marker="s", linestyle="--", label="served right")
    ax2.set_xlabel("concurrent users")
    ax2.set_ylabel("throughput (req/s)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        for s in measured:
            ax.axvline(s.users, color=COLORS.get(s.status, "#9e9e9e"), alpha=0.25, linewidth=6)
        if knee_users:
            ax.axvline(knee_users, color="#2e7d32", linestyle=":", linewidth=1.5, label=f"knee {knee_users:,}")
    ax1.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper left", fontsize=8)
    fig.suptitle("p95 and throughput against users (bands: each step, coloured by verdict)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
