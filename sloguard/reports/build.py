"""One report build: metadata into the results folder, the Allure HTML (offline, with history),
and the SLO page beside it. `sloguard report` is a thin caller of `build_report`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sloguard.errors import UsageError

from . import slo_page
from .allure import AllureCLI, allure_config, find_allure, generate
from .categories import load_categories
from .metadata import write_allure_metadata

DEFAULT_HISTORY_LIMIT = 20  # runs kept in the Allure history file (a full sweep adds ~1.3 MB each)
HISTORY_FILE = "allure-history.jsonl"
REPORT_NAME = "sloguard"


@dataclass(frozen=True)
class BuiltReport:
    html_dir: Path
    index: Path
    history: Path
    results: int
    analytics_removed: int
    generate_s: float
    total_s: float
    summary: Mapping[str, Any] | None = None
    slo_html: Path | None = None
    slo_markdown: Path | None = None
    step_summary: Path | None = None


def count_results(results: Path) -> int:
    """How many Allure test results a folder holds; a UsageError naming the fix when none."""
    if not results.is_dir():
        raise UsageError(f"no Allure results at {results}: run `sloguard check synthetics` first, "
                         "or pass --results DIR")
    found = sum(1 for _ in results.glob("*-result.json"))
    if found == 0:
        raise UsageError(f"{results} holds no Allure test results (*-result.json): run `sloguard check synthetics` "
                         "first, or pass --results DIR")
    return found


def read_summary(path: Path) -> dict[str, Any] | None:
    """``summary.json`` when present; a UsageError when it is there but unreadable."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not valid JSON ({exc}); rerun the checks to write it again") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} is not a sloguard summary (expected a JSON object)")
    return data


def build_report(
    *,
    results: Path,
    output: Path,
    reports_dir: Path,
    summary_path: Path | None = None,
    target: str | None = None,
    openapi: str | Path = "/api/v1/openapi.json",
    headers: Mapping[str, str] | None = None,
    verify_tls: bool = True,
    history_dir: Path | None = None,
    history_limit: int | None = DEFAULT_HISTORY_LIMIT,
    single_file: bool = True,
    report_name: str = REPORT_NAME,
    env: Mapping[str, str] | None = None,
    cli: AllureCLI | None = None,
) -> BuiltReport:
    """Build the Allure HTML report of ``results`` into ``output`` and the SLO page beside it.

    Metadata files the runner already wrote are kept; the categories are always the current ones
    (the team's ``<reports_dir>/categories.json`` or the defaults). History is read from and appended
    to ``<history_dir>/allure-history.jsonl`` (default ``<reports_dir>/history/``).
    """
    started = time.perf_counter()
    found = count_results(results)
    summary = read_summary(summary_path if summary_path is not None else reports_dir / "summary.json")
    allure = cli or find_allure()
    where = target or (str(summary.get("target")) if summary and summary.get("target") else None)
    extra = {"suite": str(summary["suite"])} if summary and summary.get("suite") else None
    write_allure_metadata(results, target=where or "unknown", reports_dir=reports_dir, openapi=openapi,
                          headers=headers, verify_tls=verify_tls, extra=extra, env=env, overwrite=False)
    history = (history_dir or reports_dir / "history") / HISTORY_FILE
    config = allure_config(report_name=report_name, history=history, history_limit=history_limit,
                           categories=load_categories(reports_dir), single_file=single_file)
    made = generate(allure, [results], output, config)
    slo_html = slo_md = step = None
    if summary is not None:
        slo_html, slo_md = slo_page.write_slo_page(summary, made.output)
        step = slo_page.append_step_summary(slo_md.read_text(encoding="utf-8"), env)
    return BuiltReport(
        html_dir=made.output, index=made.output / "index.html", history=history, results=found,
        analytics_removed=made.offline.removed, generate_s=made.duration_s, total_s=time.perf_counter() - started,
        summary=summary, slo_html=slo_html, slo_markdown=slo_md, step_summary=step,
    )
