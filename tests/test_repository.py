"""Promises about the checkout itself: run output is ignored, the editable suite matches the shipped one."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(), reason="not a git checkout")
def test_everything_a_run_writes_under_reports_is_ignored_and_the_team_config_is_not() -> None:
    written = ["reports/summary.json", "reports/results.jsonl", "reports/junit.xml", "reports/allure-results/a.json",
               "reports/html/index.html", "reports/history.sqlite3", "reports/alerts/state.json",
               "reports/load/capacity.json", "reports/contracts/last.json"]
    ignored = subprocess.run(["git", "check-ignore", *written], cwd=REPO, capture_output=True, text=True)
    assert ignored.stdout.split() == written
    tracked = subprocess.run(["git", "check-ignore", "reports/categories.json"], cwd=REPO, capture_output=True)
    assert tracked.returncode == 1  # not ignored


def test_the_editable_suite_is_the_shipped_one() -> None:
    """synthetics/ is the copy a team edits; sloguard/synthetics/suite/ ships in the wheel. In this
    repository they are the same files, so `sloguard check` behaves the same from the checkout."""
    editable = {p.name: p.read_text() for p in (REPO / "synthetics").iterdir() if p.is_file()}
    shipped = {p.name: p.read_text() for p in (REPO / "sloguard" / "synthetics" / "suite").iterdir() if p.is_file()}
    assert editable == shipped


def test_the_editable_contract_suite_is_the_shipped_one() -> None:
    """contracts/ (a team's copy) and sloguard/contracts/suite/ (in the wheel) hold the same settings."""
    editable = {p.name: p.read_text() for p in (REPO / "contracts").iterdir() if p.is_file()}
    shipped = {p.name: p.read_text() for p in (REPO / "sloguard" / "contracts" / "suite").iterdir()
               if p.is_file() and p.suffix == ".toml"}
    assert editable == shipped and "schemathesis.toml" in shipped
