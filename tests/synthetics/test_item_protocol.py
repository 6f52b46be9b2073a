"""How the plugin reports a planned check's pytest item, as teams run the suite (`pytest synthetics`).

A shipped check item takes a short protocol (no fixture set-up, capture or marker hooks: its
set-up and tear-down reports are made directly, duration 0); an item that asks for more — another
fixture, a skip mark — takes pytest's full one. Both give the same verdicts, the same JUnit XML and
one Allure result per check, and ``-x`` still stops at the first failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

RECORDER = '''

import json as _json

_REPORTS = []


def pytest_runtest_logreport(report):
    _REPORTS.append({"nodeid": report.nodeid, "when": report.when, "outcome": report.outcome,
                     "duration": report.duration})


def pytest_sessionfinish(session):
    with open(session.config.rootpath.parent / "reports.json", "w") as out:
        _json.dump(_REPORTS, out)
'''

BREACH = "slack \\xb7 GET /api/slack/messages \\xb7 auth enforced]"  # as pytest escapes a node id
TEAM = '''import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("security")


def test_security_with_a_fixture(sloguard_check: CheckHandle, tmp_path) -> None:
    sloguard_check.verify()


@pytest.mark.skip(reason="not on our watch")
def test_security_skipped(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
'''


def _suite(tmp_path: Path) -> Path:
    suite = tmp_path / "synthetics"
    shutil.copytree(REPO / "synthetics", suite, ignore=shutil.ignore_patterns("__pycache__"))
    with (suite / "conftest.py").open("a") as conftest:
        conftest.write(RECORDER)
    (suite / "test_team.py").write_text(TEAM)
    return suite


def _run(tmp_path: Path, suite: Path, base_url: str, *extra: str,
         autoload: bool = False) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """``autoload=False`` is how `sloguard check` runs the suite (only the plugins it needs)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "--target", base_url, "-k", "slack and messages",
         "--alluredir", str(tmp_path / "allure"), "--sloguard-reports", str(tmp_path / "reports"),
         "--junitxml", str(tmp_path / "junit.xml"), "-q", "-p", "no:cacheprovider", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    return done, json.loads((tmp_path / "reports.json").read_text())


def test_short_and_full_protocols_report_the_same(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("open_endpoint=slack_list_messages")
    done, reports = _run(tmp_path, _suite(tmp_path), faulty.base_url)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for r in reports:
        by.setdefault(r["nodeid"], {})[r["when"]] = r
    assert all(set(phases) == {"setup", "call", "teardown"} or phases["setup"]["outcome"] == "skipped"
               for phases in by.values()), by
    shipped = {n: p for n, p in by.items() if "test_security.py::" in n}
    fixture = {n: p for n, p in by.items() if "test_security_with_a_fixture" in n}
    skipped = {n: p for n, p in by.items() if "test_security_skipped" in n}
    assert shipped and len(shipped) == len(fixture) == len(skipped)
    # the short protocol: set-up and tear-down made directly; the full one ran fixtures and marks
    assert all(p["setup"]["duration"] == 0 and p["teardown"]["duration"] == 0 for p in shipped.values())
    assert all(p["setup"]["duration"] > 0 for p in fixture.values())
    assert all(p["setup"]["outcome"] == "skipped" and "call" not in p for p in skipped.values())

    def outcomes(items: dict[str, dict[str, dict[str, Any]]]) -> dict[str, str]:
        return {n.split("[", 1)[1]: p["call"]["outcome"] for n, p in items.items()}

    assert outcomes(shipped) == outcomes(fixture)  # the same verdict, whichever protocol
    assert outcomes(shipped)[BREACH] == "failed"

    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    junit = {c.get("name"): c for c in cases}
    breach = junit[f"test_security[{BREACH}"]
    failure = breach.find("failure")
    assert failure is not None and "[P0 SECURITY_BREACH]" in (failure.get("message") or "")
    assert len(junit) == len(by)
    allure = [json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-result.json")]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert len(allure) == summary["checks"]["total"] == len({r["historyId"] for r in allure})


def test_exitfirst_stops_at_the_first_failing_check(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("open_endpoint=slack_list_messages")
    done, reports = _run(tmp_path, _suite(tmp_path), faulty.base_url, "-x")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    calls = [r for r in reports if r["when"] == "call"]
    assert calls[-1]["outcome"] == "failed" and sum(r["outcome"] == "failed" for r in calls) == 1
    assert "stopping after 1 failures" in done.stdout


@pytest.mark.parametrize("plugins", ["autoload", "timeout"])
def test_with_plugins_that_hook_each_phase_every_item_takes_the_full_protocol(platform_factory, tmp_path: Path,
                                                                              plugins: str) -> None:
    """Plain `pytest synthetics` with every installed plugin, or only pytest-timeout (its timer wraps
    each test's call): the short protocol would bypass such hooks, so no item takes it."""
    faulty = platform_factory("open_endpoint=slack_list_messages")
    extra = ("-p", "pytest_timeout", "--timeout", "120") if plugins == "timeout" else ()
    done, reports = _run(tmp_path, _suite(tmp_path), faulty.base_url, *extra, autoload=plugins == "autoload")
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    setups = [r for r in reports if r["when"] == "setup" and "test_security.py::" in r["nodeid"]]
    assert setups and all(r["duration"] > 0 for r in setups)
    failed = {r["nodeid"].split("[", 1)[1] for r in reports if r["when"] == "call" and r["outcome"] == "failed"}
    assert BREACH in failed


def test_collect_only_sends_nothing_but_the_description_fetch(platform, tmp_path: Path) -> None:
    """The checks start on their thread at the end of collection, except for `--collect-only`."""
    import httpx

    from tests.synthetics.test_safe_defaults import RecordingAPI

    api = RecordingAPI(httpx.get(f"{platform.base_url}/api/v1/openapi.json", timeout=30).json())
    try:
        (tmp_path / "sloguard.yaml").write_text(f"target:\n  base_url: {api.base_url}\n  environment: staging\n")
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(REPO / "synthetics"), "--sloguard-config",
             str(tmp_path / "sloguard.yaml"), "--collect-only", "-q", "-p", "no:cacheprovider"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    finally:
        api.stop()
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "test_endpoint[" in done.stdout
    assert [(m, p) for m, p, _, _ in api.seen] == [("GET", "/api/v1/openapi.json")]
    assert not (tmp_path / "reports" / "summary.json").exists()
