"""The report in a real headless browser (Debian's chromium), from real runs of the synthetic suite
against the reference platform: the counts and a known failure render, the history shows the earlier
run, and no request leaves loopback — while the same harness does see Allure's tracker in a report
that was not cleaned, so "no request" is a finding, not a blind spot.

Set SLOGUARD_UPDATE_SCREENSHOTS=1 to refresh docs/img/allure-report.png from this run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO, require_binary, start_platform

from .browser import chromium, serve_folder
from .conftest import report_results, require_allure, sample_results

pytestmark = pytest.mark.slow

BREACH = "github · GET /api/github/issues · auth enforced"
BROKEN = "def test_harness_breaks():\n    raise RuntimeError('the harness fell over')\n"


@dataclass
class Reports:
    first: Path  # a copy of the report after the faulty run
    second: Path  # the report after the healthy run (history: the faulty one)
    results: Path  # the first run's Allure results
    counts: Counter[str]  # statuses in the first run's results folder
    workdir: Path


def _check(workdir: Path, target: str) -> int:
    done = subprocess.run([sys.executable, "-m", "sloguard", "check", "synthetics", "--target", target, "-k", "github"],
                          cwd=workdir, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return done.returncode


def _report(workdir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    done = subprocess.run([sys.executable, "-m", "sloguard", "report"], cwd=workdir, capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def browser_path() -> str:
    return require_binary("chromium", "chromium")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, browser_path: str) -> Reports:
    """Real runs (needs chromium first, so a machine without it does not run them for nothing)."""
    require_allure()
    work = tmp_path_factory.mktemp("browser")
    results = work / "reports" / "allure-results"

    faulty = start_platform(work / "platform-faulty", "open_endpoint=github_list_issues")
    try:
        assert _check(work, faulty.base_url) == 1  # the breach fails the run
    finally:
        faulty.stop()
    sample_results(work / "extra", results, source=BROKEN, clean=False)  # one broken test, from allure-pytest
    counts = Counter(json.loads(p.read_text())["status"] for p in results.glob("*-result.json"))
    _report(work)
    first = work / "first-report"
    shutil.copytree(work / "reports" / "html", first)
    kept_results = work / "first-results"
    shutil.copytree(results, kept_results)

    healthy = start_platform(work / "platform-healthy")
    try:
        assert _check(work, healthy.base_url) == 0
    finally:
        healthy.stop()
    _report(work)
    return Reports(first=first, second=work / "reports" / "html", results=kept_results, counts=counts, workdir=work)


def _metadata(page, name: str) -> int:  # type: ignore[no-untyped-def]
    """A status count of the overview (Allure shows no item for a status with none)."""
    item = page.locator(f'[data-testid="metadata-item-{name}"] [data-testid="metadata-value"]')
    return int(item.inner_text()) if item.count() else 0


def test_report_renders_counts_and_the_failure_offline(reports: Reports, browser_path: str, tmp_path: Path) -> None:
    assert reports.counts["failed"] == 1 and reports.counts["broken"] == 1 and reports.counts["passed"] > 40
    with serve_folder(reports.first) as base, chromium(browser_path, tmp_path / "profile") as (context, log):
        page = context.new_page()
        page.goto(base + "index.html")
        page.locator('[data-testid="metadata-item-total"]').wait_for(timeout=30_000)
        assert _metadata(page, "total") == sum(reports.counts.values())
        assert _metadata(page, "passed") == reports.counts["passed"]
        assert _metadata(page, "failed") == reports.counts["failed"]
        assert _metadata(page, "broken") == reports.counts["broken"]
        failed_leaf = page.locator('[data-testid="tree-leaf"]', has=page.locator(
            '[data-testid="tree-leaf-status-failed"]'))
        assert failed_leaf.locator('[data-testid="tree-leaf-title"]').all_inner_texts() == [BREACH]
        overview = tmp_path / "overview.png"
        page.screenshot(path=str(overview))

        failed_leaf.click()
        error = page.locator('[data-testid="test-result-error-message"]')
        error.wait_for(timeout=15_000)
        assert "[P0 SECURITY_BREACH] GET /api/github/issues answered 200 without credentials" in error.inner_text()
        assert "Category: Security breach" in page.inner_text("body")
        detail = tmp_path / "failure.png"
        page.screenshot(path=str(detail))

        page.goto(base + "slo.html")
        assert "Service level objectives (overall)" in page.inner_text("h2:first-of-type")
        alerts = page.locator("table").last.inner_text()
        assert "P0\tSECURITY_BREACH" in alerts, alerts  # the alerts table lists the breach

    assert any(u.startswith(base) for u in log.seen), "the log saw no request at all: the harness is broken"
    assert log.outside == [], f"requests left loopback: {log.outside}"
    assert log.blocked == []
    if os.environ.get("SLOGUARD_UPDATE_SCREENSHOTS"):
        (REPO / "docs" / "img").mkdir(parents=True, exist_ok=True)
        shutil.copy(detail, REPO / "docs" / "img" / "allure-report.png")


def test_the_single_file_report_opens_from_disk(reports: Reports, browser_path: str, tmp_path: Path) -> None:
    """What an engineer does with a downloaded CI artifact: open index.html from disk, no server."""
    with chromium(browser_path, tmp_path / "profile") as (context, log):
        page = context.new_page()
        page.goto((reports.first / "index.html").as_uri())
        page.locator('[data-testid="metadata-item-total"]').wait_for(timeout=30_000)
        assert _metadata(page, "total") == sum(reports.counts.values())
        assert _metadata(page, "failed") == reports.counts["failed"]
    assert log.seen and log.outside == [], log.outside


def test_the_harness_sees_the_tracker_of_an_uncleaned_report(reports: Reports, browser_path: str,
                                                             tmp_path: Path) -> None:
    """The same results through plain `allure generate` (ALLURE_NO_ANALYTICS=true): the browser tries
    Google Tag Manager, the harness blocks and logs it. This is what sloguard's removal prevents."""
    cli = require_allure()
    raw = tmp_path / "raw-report"
    done = subprocess.run(cli.command("generate", "--output", str(raw), str(reports.results)), cwd=tmp_path,
                          env={**os.environ, "ALLURE_NO_ANALYTICS": "true"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with serve_folder(raw) as base, chromium(browser_path, tmp_path / "profile") as (context, log):
        page = context.new_page()
        page.goto(base + "index.html")
        page.locator('[data-testid="metadata-item-total"]').wait_for(timeout=30_000)
        page.wait_for_timeout(1000)  # the tracker loads async
    assert any("googletagmanager.com" in u for u in log.outside), log.outside


def test_second_report_shows_the_first_run_in_history(reports: Reports, browser_path: str, tmp_path: Path) -> None:
    breach = report_results(reports.second / "index.html")[BREACH]
    assert breach["status"] == "passed" and breach["transition"] == "fixed"
    with serve_folder(reports.second) as base, chromium(browser_path, tmp_path / "profile") as (context, log):
        page = context.new_page()
        page.goto(base + "index.html")
        page.locator('[data-testid="metadata-item-total"]').wait_for(timeout=30_000)
        assert _metadata(page, "failed") == 0  # the breach is fixed in the second run
        assert _metadata(page, "passed") == _metadata(page, "total")
        page.goto(f"{base}index.html#{breach['id']}")
        page.locator('[data-testid="test-result-tab-history"]').click()
        items = page.locator('[data-testid="test-result-history-item"]')
        items.first.wait_for(timeout=15_000)
        assert items.count() == 1  # the one earlier run
        assert items.first.locator('[data-testid="tree-leaf-status-failed"]').count() == 1  # … it failed there
        assert page.locator('[data-testid="test-result-status-passed"]').count() == 1  # … and passes now
    assert log.outside == [], log.outside
