"""`sloguard contracts ...`: contract tools that need no running suite (drift between two descriptions)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sloguard.errors import UsageError
from sloguard.redact import register_secret

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
) -> None:
    """Classify every change from OLD to NEW; exit 1 when one breaks clients, 0 when none does, 2 on bad input."""
    from sloguard.contracts.diff import compare

    report = compare(old, new, headers=_headers(header), timeout=timeout)
    typer.echo(json.dumps(report.to_json(), indent=2) if as_json else report.text())
    raise typer.Exit(report.exit_code)
