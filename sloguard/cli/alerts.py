"""`sloguard alerts test` and `sloguard alerts flush`: check the channels, deliver the spool."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sloguard.errors import UsageError

if TYPE_CHECKING:
    from sloguard.config import Config

alerts_app = typer.Typer(help="Alert channels: send a test alert, deliver what waits in the spool.",
                         no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="sloguard.yaml (default: ./sloguard.yaml)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def state_dir(reports_dir: Path) -> Path:
    """Where alert state and the spool live: ``<reports.dir>/alerts``."""
    return reports_dir / "alerts"


def _load(config: Path | None) -> Config:
    from sloguard.config import load_config

    loaded = load_config(config)
    if not loaded.alerts.channels:
        raise UsageError("no alert channels configured: add one under alerts.channels (see the README, 'Alerts')")
    return loaded


@alerts_app.command("test")
def test(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Send one test alert to every configured channel and say which answered (exit 1 if any failed)."""
    from sloguard.alerts.notify import send_test

    loaded = _load(config)
    results = send_test(loaded.alerts, target=loaded.target.base_url)
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in results], indent=2))
    else:
        width = max(len(r.name) for r in results)
        for r in results:
            status = "ok  " if r.ok else "FAIL"
            typer.echo(f"  {status}  {r.name.ljust(width)}  {r.where}" + (f": {r.error}" if r.error else ""))
        answered = sum(r.ok for r in results)
        typer.echo(f"test alert: {answered} of {len(results)} channel(s) answered")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


@alerts_app.command("flush")
def flush(
    config: ConfigOpt = None,
    retry_rejected: Annotated[bool, typer.Option(
        "--retry-rejected", help="Also retry notifications a receiver refused (after fixing its config).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Deliver the notifications waiting in the spool, in order (exit 1 if any still wait)."""
    from sloguard.alerts.notify import flush as deliver

    loaded = _load(config)
    report = deliver(loaded.alerts, state_dir=state_dir(loaded.reports.dir), retry_rejected=retry_rejected)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for outcome in report.channels.values():
            for line in outcome.sent:
                typer.echo(f"  sent     {outcome.name}: {line}")
            for line in outcome.rejected:
                typer.echo(f"  refused  {outcome.name}: {line}")
            if outcome.set_aside and not outcome.rejected:
                typer.echo(f"  {outcome.set_aside} set aside for {outcome.name} (refused earlier; --retry-rejected)")
        typer.echo(report.line())
    raise typer.Exit(0 if report.ok and not report.waiting else 1)
