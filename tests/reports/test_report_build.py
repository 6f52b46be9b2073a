"""`build_report` with the real Allure Report 3 (npm) on results written by the real allure-pytest:
offline HTML, categories applied by Allure itself, environment and executor parsed by Allure,
history across two reports, the SLO page beside it, and the clear errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from sloguard.errors import UsageError
from sloguard.redact import clear_secrets, register_secret
from sloguard.reports.allure import find_allure
from sloguard.reports.build import build_report
from sloguard.reports.offline import REMOVED_MARK, outside_references

from .conftest import report_file, report_results, require_allure, sample_results

FIXTURE = Path(__file__).parent / "fixtures" / "summary-v2.json"


def tree_names(tree: dict[str, Any], category: str) -> set[str]:
    """Names of the test results under one category of Allure's categories widget."""
    nodes = tree["nodes"]
    root = next(n for n in nodes.values() if n.get("type") == "category" and n["name"] == category)
    names: set[str] = set()
    stack = list(root.get("childrenIds", []))
    while stack:
        node = nodes[stack.pop()]
        if node.get("type") == "tr":
            names.add(node["name"])
        stack.extend(node.get("childrenIds", []))
    return names


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "summary.json")
    return folder


def build(reports: Path, env: dict[str, str] | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    return build_report(results=reports / "allure-results", output=reports / "html", reports_dir=reports,
                        env=env or {}, **kwargs)


def test_report_is_offline_categorised_and_described(tmp_path: Path, reports: Path, platform) -> None:
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results")
    built = build(reports, target=platform.base_url,
                  env={"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "atom/sloguard", "GITHUB_RUN_ID": "77",
                       "GITHUB_RUN_NUMBER": "5", "GITHUB_WORKFLOW": "synthetics"})
    html = built.index.read_text(encoding="utf-8")
    assert built.results == 5 and built.analytics_removed == 1
    assert "googletagmanager" not in html and REMOVED_MARK in html
    assert outside_references(html) == []

    # Allure 3 itself put each failure in its category (its own matcher, our file).
    tree = report_file(built.index, "widgets/categories.json")
    assert tree_names(tree, "Security breach") == {"test_issues_auth_enforced"}
    assert tree_names(tree, "SLO breach: latency") == {"test_jira_slow"}
    assert tree_names(tree, "Suite error") == {"test_harness_breaks"}

    stats = report_file(built.index, "widgets/statistic.json")
    assert (stats["passed"], stats["failed"], stats["broken"], stats["skipped"]) == (1, 2, 1, 1)

    # Allure parsed our environment.properties and executor.json.
    environment = {e["name"]: e["values"] for e in report_file(built.index, "widgets/allure_environment.json")}
    assert environment["target"] == [platform.base_url]
    assert environment["platform_version"] == ["1.0.0"]
    assert environment["suite"] == ["synthetics"]
    options = json.loads(re.search(r"window\.allureReportOptions = (\{.*?\})\n", html).group(1))
    assert options["executor"]["buildUrl"] == "https://github.com/atom/sloguard/actions/runs/77"

    # The SLO page sits beside the report and links to it.
    assert built.slo_html == built.html_dir / "slo.html" and built.slo_markdown is not None
    assert 'href="index.html"' in built.slo_html.read_text()


def test_no_secret_reaches_any_report_file(tmp_path: Path, reports: Path) -> None:
    """A secret in the CI variables and in the summary: not in any file the build writes."""
    require_allure()
    secret = "ghp_0123456789abcdefSECRETtoken"
    register_secret(secret)
    try:
        sample_results(tmp_path / "suite", reports / "allure-results")
        doc = json.loads((reports / "summary.json").read_text())
        doc["alerts"][0]["summary"] = f"webhook refused token {secret}"
        (reports / "summary.json").write_text(json.dumps(doc))
        step = tmp_path / "step.md"
        build(reports, target="http://127.0.0.1:9", single_file=False,
              env={"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": f"deploy {secret}", "GITHUB_REPOSITORY": "a/b",
                   "GITHUB_RUN_ID": "1", "GITHUB_STEP_SUMMARY": str(step)})
        written = [p for p in [*(reports / "html").rglob("*"), *(reports / "history").rglob("*"),
                               *(reports / "allure-results").glob("*.json*"),
                               reports / "allure-results" / "environment.properties", step] if p.is_file()]
        assert len(written) > 20
        leaks = [p for p in written if secret.encode() in p.read_bytes()]
        assert leaks == []
    finally:
        clear_secrets()


def test_history_carries_the_earlier_run(tmp_path: Path, reports: Path) -> None:
    """Two reports: the second shows the first run's results, with new/fixed/regressed transitions."""
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results", run=1)
    one = build(reports, target="http://127.0.0.1:9", history_limit=5)
    first_index = shutil.copy(one.index, tmp_path / "first-index.html")
    sample_results(tmp_path / "suite", reports / "allure-results", run=2)
    two = build(reports, target="http://127.0.0.1:9", history_limit=5)
    assert one.history == two.history == reports / "history" / "allure-history.jsonl"
    assert len(two.history.read_text().splitlines()) == 2

    earlier = report_results(Path(first_index))
    assert earlier["test_issues_auth_enforced"]["transition"] == "new"
    later = report_results(two.index)
    breach = later["test_issues_auth_enforced"]
    assert breach["status"] == "passed" and breach["transition"] == "fixed"
    assert [h["status"] for h in breach["history"]] == ["failed"]
    assert later["test_list_issues"]["transition"] == "regressed"
    assert [h["status"] for h in later["test_jira_slow"]["history"]] == ["failed"]  # still failing


def test_history_limit_is_kept(tmp_path: Path, reports: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results")
    for _ in range(3):
        built = build(reports, target="http://127.0.0.1:9", history_limit=2)
    assert len(built.history.read_text().splitlines()) == 2


def test_multi_file_layout_is_offline_too(tmp_path: Path, reports: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results")
    built = build(reports, target="http://127.0.0.1:9", single_file=False)
    assert (built.html_dir / "widgets" / "categories.json").is_file()
    assert built.analytics_removed == 1
    assert outside_references(built.index.read_text()) == []


def test_a_report_replaces_the_last_one_whole(tmp_path: Path, reports: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results")
    stale = reports / "html" / "data" / "attachments" / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an old report")
    build(reports, target="http://127.0.0.1:9")
    assert not stale.exists()
    assert not [p for p in reports.iterdir() if p.name.startswith(".html.")]  # no staging folder left


def test_step_summary_is_appended_when_set(tmp_path: Path, reports: Path) -> None:
    require_allure()
    sample_results(tmp_path / "suite", reports / "allure-results")
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("earlier step\n")
    built = build(reports, target="http://127.0.0.1:9", env={"GITHUB_STEP_SUMMARY": str(summary_file)})
    assert built.step_summary == summary_file
    text = summary_file.read_text()
    assert text.startswith("earlier step\n") and "### Service level objectives (overall)" in text


def test_no_results_is_a_clear_error(reports: Path) -> None:
    with pytest.raises(UsageError, match=r"no Allure results at .*run `sloguard check synthetics` first"):
        build(reports)
    (reports / "allure-results").mkdir()
    with pytest.raises(UsageError, match=r"holds no Allure test results"):
        build(reports)


def test_a_broken_summary_is_a_clear_error(tmp_path: Path, reports: Path) -> None:
    sample_results(tmp_path / "suite", reports / "allure-results")
    (reports / "summary.json").write_text("{truncated")
    with pytest.raises(UsageError, match=r"summary\.json is not valid JSON"):
        build(reports)


def test_missing_allure_package_names_make_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sloguard.reports.allure._search_roots", lambda start: [tmp_path])
    with pytest.raises(UsageError, match=r"allure npm package is not installed .*run `make setup`"):
        find_allure()


def test_missing_node_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no node on PATH
    with pytest.raises(UsageError, match=r"Node\.js is not installed.*`make setup`"):
        find_allure()


def test_an_old_allure_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "node_modules" / "allure"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "allure", "version": "2.30.0", "bin": "cli.js"}))
    monkeypatch.setattr("sloguard.reports.allure._search_roots", lambda start: [tmp_path])
    if shutil.which("node") is None:
        pytest.skip("needs node on PATH to reach the version check")
    with pytest.raises(UsageError, match=r"allure 2\.30\.0, sloguard needs Allure Report 3"):
        find_allure()
