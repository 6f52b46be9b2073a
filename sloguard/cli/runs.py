"""What every run command does around its runner: validate alert channels first, deliver alerts after.

`sloguard check …` and `sloguard load` share it, so a run's alerts reach the same routes whatever
produced them, and a broken channel config stops the run before anything is sent to the target.
"""

from __future__ import annotations

from pathlib import Path

import typer

from sloguard.config import Config
from sloguard.summary import RunSummary


def check_alerting(config: Config) -> None:
    """A broken channel (missing CA file, bad header) is a usage error now, not at the first alert."""
    if config.alerts.channels:  # the alerting stack (channels, retries) is imported only when used
        from sloguard.alerts.notify import check_channels

        check_channels(config.alerts)


def deliver(config: Config, run: RunSummary | None, *, suite: str, dry_run: bool = False,
            err: bool = False) -> None:
    """Send the run's alerts through the configured routes (off when no channel is configured)."""
    if run is None or not config.alerts.channels:
        return
    from sloguard.alerts.notify import notify

    report = notify(run.alerts, config.alerts, state_dir=Path(config.reports.dir) / "alerts",
                    run_id=str(run.document.get("run_id", "")), target=config.target.base_url, suite=suite,
                    dry_run=dry_run, echo=lambda line: typer.echo(line, err=err))
    typer.echo(report.line(), err=err)
