"""What a contract run leaves: results.jsonl and summary.json (through `sloguard.summary`), JUnit, Allure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sloguard import summary as summary_mod
from sloguard.reports import check_baseline, write_allure_metadata
from sloguard.reports.allure_writer import clean, write_allure_results
from sloguard.reports.junit import write_junit
from sloguard.results import CheckResult
from sloguard.severity import Severity
from sloguard.target import Target

from .results import SUITE


def write_outputs(target: Target, results: Sequence[CheckResult], *, clean_allure: bool) -> None:
    """JUnit and Allure for the contract results (appended to what the synthetic suite wrote, in `all`)."""
    config = target.config
    reports = Path(config.reports.dir)
    alluredir = config.reports.allure_results_dir
    if clean_allure:
        remover = clean(alluredir)
        if remover is not None:
            remover.join(timeout=60)
    catalog = target.catalog
    write_allure_results(results, alluredir)
    # In `check all` the synthetic suite wrote the metadata first: theirs is kept.
    write_allure_metadata(
        alluredir, target=config.target.base_url, reports_dir=reports,
        platform_version=catalog.version if catalog is not None else None, headers=config.target.headers,
        verify_tls=config.target.verify_tls, overwrite=clean_allure,
        extra={"suite": SUITE, "environment": config.target.environment, "read_only": str(target.read_only).lower(),
               "api": f"{catalog.title} {catalog.version}" if catalog is not None else "unreachable"})
    write_junit(list(results), reports / "junit.xml", name=SUITE, append=not clean_allure)


def summarize(target: Target, results: Sequence[CheckResult], *, suite: str, started_at: datetime,
              duration_s: float, coverage: dict[str, Any] | None, fail_on: Severity | None,
              extra: dict[str, Any] | None) -> summary_mod.RunSummary:
    """The run's summary (one document, whichever suites made ``results``), written with results.jsonl."""
    config = target.config
    run = summary_mod.summarize(
        list(results), suite=suite, target=config.target.base_url, started_at=started_at, duration_s=duration_s,
        slo=config.slos.default, target_for=config.slo_for, coverage=coverage,
        fail_on=fail_on or config.checks.fail_on, extra=extra,
        baseline=lambda draft: check_baseline(draft, config.reports.history_path),
    )
    summary_mod.write_run(run, config.reports.dir)
    return run
