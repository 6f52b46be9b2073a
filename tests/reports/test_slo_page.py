"""The SLO page from a summary.json (schema v2): objectives, budgets per integration and overall, alerts;
Markdown that survives hostile text, HTML with nothing loaded from outside, no secret in either."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sloguard.redact import clear_secrets, register_secret
from sloguard.reports.offline import outside_references
from sloguard.reports.slo_page import append_step_summary, budget_left, slo_html, slo_markdown, write_slo_page

FIXTURE = Path(__file__).parent / "fixtures" / "summary-v2.json"


@pytest.fixture
def summary() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def _row(markdown: str, first_cell: str) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| {first_cell} |"))


def test_markdown_has_each_objective_and_whether_it_was_met(summary: dict[str, Any]) -> None:
    md = slo_markdown(summary)
    assert md.startswith("## sloguard · synthetics against http://127.0.0.1:53179 — ❌ FAIL\n")
    assert _row(md, "latency p95") == "| latency p95 | < 500 ms | 209.8 ms | ✅ met | 770 |"
    assert _row(md, "error rate") == "| error rate | < 1% | 2.571% | ❌ missed | 778 |"
    assert _row(md, "availability") == "| availability | ≥ 99.9% | 97.558% | ❌ missed | 778 |"
    assert _row(md, "network p95") == "| network p95 | < 100 ms | no data | — | 0 |"
    assert "failures allowed 1.45" in md and "spent 35.8× the budget" in md and "burn rate 35.76×" in md


def test_markdown_per_integration_with_budget_left(summary: dict[str, Any]) -> None:
    md = slo_markdown(summary)
    lines = md.splitlines()
    rows = [line for line in lines if line.startswith(("| jira ", "| slack ", "| asana ", "| github "))]
    assert [r.split(" | ")[0] for r in rows] == ["| jira", "| slack", "| asana", "| github"]  # misses first
    assert "❌ 932.4 ms (< 500 ms)" in _row(md, "jira")
    assert _row(md, "slack").endswith("❌ none left (spent 1000.0× the budget) |")
    assert _row(md, "asana").endswith("✅ 100% left |")


def test_markdown_alerts_table_escapes_what_would_break_it(summary: dict[str, Any]) -> None:
    summary["alerts"][0]["summary"] = "answered <script>alert(1)</script> | with a pipe\nand a line break"
    md = slo_markdown(summary)
    assert "### Alerts (6)" in md
    row = _row(md, "P0")
    assert "&lt;script>alert(1)&lt;/script> \\| with a pipe and a line break" in row
    assert row.count(" | ") == 4  # still five cells
    assert "| P1 | RATE_LIMIT_NEAR (warning) | integration:asana |" in md


def test_budget_left_matches_the_error_budget_maths() -> None:
    slos = [{"name": "availability", "objective": 0.99, "measured": 0.995, "samples": 1000}]
    assert budget_left(slos) == pytest.approx(0.5)  # 5 failures of the 10 allowed
    assert budget_left([{"name": "availability", "objective": 0.999, "measured": None, "samples": 0}]) is None
    assert budget_left([]) is None


def test_html_is_self_contained(summary: dict[str, Any]) -> None:
    page = slo_html(summary)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and outside_references(page) == []
    assert '<td class="miss">missed</td>' in page and '<td class="ok">met</td>' in page
    assert '<a href="index.html">Allure report</a>' in page
    summary["alerts"][0]["summary"] = '<img src="https://evil.example/x.png">'
    hostile = slo_html(summary)
    assert "<img" not in hostile and "&lt;img src=&quot;https://evil.example/x.png&quot;&gt;" in hostile
    assert outside_references(hostile) == []


def test_a_passing_run_and_a_sparse_summary(summary: dict[str, Any]) -> None:
    green = copy.deepcopy(summary)
    green.update(verdict="pass", alerts=[])
    md = slo_markdown(green)
    assert "✅ PASS" in md and "No alerts." in md
    # a v1 summary (before run_id, fail_on, error_budget) still renders
    sparse = {"verdict": "fail", "suite": "synthetics", "target": "http://x", "checks": {"total": 1, "failed": 1},
              "slos": [], "alerts": [{"severity": "P0", "rule": "PLATFORM_DOWN", "summary": "nothing answers"}]}
    assert "| P0 | PLATFORM_DOWN |  | nothing answers | 1 |" in slo_markdown(sparse)
    assert "No objective was measured." in slo_html(sparse)


def test_no_secret_reaches_either_page(tmp_path: Path, summary: dict[str, Any]) -> None:
    secret = "pd-routing-key-0123456789abcdef"
    register_secret(secret)
    try:
        summary["alerts"][1]["summary"] = f"channel said: bad routing key {secret}"
        summary["target"] = f"https://user:{secret}@atom.example.com"
        html_path, md_path = write_slo_page(summary, tmp_path)
        step = tmp_path / "step.md"
        append_step_summary(md_path.read_text(), {"GITHUB_STEP_SUMMARY": str(step)})
        for path in (html_path, md_path, step):
            assert secret not in path.read_text(), path
    finally:
        clear_secrets()


def test_step_summary_only_when_the_variable_is_set(tmp_path: Path) -> None:
    assert append_step_summary("x", {}) is None
    target = tmp_path / "summary.md"
    assert append_step_summary("## hello", {"GITHUB_STEP_SUMMARY": str(target)}) == target
    assert append_step_summary("## again", {"GITHUB_STEP_SUMMARY": str(target)}) == target
    assert target.read_text() == "## hello\n## again\n"
