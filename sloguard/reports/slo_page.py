"""The SLO page: one run's objectives, error budgets and alerts, as Markdown and as HTML.

Read from ``summary.json`` (schema v2) alone, so it can be rebuilt for any kept run. The Markdown
is GitHub-flavoured and fits a CI job summary (``$GITHUB_STEP_SUMMARY``) or a pull-request comment;
the HTML is one self-contained file (inline styles, no scripts, no outside assets) that sits beside
the Allure report.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard.redact import redact, redact_text
from sloguard.results import write_atomic
from sloguard.slo import ErrorBudget

HTML_NAME = "slo.html"
MARKDOWN_NAME = "slo.md"
STEP_SUMMARY_VAR = "GITHUB_STEP_SUMMARY"
SLO_ORDER = ("latency_p95_ms", "error_rate", "availability", "network_ms")
SLO_TITLES = {"latency_p95_ms": "latency p95", "error_rate": "error rate", "availability": "availability",
              "network_ms": "network p95"}
_MAX_SUMMARY = 240
_MAX_ALERTS = 50


@dataclass(frozen=True)
class Cell:
    """One table cell: its text and whether it is a pass (True), a miss (False) or unknown (None)."""

    text: str
    ok: bool | None = None


def _fmt(name: str, value: float | None) -> str:
    if value is None:
        return "no data"
    if name in ("error_rate", "availability"):
        return f"{value * 100:.3f}%"
    if name.endswith("_ms"):
        return f"{value:.1f} ms"
    return f"{value:g}"


def _objective(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    if name == "availability":
        return f"≥ {value * 100:g}%"
    if name == "error_rate":
        return f"< {value * 100:g}%"
    if name.endswith("_ms"):
        return f"< {value:g} ms"
    return f"{value:g}"


def _met_word(met: bool | None) -> str:
    return {True: "met", False: "missed", None: "—"}[met]


def _sorted_slos(slos: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    rank = {name: i for i, name in enumerate(SLO_ORDER)}
    return sorted(slos, key=lambda s: rank.get(str(s.get("name")), len(rank)))


def budget_left(slos: Sequence[Mapping[str, Any]]) -> float | None:
    """The unspent share of the availability budget an SLO list implies (1.0 untouched, < 0 overspent)."""
    avail = next((s for s in slos if s.get("name") == "availability"), None)
    if avail is None or avail.get("measured") is None or not avail.get("samples"):
        return None
    total = int(avail["samples"])
    bad = min(total, max(0, round((1.0 - float(avail["measured"])) * total)))
    try:
        remaining = ErrorBudget(objective=float(avail["objective"]), total=total, bad=bad).remaining
    except ValueError:
        return None
    return None if remaining == float("-inf") else remaining


def _budget_text(remaining: float | None) -> Cell:
    if remaining is None:
        return Cell("—")
    if remaining < 0:
        return Cell(f"none left (spent {1.0 - remaining:.1f}× the budget)", False)
    return Cell(f"{remaining * 100:.0f}% left", remaining > 0 or None)


@dataclass(frozen=True)
class Page:
    """The page's content, built once and rendered twice."""

    title: str
    subtitle: str
    verdict: str
    checks: list[tuple[str, int]]
    overall: list[list[Cell]]
    budget: list[tuple[str, str]]
    integrations: list[list[Cell]]
    alerts: list[list[Cell]]
    alerts_total: int


def build_page(summary: Mapping[str, Any]) -> Page:
    doc: Mapping[str, Any] = redact(dict(summary))
    verdict = str(doc.get("verdict", "unknown"))
    suite = str(doc.get("suite", "") or "checks")
    target = str(doc.get("target", ""))
    bits = [f"fails on {doc['fail_on']} and above" if doc.get("fail_on") else "",
            f"run {doc['run_id']}" if doc.get("run_id") else "",
            f"started {_when(doc['started_at'])}" if doc.get("started_at") else "",
            f"{float(doc.get('duration_s') or 0):.1f} s"]
    checks = doc.get("checks") or {}
    check_keys = ("total", "passed", "failed", "flaky", "skipped", "inconclusive", "errors")
    overall = [
        [Cell(SLO_TITLES.get(str(s.get("name")), str(s.get("name")))),
         Cell(_objective(str(s.get("name")), s.get("objective"))),
         Cell(_fmt(str(s.get("name")), s.get("measured"))),
         Cell(_met_word(s.get("met")), s.get("met")),
         Cell(str(s.get("samples", 0)))]
        for s in _sorted_slos(doc.get("slos") or [])
    ]
    budget: list[tuple[str, str]] = []
    eb = doc.get("error_budget")
    if isinstance(eb, Mapping) and eb.get("objective") is not None:
        remaining = eb.get("remaining")
        if remaining is not None:
            left = _budget_text(float(remaining)).text
        else:  # None: an objective of 100% with failures (an infinite overspend), or nothing counted
            left = "spent (no failure allowed)" if eb.get("failures") else "—"
        budget = [
            ("availability objective", f"{float(eb['objective']) * 100:g}%"),
            ("requests counted", str(eb.get("requests", 0))),
            ("failed (server side)", str(eb.get("failures", 0))),
            ("failures allowed", f"{float(eb.get('allowed_failures') or 0):.2f}"),
            ("budget", left),
            ("burn rate", f"{float(eb['burn_rate']):.2f}×" if eb.get("burn_rate") is not None else "—"),
        ]
    integrations: list[list[Cell]] = []
    per = doc.get("integration_slos") or {}
    rows = []
    for name, slos in per.items():
        by_name = {str(s.get("name")): s for s in slos}
        cells = [Cell(str(name))]
        missed = False
        for key in SLO_ORDER:
            s = by_name.get(key)
            if s is None:
                cells.append(Cell("—"))
                continue
            missed = missed or s.get("met") is False
            cells.append(Cell(f"{_fmt(key, s.get('measured'))} ({_objective(key, s.get('objective'))})", s.get("met")))
        cells.append(_budget_text(budget_left(list(slos))))
        rows.append((not missed, str(name), cells))
    integrations = [cells for _, _, cells in sorted(rows)]
    alerts_in = list(doc.get("alerts") or [])
    alerts = [
        [Cell(str(a.get("severity", ""))),
         Cell(str(a.get("rule", "")) + (" (warning)" if a.get("warning") else "")),
         Cell(str(a.get("scope", "") or a.get("integration", "") or "")),
         Cell(_shorten(str(a.get("summary", "")))),
         Cell(str(a.get("count", 1)))]
        for a in alerts_in[:_MAX_ALERTS]
    ]
    return Page(
        title=f"sloguard · {suite} against {target}",
        subtitle=" · ".join(b for b in bits if b),
        verdict=verdict,
        checks=[(k, int(checks.get(k, 0) or 0)) for k in check_keys if k in checks],
        overall=overall,
        budget=budget,
        integrations=integrations,
        alerts=alerts,
        alerts_total=len(alerts_in),
    )


def _when(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _shorten(text: str) -> str:
    text = " ".join(redact_text(text).split())
    return text if len(text) <= _MAX_SUMMARY else text[: _MAX_SUMMARY - 1] + "…"


# ---------------------------------------------------------------- Markdown

_MARK = {True: "✅ ", False: "❌ ", None: ""}
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")


def _md(cell: Cell) -> str:
    text = cell.text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")
    return _MARK[cell.ok] + _TAG_START.sub("&lt;", text)  # "< 500 ms" stays; "<script" cannot open a tag


def _md_table(head: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def slo_markdown(summary: Mapping[str, Any], report_link: str | None = None) -> str:
    """GitHub-flavoured Markdown for a job summary or a pull-request comment."""
    page = build_page(summary)
    word = {"pass": "✅ PASS", "fail": "❌ FAIL"}.get(page.verdict, page.verdict.upper())
    out = [f"## {_md(Cell(page.title))} — {word}", "", _md(Cell(page.subtitle)), ""]
    if page.checks:
        out += [*_md_table([k for k, _ in page.checks], [[Cell(str(v)) for _, v in page.checks]]), ""]
    if page.overall:
        out += ["### Service level objectives (overall)", ""]
        out += [*_md_table(["objective", "target", "measured", "met", "samples"], page.overall), ""]
    if page.budget:
        out += ["**Error budget:** " + " · ".join(f"{k} {v}" for k, v in page.budget), ""]
    if page.integrations:
        out += ["### Per integration", ""]
        out += _md_table(["integration", *(SLO_TITLES[k] for k in SLO_ORDER), "error budget"], page.integrations)
        out += [""]
    out += [f"### Alerts ({page.alerts_total})", ""]
    if page.alerts:
        out += _md_table(["severity", "rule", "scope", "summary", "count"], page.alerts)
        if page.alerts_total > len(page.alerts):
            out += ["", f"… and {page.alerts_total - len(page.alerts)} more in summary.json"]
    else:
        out += ["No alerts."]
    if report_link:
        out += ["", f"Full report: {report_link}"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;
color:#1f2328;padding:0 16px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.sub{color:#59636e;margin-bottom:16px}.verdict{display:inline-block;padding:2px 10px;border-radius:12px;
font-weight:600;color:#fff}.pass{background:#1a7f37}.fail{background:#cf222e}.unknown{background:#59636e}
table{border-collapse:collapse;width:100%;margin:4px 0}th,td{border:1px solid #d1d9e0;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f6f8fa}td.ok{background:#dafbe1}td.miss{background:#ffebe9}
a{color:#0969da}
"""


def _h(cell: Cell) -> str:
    cls = {True: ' class="ok"', False: ' class="miss"', None: ""}[cell.ok]
    return f"<td{cls}>{html.escape(cell.text)}</td>"


def _h_table(head: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(_h(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def slo_html(summary: Mapping[str, Any], report_link: str | None = "index.html") -> str:
    """One self-contained HTML page (no scripts, no outside assets)."""
    page = build_page(summary)
    verdict_class = page.verdict if page.verdict in ("pass", "fail") else "unknown"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(page.title)} — SLOs</title><style>{_CSS}</style></head><body>",
        f'<h1>{html.escape(page.title)} <span class="verdict {verdict_class}">'
        f"{html.escape(page.verdict.upper())}</span></h1>",
        f'<div class="sub">{html.escape(page.subtitle)}'
        + (f' · <a href="{html.escape(report_link)}">Allure report</a>' if report_link else "") + "</div>",
    ]
    if page.checks:
        parts.append(_h_table([k for k, _ in page.checks], [[Cell(str(v)) for _, v in page.checks]]))
    parts.append("<h2>Service level objectives (overall)</h2>")
    parts.append(_h_table(["objective", "target", "measured", "met", "samples"], page.overall)
                 if page.overall else "<p>No objective was measured.</p>")
    if page.budget:
        parts.append("<h2>Error budget</h2>")
        parts.append(_h_table([k for k, _ in page.budget], [[Cell(v) for _, v in page.budget]]))
    if page.integrations:
        parts.append("<h2>Per integration</h2>")
        parts.append(_h_table(["integration", *(SLO_TITLES[k] for k in SLO_ORDER), "error budget"],
                              page.integrations))
    parts.append(f"<h2>Alerts ({page.alerts_total})</h2>")
    parts.append(_h_table(["severity", "rule", "scope", "summary", "count"], page.alerts)
                 if page.alerts else "<p>No alerts.</p>")
    if page.alerts_total > len(page.alerts):
        parts.append(f"<p>… and {page.alerts_total - len(page.alerts)} more in summary.json</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- files


def write_slo_page(
    summary: Mapping[str, Any], folder: Path, report_link: str | None = "index.html"
) -> tuple[Path, Path]:
    """``slo.html`` and ``slo.md`` in ``folder`` (atomically); returns both paths."""
    html_path = write_atomic(Path(folder) / HTML_NAME, slo_html(summary, report_link))
    md_path = write_atomic(Path(folder) / MARKDOWN_NAME, slo_markdown(summary))
    return html_path, md_path


def append_step_summary(markdown: str, env: Mapping[str, str] | None = None) -> Path | None:
    """Append to the GitHub Actions job summary when ``$GITHUB_STEP_SUMMARY`` names a file."""
    target = (os.environ if env is None else env).get(STEP_SUMMARY_VAR, "").strip()
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact_text(markdown) + "\n")
    return path
