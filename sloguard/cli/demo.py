"""`sloguard demo`: start the reference platform, run the suites against it, print the verdict."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .check import run_contract_suite, run_synthetics

if TYPE_CHECKING:
    from sloguard.summary import RunSummary
from .launch import free_port, start_reference
from .load import spawn_load_process


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            return free_port()


def demo(
    port: Annotated[int, typer.Option(help="Port for the reference platform (a free one if taken).")] = 8400,
    fault: Annotated[list[str] | None, typer.Option("--fault", help="Start the platform with this fault.")] = None,
    contract_budget: Annotated[str, typer.Option(
        "--contract-budget", help="Wall-clock budget of the contract run (it follows the synthetic suite).")] = "40s",
) -> None:
    """Start the reference ATOM platform on loopback, run the synthetic suite, a budgeted contract run and
    the load smoke profile into one report, print verdict and coverage."""
    from sloguard.contracts.budget import parse_budget
    from sloguard.contracts.run import ContractOptions

    budget_s = parse_budget(contract_budget)
    port = _port(port)
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sloguard-demo-") as tmp:
        typer.echo(f"starting the reference ATOM platform on {base_url} ...")
        platform = start_reference(Path(tmp), fault or [], port=port)
        load_code = 2
        try:
            typer.echo("running the synthetic suite (reports in reports/) ...")
            runs: list[RunSummary] = []
            run_synthetics(None, platform.base_url, False, alerts=False, runs=runs)
            typer.echo(f"running a contract run within {contract_budget} (Schemathesis; same reports) ...")
            code, summary = run_contract_suite(None, platform.base_url, False, after=runs[0] if runs else None,
                                               options=ContractOptions(budget_s=budget_s, max_examples=5))
            typer.echo("running the load smoke profile (Locust; its steps join the same report) ...")
            load_code = spawn_load_process(["--profile", "smoke", "--target", platform.base_url, "--add-to-report"])
            code = max(code, load_code if load_code in (0, 1) else 1)
        finally:
            platform.stop()
    typer.echo(_build_report())
    if summary is not None:
        checks = summary.get("checks", {})
        load = "load smoke: PASS" if load_code == 0 else f"load smoke: FAIL (exit {load_code})"
        typer.echo(f"demo verdict: {'PASS' if code == 0 else 'FAIL'} — synthetics + contracts "
                   f"{str(summary.get('verdict', '?')).upper()} {checks}; {load} (reports/load/capacity.html)")
    raise typer.Exit(code)


def _build_report() -> str:
    """The HTML report and SLO page of the run; a missing Node.js only costs the HTML (said so)."""
    from sloguard.config import load_config
    from sloguard.errors import UsageError
    from sloguard.reports.build import build_report

    reports = load_config(None).reports
    try:
        built = build_report(results=reports.allure_results_dir, output=reports.html_dir, reports_dir=reports.dir)
    except UsageError as exc:
        return f"no HTML report: {exc}"
    return f"Allure report: {built.index}\nSLO page: {built.slo_html}"
