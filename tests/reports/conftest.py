"""Helpers for the report tests: real Allure results written by allure-pytest, and the Allure CLI."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from sloguard.errors import UsageError
from sloguard.reports.allure import AllureCLI, find_allure
from tests.conftest import STRICT_ENV

# A small suite whose Allure results come from the real allure-pytest plugin: one pass, one P0
# breach, one slow P1, one broken test (an exception, not a finding) and one skip. The second run
# (SAMPLE_RUN=2) fixes the breach and breaks the passing test, so history shows both transitions.
SAMPLE_SUITE = '''
import os
import allure
import pytest

SECOND = os.environ.get("SAMPLE_RUN") == "2"


@allure.epic("github")
@allure.feature("issues")
@allure.story("endpoint sweep")
def test_list_issues():
    if SECOND:
        pytest.fail("[P1 OPERATION_FAILED] GET /api/github/issues answered 404, expected 200", pytrace=False)


@allure.epic("github")
@allure.feature("issues")
@allure.story("security probe")
def test_issues_auth_enforced():
    if not SECOND:
        pytest.fail("[P0 SECURITY_BREACH] GET /api/github/issues answered 200 without credentials: "
                    "a protected operation is open", pytrace=False)


@allure.epic("jira")
@allure.feature("issues")
@allure.story("endpoint sweep")
def test_jira_slow():
    pytest.fail("[P1 INTEGRATION_DEGRADED] took 725 ms, over the 500 ms latency objective", pytrace=False)


@allure.epic("slack")
@allure.feature("messages")
@allure.story("endpoint sweep")
def test_harness_breaks():
    raise RuntimeError("the harness fell over")


@pytest.mark.skip(reason="not selected")
def test_skipped():
    pass
'''


def require_allure() -> AllureCLI:
    """The Allure CLI, or a skip naming `make setup` (a failure in CI, which must have it)."""
    try:
        return find_allure()
    except UsageError as exc:
        if os.environ.get(STRICT_ENV):
            pytest.fail(f"{exc}; {STRICT_ENV} is set, so this may not be skipped")
        pytest.skip(str(exc))


def sample_results(workdir: Path, alluredir: Path, run: int = 1, *, source: str = SAMPLE_SUITE,
                   clean: bool = True) -> Path:
    """Run the sample suite (or ``source``) under pytest + allure-pytest into ``alluredir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    suite = workdir / "test_sample.py"
    suite.write_text(source)
    env = {**os.environ, "SAMPLE_RUN": str(run), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "allure_pytest.plugin", "-p", "no:cacheprovider",
         "--rootdir", str(workdir), "--alluredir", str(alluredir), *(["--clean-alluredir"] if clean else []),
         str(suite)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]  # the sample has failures
    return alluredir


def report_file(index: Path, name: str) -> Any:
    """One data file of a single-file Allure 3 report (embedded as base64 in index.html)."""
    html = index.read_text(encoding="utf-8")
    match = re.search(r"d\(" + re.escape(json.dumps(name)) + r',"([^"]*)"\)', html)
    assert match, f"{name} is not in {index}"
    return json.loads(base64.b64decode(match.group(1)))


def report_results(index: Path) -> dict[str, dict[str, Any]]:
    """The test results of a single-file report, by name."""
    html = index.read_text(encoding="utf-8")
    out = {}
    for name in re.findall(r'd\("(data/test-results/[0-9a-f]+\.json)"', html):
        data = report_file(index, name)
        out[data["name"]] = data
    return out
