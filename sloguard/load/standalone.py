"""sloguard under Locust's own command line: ``locust -f load/locustfile.py`` (web UI included).

Importing this module registers Locust event listeners that do what `sloguard load` does: read
sloguard.yaml, refuse targets that are not ours to load (exit 2), run the profile as Locust's load
shape, record every request into HDR tallies, and write the capacity report and the run's results
when a test stops; the process exits with the gate's code. Options: ``--sloguard-profile``,
``--sloguard-config``, ``--sloguard-scale``, ``--sloguard-users``, ``--sloguard-duration`` (or
the SLOGUARD_PROFILE / SLOGUARD_CONFIG environment variables); ``--host`` overrides the target.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import gevent
import locust.runners as locust_runners
from locust import events
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from sloguard.errors import UsageError

from . import hooks
from .context import LoadContext
from .hooks import ProfileShape, SloguardUser
from .plan import LoadPlan

REPORT_INTERVAL_S = 1.0


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    group = parser
    group.add_argument("--sloguard-profile", default=os.environ.get("SLOGUARD_PROFILE", "smoke"),
                       help="smoke | capacity | soak | stress | rate", include_in_web_ui=True)
    group.add_argument("--sloguard-config", default=os.environ.get("SLOGUARD_CONFIG"), help="sloguard.yaml")
    group.add_argument("--sloguard-scale", type=float, default=1.0, help="multiply the profile's users")
    group.add_argument("--sloguard-users", type=int, default=None, help="one step of this many users")
    group.add_argument("--sloguard-duration", default=None, help="hold each step this long (30s, 5m)")


def _plan(environment: Environment) -> tuple[Any, LoadPlan]:
    from sloguard.config import parse_duration
    from sloguard.target import Target, open_config

    from .plan import check_allowed, resolve

    o = environment.parsed_options
    host = getattr(o, "host", None) or None
    config = open_config(getattr(o, "sloguard_config", None), target=host)
    check_allowed(config)  # before anything is sent: a host nobody allowed is never contacted
    config = Target.open(config).config
    check_allowed(config)
    duration = getattr(o, "sloguard_duration", None)
    plan = resolve(config, getattr(o, "sloguard_profile", "smoke"), users=getattr(o, "sloguard_users", None),
                   duration_s=float(parse_duration(duration)) if duration else None,
                   scale=float(getattr(o, "sloguard_scale", 1.0) or 1.0))
    return config, plan


@events.init.add_listener
def _init(environment: Environment, **_: Any) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Locust logs at INFO; a scrape a second is noise
    try:
        config, plan = _plan(environment)
        ctx = LoadContext.build(config, plan)
    except UsageError as exc:
        print(f"sloguard: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    environment.host = plan.base_url
    runner = environment.runner
    shape = environment.shape_class
    if isinstance(runner, WorkerRunner):
        locust_runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL_S
        hooks.install_generator(environment, ctx)
        return
    if not isinstance(shape, ProfileShape):
        print("sloguard: error: the locustfile must define a ProfileShape (from sloguard.load.standalone "
              "import ProfileShape) for the profile's steps", file=sys.stderr)
        raise SystemExit(2)
    if isinstance(runner, LocalRunner):
        hooks.install_generator(environment, ctx)
        gevent.spawn(hooks.local_reporter, ctx, shape, REPORT_INTERVAL_S)
    _install_controller(environment, ctx, shape)


def _install_controller(environment: Environment, ctx: LoadContext, shape: ProfileShape) -> None:
    from .run import _scrape, _scraper
    from .target_metrics import Sample

    samples: list[Sample] = []
    scraper = _scraper(ctx.config)
    state: dict[str, Any] = {"watch": None}

    def on_test_start(environment: Environment, **_: Any) -> None:
        if shape.controller is None or shape.controller.finished:
            hooks.install_controller(environment, ctx, shape)
        samples.clear()
        if state["watch"] is None:
            state["watch"] = gevent.spawn(_watch, environment, shape)
            if scraper is not None:
                gevent.spawn(_scrape, scraper, samples, ctx.config.load.metrics.interval_s)

    def on_test_stop(environment: Environment, **_: Any) -> None:
        controller = shape.controller
        if controller is None:
            return
        if isinstance(environment.runner, LocalRunner):
            ctx.recorder.close()
            controller.aggregator.add("local", ctx.recorder.report())
        controller.sample()
        controller.finish()
        from sloguard.cli.load import finish

        from .outcome import decide

        outcome = decide(ctx.config, ctx.plan, controller, list(samples))
        reports = Path(ctx.config.reports.dir) / "load"
        environment.process_exit_code = finish(outcome, ctx.config, reports, as_json=False)

    hooks.install_controller(environment, ctx, shape)
    environment.events.test_start.add_listener(on_test_start)
    environment.events.test_stop.add_listener(on_test_stop)


def _watch(environment: Environment, shape: ProfileShape) -> None:
    """Sample the run each second; stop it when the error rate stays above the abort threshold."""
    while True:
        gevent.sleep(REPORT_INTERVAL_S)
        controller = shape.controller
        if controller is None or controller.finished:
            continue
        controller.sample()
        if controller.abort is not None:
            controller.finish()
            runner = environment.runner
            if runner is not None:
                gevent.spawn(runner.quit if _headless(environment) else runner.stop)


def _headless(environment: Environment) -> bool:
    return bool(getattr(environment.parsed_options, "headless", False))


__all__ = ["MasterRunner", "ProfileShape", "SloguardUser"]
