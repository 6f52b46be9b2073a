"""`sloguard contracts ...`: contract tools that need no running suite (drift between two descriptions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sloguard.errors import UsageError
from sloguard.redact import register_secret

if TYPE_CHECKING:
    from sloguard.contracts.diff import DiffReport

contracts_app = typer.Typer(help="Contract tools: compare OpenAPI descriptions between releases.",
                            no_args_is_help=True)


def _headers(values: list[str] | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values or []:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header {value!r}: expected 'Name: value', e.g. --header 'Authorization: Bearer ...'")
        headers[name.strip()] = content.strip()
        register_secret(content.strip())
    return headers


@contracts_app.command("diff")
def diff(
    old: Annotated[str, typer.Argument(help="The description clients were written against (file or http(s) URL).")],
    new: Annotated[str, typer.Argument(help="The description to release (file or http(s) URL).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the machine document instead of the text.")] = False,
    header: Annotated[list[str] | None, typer.Option(
        "--header", "-H", help="'Name: value' sent when fetching a URL; repeatable.")] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for a description URL.")] = 30.0,
    alluredir: Annotated[Path | None, typer.Option(
        "--alluredir", help="Also write one Allure result per changed operation into this folder.")] = None,
) -> None:
    """Classify every change from OLD to NEW; exit 1 when one breaks clients, 0 when none does, 2 on bad input."""
    from sloguard.contracts.diff import compare

    headers = _headers(header)
    report = compare(old, new, headers=headers, timeout=timeout)
    typer.echo(json.dumps(report.to_json(), indent=2) if as_json else report.text())
    if alluredir is not None:
        _write_allure(report, old, new, alluredir, headers=headers, timeout=timeout)
    raise typer.Exit(report.exit_code)


def _write_allure(report: DiffReport, old: str, new: str, alluredir: Path, *, headers: dict[str, str],
                  timeout: float) -> None:
    """The drift as Allure results, grouped by the integration each operation has in NEW (in OLD for
    an operation NEW removed)."""
    from sloguard.catalog import build_catalog
    from sloguard.contracts.drift import drift_results
    from sloguard.reports.allure_writer import write_allure_results
    from sloguard.spec import load_spec

    integration_of: dict[str, str] = {}
    for source in (old, new):
        catalog = build_catalog(load_spec(source, headers=headers, timeout=timeout))
        integration_of.update({f"{e.method} {catalog.base_path}{e.path}": e.integration for e in catalog.all_entries})
    results = drift_results(report.changes, old=report.old.line(), new=report.new.line(),
                            integration_of=integration_of)
    write_allure_results(results, alluredir)
