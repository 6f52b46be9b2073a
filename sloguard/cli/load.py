"""`sloguard load --profile ...`: a Locust load run with an SLO gate per step and a capacity report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from sloguard.errors import UsageError

from .check import ConfigOpt, TargetOpt

ProfileOpt = Annotated[str, typer.Option("--profile", "-p", help="smoke | capacity | soak | stress | rate")]
CHILD_ENV = "SLOGUARD_LOAD_PROCESS"  # set in the process that runs Locust (python -m sloguard.load)


def _duration(text: str | None) -> float | None:
    if text is None:
        return None
    from sloguard.config import parse_duration

    try:
        return float(parse_duration(text))
    except ValueError as exc:
        raise UsageError(f"--duration {text!r}: {exc}") from None


def load(
    profile: ProfileOpt = "smoke",
    users: Annotated[int | None, typer.Option(help="Run one step of this many users instead of the profile's.")] = None,
    duration: Annotated[str | None, typer.Option(help="Hold each step this long (30s, 5m).")] = None,
    workers: Annotated[int, typer.Option(help="Local worker processes (Locust master/worker); 0: this one.")] = 0,
    scale: Annotated[float, typer.Option(help="Multiply the profile's users and the plan's targets (0.1).")] = 1.0,
    rps: Annotated[float | None, typer.Option(help="Arrival rate for the rate profile (requests/s).")] = None,
    master: Annotated[bool, typer.Option("--master", help="Be the master for workers on other machines.")] = False,
    expect_workers: Annotated[int, typer.Option(help="With --master: workers to wait for.")] = 1,
    master_bind_host: Annotated[str, typer.Option(help="With --master: address to listen on.")] = "127.0.0.1",
    worker: Annotated[bool, typer.Option("--worker", help="Be a worker of the master at --master-host.")] = False,
    master_host: Annotated[str, typer.Option(help="With --worker: the master's address.")] = "127.0.0.1",
    master_port: Annotated[int, typer.Option(help="The master's port (Locust's default 5557).")] = 5557,
    config: ConfigOpt = None,
    target: TargetOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the capacity report's JSON on stdout.")] = False,
    add_to_report: Annotated[bool, typer.Option(
        "--add-to-report", help="Add the steps to the Allure results already in the reports folder (the "
                                "report of a run of other suites, as `sloguard demo` does) and write the "
                                "load summary to reports/load/summary.json.")] = False,
) -> None:
    """Run a load profile; exit 0 every step inside the plan met its SLO, 1 one did not, 2 bad input."""
    from sloguard.load.plan import check_allowed, resolve
    from sloguard.target import Target, open_config

    if master and worker:
        raise UsageError("--master and --worker exclude each other: a process is one or the other")
    if workers and (master or worker):
        raise UsageError("--workers starts local workers itself; leave out --master/--worker, or --workers")
    # The target layer decides what the target is: an unlabelled localhost target that is not the
    # reference platform is production (refused below unless allowed) and gets no test credentials.
    cfg = open_config(config, target=target)
    check_allowed(cfg)  # before anything is sent: a host nobody allowed is never contacted
    cfg = Target.open(cfg).config
    check_allowed(cfg)
    plan = resolve(cfg, profile, users=users, duration_s=_duration(duration), scale=scale, workers=workers, rps=rps)
    common = ["--profile", profile, "--scale", str(scale)]
    for flag, value in (("--config", config), ("--target", target), ("--users", users), ("--duration", duration),
                        ("--rps", rps)):
        if value is not None:
            common += [flag, str(value)]
    if os.environ.get(CHILD_ENV) != "1":
        # Bad input was refused above (exit 2); the run itself gets a process of its own, where Locust
        # can patch the standard library for gevent before anything else imports ssl.
        extra = ["--workers", str(workers)] if workers else []
        extra += ["--master", "--expect-workers", str(expect_workers), "--master-bind-host", master_bind_host] \
            if master else []
        extra += ["--worker", "--master-host", master_host] if worker else []
        extra += ["--json"] if as_json else []
        extra += ["--add-to-report"] if add_to_report else []
        raise typer.Exit(spawn_load_process([*common, "--master-port", str(master_port), *extra]))

    from sloguard.load import run

    if worker:
        raise typer.Exit(run.run_worker(cfg, plan, master_host, master_port))
    from sloguard.cli.launch import free_port

    reports = Path(cfg.reports.dir) / "load"
    options = run.RunOptions(
        workers=workers, master=master, expect_workers=expect_workers,
        master_bind_host=master_bind_host if master else "127.0.0.1",
        master_port=master_port if master else (free_port() if workers else master_port),
        worker_args=common, reports_dir=reports, live=True,
    )
    outcome = run.run_controller(cfg, plan, options)
    code = finish(outcome, cfg, reports, as_json=as_json, add_to_report=add_to_report)
    raise typer.Exit(code)


def spawn_load_process(args: list[str]) -> int:
    """Run ``python -m sloguard.load ARGS`` (this terminal, this environment) and return its exit code."""
    env = {**os.environ, CHILD_ENV: "1"}
    try:
        return subprocess.run([sys.executable, "-m", "sloguard.load", *args], env=env, check=False).returncode
    except KeyboardInterrupt:
        return 130


def child_main() -> None:
    """The entry of ``python -m sloguard.load``: the same command, run in this (gevent) process."""
    os.environ[CHILD_ENV] = "1"
    from sloguard.cli import run_app

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(load)
    run_app(app)


def finish(outcome: object, cfg: object, reports: Path, *, as_json: bool, add_to_report: bool = False) -> int:
    """Write the capacity report and the run's results; print the summary; the exit code."""
    from datetime import UTC, datetime

    from sloguard.load import records, report
    from sloguard.load.outcome import RunOutcome

    assert isinstance(outcome, RunOutcome)
    paths = report.write(outcome, cfg, reports)
    code = outcome.exit_code
    written = records.write_results(
        outcome.plan.profile, outcome.steps, config=cfg, started_at=datetime.fromtimestamp(outcome.started_at, UTC),
        duration_s=outcome.duration_s, reports_dir=Path(getattr(getattr(cfg, "reports"), "dir")),  # noqa: B009
        add_to_report=add_to_report,
        extra={"load": {"profile": outcome.plan.profile, "knee": outcome.knee.to_dict(),
                        "report": str(paths["html"])}},
    )
    report.print_summary(outcome)
    print(f"capacity report: {paths['html']}", file=sys.stderr)
    reports_dir = Path(getattr(getattr(cfg, "reports"), "dir"))  # noqa: B009
    print(f"summary: {reports_dir / ('load' if add_to_report else '') / 'summary.json'}", file=sys.stderr)
    code = max(code, written.exit_code)
    from sloguard.config import Config

    from .runs import deliver

    if isinstance(cfg, Config):
        deliver(cfg, written, suite="load", err=True)
    if as_json:
        print(json.dumps(json.loads(paths["json"].read_text()), indent=2))
    return code
