"""`sloguard report` as users run it: what it prints, the files it leaves, exit 2 with the fix for
bad input, and `--open` serving the report on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import require_allure, sample_results

FIXTURE = Path(__file__).parent / "fixtures" / "summary-v2.json"


def sloguard(workdir: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})}
    if "GITHUB_STEP_SUMMARY" not in (env or {}):  # a CI job's own summary is not this test's to write
        full_env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([sys.executable, "-m", "sloguard", *args], cwd=workdir, capture_output=True, text=True,
                          timeout=timeout, env=full_env)


def test_report_builds_html_and_slo_page(tmp_path: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", tmp_path / "reports" / "allure-results")
    shutil.copy(FIXTURE, tmp_path / "reports" / "summary.json")
    done = sloguard(tmp_path, "report")
    assert done.returncode == 0, done.stdout + done.stderr
    html = tmp_path / "reports" / "html"
    assert f"Allure report: {html / 'index.html'} (5 results" in done.stdout
    assert f"SLO page: {html / 'slo.html'}" in done.stdout
    assert "verdict: FAIL — 1377 passed, 39 failed of 1430" in done.stdout
    assert (html / "index.html").is_file() and (html / "slo.md").is_file()
    assert (tmp_path / "reports" / "history" / "allure-history.jsonl").is_file()


def test_report_without_summary_still_builds_the_html(tmp_path: Path) -> None:
    """Plain `pytest synthetics --alluredir` leaves no summary.json: the HTML is still made."""
    require_allure()
    out = tmp_path / "elsewhere"
    sample_results(tmp_path / "suite", tmp_path / "plain-results")
    done = sloguard(tmp_path, "report", "--results", "plain-results", "--output", str(out), "--multi-file")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no SLO page: reports/summary.json is missing" in done.stdout
    assert (out / "index.html").is_file() and (out / "widgets").is_dir()


@pytest.mark.parametrize(("setup", "message"), [
    ("nothing", "no Allure results at reports/allure-results: run `sloguard check synthetics` first"),
    ("empty", "holds no Allure test results (*-result.json)"),
    ("bad-summary", "reports/summary.json is not valid JSON"),
    ("bad-categories", "reports/categories.json:1: not valid JSON"),
])
def test_bad_input_exits_2_with_the_fix(tmp_path: Path, setup: str, message: str) -> None:
    reports = tmp_path / "reports"
    if setup != "nothing":
        (reports / "allure-results").mkdir(parents=True)
    if setup in ("bad-summary", "bad-categories"):
        sample_results(tmp_path / "suite", reports / "allure-results")
    if setup == "bad-summary":
        (reports / "summary.json").write_text("{")
    if setup == "bad-categories":
        (reports / "categories.json").write_text("{")
    done = sloguard(tmp_path, "report")
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_no_node_exits_2_naming_make_setup(tmp_path: Path) -> None:
    sample_results(tmp_path / "suite", tmp_path / "reports" / "allure-results")
    bin_dir = tmp_path / "bin"  # PATH with python's folder only: node is not found
    bin_dir.mkdir()
    done = sloguard(tmp_path, "report", env={"PATH": str(bin_dir)})
    assert done.returncode == 2
    assert "Node.js is not installed" in done.stderr and "make setup" in done.stderr


def test_open_serves_the_report_on_loopback(tmp_path: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", tmp_path / "reports" / "allure-results")
    shutil.copy(FIXTURE, tmp_path / "reports" / "summary.json")
    opened = tmp_path / "opened.txt"
    # webbrowser runs $BROWSER with the URL: a script that records it stands in for a desktop browser
    browser = tmp_path / "browser.sh"
    browser.write_text(f"#!/bin/sh\necho \"$1\" > {opened}\n")
    browser.chmod(0o755)
    env = {**os.environ, "BROWSER": str(browser), "PYTHONWARNINGS": "ignore", "PYTHONUNBUFFERED": "1"}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen([sys.executable, "-m", "sloguard", "report", "--open"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not opened.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert opened.exists(), proc.stderr.read() if proc.poll() is not None else "no browser was started"
        url = opened.read_text().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/index.html")
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            assert b"window.allureReportOptions" in response.read()
        with urllib.request.urlopen(url.replace("index.html", "slo.html"), timeout=10) as response:
            assert b"Service level objectives" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_demo_ends_with_the_report_the_slo_page_and_the_verdict(tmp_path: Path) -> None:
    require_allure()
    from tests.conftest import free_port

    done = sloguard(tmp_path, "demo", "--port", str(free_port()), "--contract-budget", "10s", timeout=600)
    # The verdict itself is test_healthy_platform_is_green's to check: on a loaded machine a few
    # latency objectives can be missed, and the demo must still end with the report and say so.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-2000:]
    tail = done.stdout.strip().splitlines()[-3:]
    assert tail[0] == f"Allure report: {tmp_path / 'reports' / 'html' / 'index.html'}"
    assert tail[1] == f"SLO page: {tmp_path / 'reports' / 'html' / 'slo.html'}"
    verdict = json.loads((tmp_path / "reports" / "summary.json").read_text())["verdict"]
    assert tail[2].startswith(f"demo verdict: {verdict.upper()} — ")
    assert done.returncode == (0 if verdict == "pass" else 1)
    assert (tmp_path / "reports" / "html" / "index.html").stat().st_size > 1_000_000
