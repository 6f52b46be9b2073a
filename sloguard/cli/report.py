"""`sloguard report`: the Allure HTML report and the SLO page of the last run."""

from __future__ import annotations

import time
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from sloguard.config import Config
from sloguard.reports.build import DEFAULT_HISTORY_LIMIT

from .check import ConfigOpt


def report(
    open_report: Annotated[bool, typer.Option("--open", help="Serve the report on 127.0.0.1 and open a browser.")]
    = False,
    results: Annotated[Path | None, typer.Option("--results", help="Allure results folder "
                                                 "(default: <reports dir>/allure-results).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where the HTML goes "
                                                "(default: <reports dir>/html).")] = None,
    config: ConfigOpt = None,
    multi_file: Annotated[bool, typer.Option("--multi-file", help="Allure's multi-file layout instead of one "
                                             "index.html (needs a web server to open).")] = False,
    history_limit: Annotated[int, typer.Option("--history-limit", min=0, help="Runs kept in the report's history "
                                               "(0 keeps none).")] = DEFAULT_HISTORY_LIMIT,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port for --open (0: any free one).")] = 0,
) -> None:
    """Build the Allure HTML report (offline, with history) and the SLO page from the last run."""
    from sloguard.config import load_config
    from sloguard.reports.build import build_report, read_summary
    from sloguard.reports.serve import serve

    settings = load_config(config)
    reports_dir = settings.reports.dir
    summary_path = settings.reports.summary_path
    summary = read_summary(summary_path)
    target = str(summary["target"]) if summary and summary.get("target") else settings.target.base_url
    # The config's headers (which may carry credentials) only go to the host they were configured for.
    same_target = target.rstrip("/") == settings.target.base_url.rstrip("/")
    built = build_report(
        results=results or settings.reports.allure_results_dir,
        output=output or settings.reports.html_dir,
        reports_dir=reports_dir,
        summary_path=summary_path,
        target=target,
        openapi=_openapi(settings) if same_target else "/api/v1/openapi.json",
        headers=dict(settings.target.headers) if same_target else None,
        verify_tls=settings.target.verify_tls,
        history_limit=history_limit,
        single_file=not multi_file,
    )
    typer.echo(f"Allure report: {built.index} ({built.results} results, generated in {built.generate_s:.1f} s; "
               f"history in {built.history})")
    if built.slo_html is not None:
        typer.echo(f"SLO page: {built.slo_html} (Markdown: {built.slo_markdown})")
        if built.step_summary is not None:
            typer.echo(f"job summary: appended to {built.step_summary}")
    else:
        typer.echo(f"no SLO page: {summary_path} is missing (plain pytest runs do not write it)")
    if built.summary is not None:
        checks = built.summary.get("checks", {})
        typer.echo(f"verdict: {str(built.summary.get('verdict', '?')).upper()} — {checks.get('passed', 0)} passed, "
                   f"{checks.get('failed', 0)} failed of {checks.get('total', 0)}")
    if not open_report:
        return
    with serve(built.html_dir, port) as url:
        typer.echo(f"serving the report at {url} (Ctrl-C to stop)")
        webbrowser.open(url + "index.html")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            typer.echo("stopped")


def _openapi(settings: Config) -> str | Path:
    location = settings.spec_location()
    return (location.url or "") if location.kind == "url" else Path(location.path or "")
