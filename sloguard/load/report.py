"""The capacity report: ``reports/load/capacity.json``, ``capacity.html`` (charts embedded, opens
offline) and the terminal summary. Everything written passes `sloguard.redact`."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from sloguard.redact import redact, redact_text
from sloguard.results import write_atomic

from . import charts
from .gate import StepResult
from .outcome import RunOutcome

STATUS_STYLE = {"passed": "green", "failed": "red", "inconclusive": "yellow", "skipped": "dim"}


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.1f}"


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _pct(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}%}"


def draw_charts(outcome: RunOutcome, folder: Path, slo_p95_ms: float) -> dict[str, Path]:
    """The run's charts, and each step's own timeline, as PNG files (attached to the step results)."""
    points = outcome.controller.timeline
    out: dict[str, Path] = {}
    if not points:
        return out
    out["timeline"] = charts.timeline_chart(points, outcome.steps, folder / "timeline.png", slo_p95_ms=slo_p95_ms)
    knee = outcome.knee.max_inside_slo.users if outcome.knee.max_inside_slo else None
    out["scaling"] = charts.scaling_chart(outcome.steps, folder / "scaling.png", slo_p95_ms=slo_p95_ms,
                                          knee_users=knee)
    single = len([s for s in outcome.steps if s.duration_s > 0]) == 1
    for s in outcome.steps:
        if s.ended_at and s.duration_s > 0 and single:
            s.charts = [("the run over time", str(out["timeline"])), ("p95 and throughput against users",
                                                                       str(out["scaling"]))]
        elif s.ended_at and s.duration_s > 0:
            path = charts.timeline_chart(points, [s], folder / f"step-{s.index + 1}.png", slo_p95_ms=slo_p95_ms,
                                         start=s.started_at - 5, end=s.ended_at + 1,
                                         title=f"step {s.index + 1}: {s.label} ({s.status})")
            s.charts = [(f"step {s.index + 1} over time", str(path)), ("p95 and throughput against users",
                                                                        str(out["scaling"]))]
    return out


def document(outcome: RunOutcome, config: Any) -> dict[str, Any]:
    plan = outcome.plan
    doc = {
        "profile": plan.profile, "mode": plan.mode, "target": config.target.base_url,
        "started_at": outcome.started_at, "duration_s": round(outcome.duration_s, 3), "exit_code": outcome.exit_code,
        "verdict": "pass" if outcome.exit_code == 0 else "fail", "scale": plan.scale,
        "workers": max((s.generator.workers for s in outcome.steps if s.generator), default=max(1, plan.workers)),
        "slo": {"latency_p95_ms": config.slos.default.latency_p95_ms, "error_rate": config.slos.default.error_rate,
                "availability": config.slos.default.availability},
        "steps": [s.to_dict() for s in outcome.steps], "knee": outcome.knee.to_dict(),
        "targets": [t.to_dict() for t in outcome.targets], "recommendations": outcome.recommendations,
        "notes": list(plan.notes) + outcome.notes, "soak": outcome.soak,
        "totals": outcome.controller.totals(), "locust_totals": outcome.controller.locust_totals,
        "timeline": [p.to_dict() for p in outcome.controller.timeline],
        "target_metrics": [{"t": s.t, "cpu_s": s.cpu_s, "rss_bytes": s.rss_bytes} for s in outcome.target_samples],
    }
    return dict(redact(doc))


def write(outcome: RunOutcome, config: Any, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    images = draw_charts(outcome, folder, config.slos.default.latency_p95_ms)
    doc = document(outcome, config)
    paths = {"json": write_atomic(folder / "capacity.json", json.dumps(doc, indent=2, default=str) + "\n")}
    paths["html"] = write_atomic(folder / "capacity.html", render_html(doc, images))
    paths.update(images)
    return paths


def _embed(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


_TARGET_CLASS = {"holds": "passed", "breaks": "failed"}


def _step_row(s: dict[str, Any]) -> str:
    e = html.escape
    gen, target = s.get("generator") or {}, s.get("target") or {}
    verdict = f"<b>{e(s['status'])}</b>"
    if s["reason"]:
        verdict += f"<br><small>{e(redact_text(s['reason']))}</small>"
    for f in s["findings"]:
        verdict += f"<br><small>[{e(f['severity'])} {e(f['rule'])}] {e(redact_text(f['message']))}</small>"
    cells = [str(s["index"] + 1), e(s["label"]), f"{s['throughput_rps']:.1f}", _ms(s["p50_ms"]), _ms(s["p95_ms"]),
             _ms(s["p99_ms"]), _pct(s["error_rate"]), _num(gen.get("cpu_demand_percent"), "{:.0f}%"),
             _num(target.get("cpu_percent"), "{:.0f}%"), verdict]
    return f"<tr class='{e(s['status'])}'>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"


def _target_row(t: dict[str, Any]) -> str:
    e = html.escape
    cells = [f"{t['users']:,}", e(t["action"]), e(t["status"]), _num(t["headroom"], "{:+.0%}"), e(t["detail"])]
    return (f"<tr class='{_TARGET_CLASS.get(t['status'], 'skipped')}'>" + "".join(f"<td>{c}</td>" for c in cells)
            + "</tr>")


def render_html(doc: dict[str, Any], images: dict[str, Path]) -> str:
    e = html.escape
    rows = "".join(_step_row(s) for s in doc["steps"])
    knee = doc["knee"]
    slo_knee, sat = knee.get("slo_knee"), knee.get("saturation_knee")
    targets = "".join(_target_row(t) for t in doc["targets"])
    headroom = ("<h2>Headroom against the plan</h2><table><tr><th>users</th><th>plan</th><th>status</th>"
                f"<th>headroom</th><th>detail</th></tr>{targets}</table>") if targets else ""
    recs = "".join(f"<li>{e(redact_text(r))}</li>" for r in doc["recommendations"])
    notes = "".join(f"<li>{e(redact_text(n))}</li>" for n in doc["notes"])
    notes_html = f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""
    imgs = "".join(f"<figure>{_embed(p)}</figure>" for k, p in images.items() if k in ("timeline", "scaling"))
    slo_label = e(slo_knee["label"]) if slo_knee else "none"
    sat_label = e(sat["label"]) if sat else "not reached"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sloguard capacity report · {e(doc['profile'])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1100px; }}
table {{ border-collapse: collapse; margin: 1rem 0; width: 100%; }}
th, td {{ border: 1px solid #ddd; padding: 4px 8px; text-align: right; vertical-align: top; }}
th {{ background: #f4f4f4; }} td:nth-child(2), td:last-child {{ text-align: left; }}
tr.passed td:last-child {{ color: #2e7d32; }} tr.failed td:last-child {{ color: #c62828; }}
tr.inconclusive td:last-child {{ color: #a67c00; }} tr.skipped {{ color: #888; }}
figure img {{ max-width: 100%; }} .verdict {{ font-size: 1.4rem; font-weight: bold; }}
</style></head><body>
<h1>Capacity report — {e(doc['profile'])} profile</h1>
<p class="verdict">{'PASS' if doc['verdict'] == 'pass' else 'FAIL'}</p>
<p>Target {e(redact_text(doc['target']))}, {len(doc['steps'])} step(s), {doc['duration_s']:.0f} s,
{doc['workers']} generator process(es). SLO: p95 &lt; {doc['slo']['latency_p95_ms']:g} ms,
error rate &lt; {doc['slo']['error_rate']:.2%}.</p>
<h2>Steps</h2>
<table><tr><th>#</th><th>step</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th>
<th>generator CPU</th><th>target CPU</th><th>verdict</th></tr>{rows}</table>
<h2>Knee</h2>
<p>Highest step inside the SLO: <b>{slo_label}</b>. Throughput stops growing after: <b>{sat_label}</b>.</p>
{headroom}
<h2>Recommendations</h2><ul>{recs}</ul>
{notes_html}
<h2>Charts</h2>{imgs}
</body></html>
"""


def print_summary(outcome: RunOutcome, console: Console | None = None) -> None:
    console = console or Console(stderr=True)
    table = Table(title=f"load · {outcome.plan.profile} → {outcome.plan.base_url}")
    for col in ("step", "users", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "gen CPU", "verdict"):
        table.add_column(col, justify="left" if col in ("step", "verdict") else "right")
    for s in outcome.steps:
        table.add_row(f"{s.index + 1} {s.label}", f"{s.users:,}", f"{s.throughput:.1f}",
                      _ms(s.overall.percentile(50)), _ms(s.overall.percentile(95)), _ms(s.overall.percentile(99)),
                      _pct(s.overall.error_rate), f"{s.generator.demand_percent:.0f}%" if s.generator else "—",
                      f"[{STATUS_STYLE[s.status]}]{s.status}[/]")
    console.print(table)
    for s in outcome.steps:
        for line in _step_lines(s):
            console.print(f"  step {s.index + 1}: {line}", markup=False, highlight=False)
    knee = outcome.knee
    if outcome.plan.mode == "closed":
        console.print(f"knee: highest step inside the SLO {knee.max_inside_slo.name if knee.max_inside_slo else 'none'}"
                      f"; throughput stops growing after {knee.saturation.name if knee.saturation else 'not reached'}",
                      markup=False, highlight=False)
    for r in outcome.recommendations:
        console.print(f"• {redact_text(r)}", markup=False, highlight=False)
    word = "PASS" if outcome.exit_code == 0 else "FAIL"
    console.print(f"[bold {'green' if word == 'PASS' else 'red'}]{word}[/]")


def _step_lines(s: StepResult) -> list[str]:
    lines = [f"[{(f.severity or f.rule.severity).value} {f.rule.name}] {redact_text(f.message)}" for f in s.findings]
    if s.reason:
        lines.append(redact_text(s.reason))
    return lines
