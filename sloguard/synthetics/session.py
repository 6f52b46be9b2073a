"""One synthetic run's inputs, the target and its plan, and the run of its checks (`report`
turns what the run leaves into results and summary.json).

Shared by the pytest plugin and `sloguard check synthetics` / `sloguard catalog`, so the command
line and pytest can never plan or judge differently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sloguard.catalog import Catalog
from sloguard.config import Config
from sloguard.severity import Severity
from sloguard.target import Target, open_config

from .plan import Plan, build_plan
from .runner import RunOutcome, run_plan

if TYPE_CHECKING:
    from sloguard.summary import RunSummary

    from .probe import Probe


@dataclass
class SyntheticSession:
    target: Target
    plan: Plan
    reports_dir: Path
    fail_on: Severity
    last_run: RunSummary | None = None

    @property
    def config(self) -> Config:
        return self.target.config

    @property
    def catalog(self) -> Catalog | None:
        return self.target.catalog

    @property
    def read_only(self) -> bool:
        return self.target.read_only

    @property
    def unreachable(self) -> str | None:
        return self.target.unreachable

    def run(self, selected: Collection[str] | None = None,
            on_done: Callable[[list[Probe]], None] | None = None) -> RunOutcome:
        # A loop of its own rather than asyncio.run: its SIGINT bookkeeping formats the repr of the
        # running task (and the plan it holds) twice, ~0.3 s of a 2.5 s sweep. Ctrl-C still stops the
        # run: KeyboardInterrupt propagates out of run_until_complete.
        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(run_plan(self.target, self.plan, selected=selected, on_done=on_done))
        finally:
            try:
                _cancel_pending(loop)
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()


def open_session(
    config_path: str | Path | None, *, target: str | None = None, read_only: bool = False,
    reports_dir: str | Path | None = None, fail_on: Severity | str | None = None,
) -> SyntheticSession:
    """Load config and catalog and plan the checks. Raises UsageError (exit 2) for bad input.

    An unreachable target is not a usage error: the plan is then the single "target reachable"
    check, which fails as P0 (platform down).
    """
    config = open_config(config_path, target=target)
    platform = Target.open(config, read_only=read_only)
    plan = build_plan(config, platform.catalog, read_only=platform.read_only, https=platform.https)
    threshold = Severity.parse(fail_on if fail_on is not None else config.checks.fail_on)
    return SyntheticSession(platform, plan, Path(reports_dir or config.reports.dir), threshold)


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    """What asyncio.run does on the way out: cancel what is left and let it finish cancelling."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
