"""The analytics removal, against the page the pinned Allure Report 3 really writes, and the guard
that refuses a report still loading anything from an outside host."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from sloguard.errors import UsageError
from sloguard.reports.offline import REMOVED_MARK, make_offline, outside_references, strip_analytics

from .conftest import require_allure, sample_results


@pytest.fixture(scope="module")
def raw_allure_page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """index.html exactly as `allure generate` writes it, analytics switched off the documented way."""
    cli = require_allure()
    work = tmp_path_factory.mktemp("raw")
    results = sample_results(work / "suite", work / "allure-results")
    out = work / "html"
    env = {**os.environ, "ALLURE_NO_ANALYTICS": "true"}
    done = subprocess.run(cli.command("generate", "--output", str(out), str(results)), cwd=work, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return (out / "index.html").read_text(encoding="utf-8")


def test_allure_still_ships_the_tracker_with_analytics_off(raw_allure_page: str) -> None:
    """Why the removal exists: ALLURE_NO_ANALYTICS=true does not remove it (if this fails, Allure
    fixed it, and the removal can go)."""
    assert "https://www.googletagmanager.com/gtag/js" in raw_allure_page
    assert "googletagmanager.com/gtag/js" in " ".join(outside_references(raw_allure_page))


def test_strip_removes_the_tracker_and_nothing_else(raw_allure_page: str) -> None:
    cleaned, removed = strip_analytics(raw_allure_page)
    assert removed == 1
    assert outside_references(cleaned) == []
    assert "gtag" not in cleaned and "dataLayer" not in cleaned
    # the rest of the page is untouched: same text once the marker is taken back out
    before = raw_allure_page.index("<script async src=\"https://www.googletagmanager.com")
    after = raw_allure_page.index("</script>", raw_allure_page.index("gtag('config'")) + len("</script>")
    assert cleaned == raw_allure_page[:before] + REMOVED_MARK + raw_allure_page[after:]
    assert "window.allureReportOptions" in cleaned and "allureReportDataReady" in cleaned
    assert strip_analytics(cleaned) == (cleaned, 0)  # idempotent


@pytest.mark.parametrize("snippet", [
    '<script src="https://cdn.example.com/lib.js"></script>',
    "<link rel=stylesheet href='//fonts.googleapis.com/css?family=Inter'>",
    '<img src="http://tracker.example.net/pixel.gif">',
    '<iframe src="https://example.org/embed"></iframe>',
    "<style>@import url('https://fonts.example.com/a.css');</style>",
    "<style>body{background:url(https://img.example.com/bg.png)}</style>",
    "<script>gtag('event', 'x')</script>",
])
def test_outside_references_are_found(snippet: str) -> None:
    assert outside_references(f"<html><head>{snippet}</head><body></body></html>")


@pytest.mark.parametrize("snippet", [
    '<a href="https://allurereport.org">Allure</a>',  # a link the reader clicks, not a load
    '<script src="app-123.js"></script>',
    '<script src="http://127.0.0.1:8000/app.js"></script>',
    '<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns=\'http://www.w3.org/2000/svg\'%3E">',
    '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
])
def test_local_and_clicked_links_are_fine(snippet: str) -> None:
    assert outside_references(f"<html><body>{snippet}</body></html>") == []


def test_make_offline_refuses_a_page_that_still_loads_from_outside(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<html><script src="https://cdn.example.com/x.js"></script></html>')
    expected = r"still loads from outside hosts \(https://cdn\.example\.com/x\.js\).*make setup"
    with pytest.raises(UsageError, match=expected):
        make_offline(tmp_path)


def test_make_offline_leaves_attachments_alone(tmp_path: Path) -> None:
    """Attachments are the target's own data (an HTML login page, say): not the report's pages."""
    (tmp_path / "index.html").write_text("<html><body>ok</body></html>")
    attachment = tmp_path / "data" / "attachments" / "page.html"
    attachment.parent.mkdir(parents=True)
    attachment.write_text('<img src="https://example.com/logo.png">')
    assert make_offline(tmp_path).pages == 1
