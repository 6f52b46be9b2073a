"""Wiring sloguard into a Locust environment, the same way for `sloguard load` and plain `locust -f`.

Roles: a *generator* (a worker, or the only process) records every request and reports; a
*controller* (the master, or the only process) runs the profile's shape, merges the reports and
watches the run. Worker → master traffic rides on Locust's own ``report_to_master`` /
``worker_report`` events; master → worker phase announcements are a Locust custom message.
"""

from __future__ import annotations

import logging
from typing import Any

import gevent
from locust import between, constant, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner
from locust.shape import LoadTestShape

from .arrival import ArrivalScheduler
from .context import LoadContext
from .control import Controller
from .generator import run_lag_probe
from .plan import LoadPlan
from .user import SloguardUser

PHASE_MESSAGE = "sloguard_phase"
REPORT_KEY = "sloguard"
log = logging.getLogger("sloguard.load")


class ProfileShape(LoadTestShape):
    """Locust's load shape for a sloguard profile: it asks the controller each second."""

    controller: Controller | None = None

    def tick(self) -> tuple[int, float] | None:
        return self.controller.tick() if self.controller is not None else None


def setup_users(ctx: LoadContext) -> None:
    low, high = ctx.plan.think_time_s
    SloguardUser.sloguard = ctx
    SloguardUser.host = ctx.plan.base_url
    SloguardUser.wait_time = constant(0) if ctx.plan.mode == "open" else between(low, high)
    SloguardUser.network_timeout = ctx.config.target.timeout_s
    SloguardUser.connection_timeout = ctx.config.target.timeout_s
    SloguardUser.insecure = not ctx.config.target.verify_tls


def install_generator(env: Environment, ctx: LoadContext) -> None:
    """Record every request of this process and report it (to the master, or to the local controller)."""
    setup_users(ctx)
    recorder = ctx.recorder
    if ctx.plan.mode == "open":
        ctx.scheduler = ArrivalScheduler(ctx.meter)

    def on_request(request_type: str, name: str, response_time: float, response_length: int,
                   response: Any = None, context: Any = None, exception: Any = None, **_: Any) -> None:
        status = getattr(response, "status_code", 0) or None
        recorder.on_request(name, status, response_time)

    env.events.request.add_listener(on_request)
    gevent.spawn(run_lag_probe, ctx.meter)

    def on_test_start(environment: Environment, **_: Any) -> None:
        recorder.users = 0

    def on_test_stop(environment: Environment, **_: Any) -> None:
        if ctx.scheduler is not None:
            ctx.scheduler.stop()
        recorder.close()

    env.events.test_start.add_listener(on_test_start)
    env.events.test_stop.add_listener(on_test_stop)

    if isinstance(env.runner, WorkerRunner):
        runner = env.runner

        def on_phase(environment: Environment, msg: Any, **_: Any) -> None:
            apply_phase(ctx, msg.data)

        runner.register_message(PHASE_MESSAGE, on_phase)

        def on_report(client_id: str, data: dict[str, Any]) -> None:
            recorder.users = runner.user_count
            data[REPORT_KEY] = recorder.report()

        env.events.report_to_master.add_listener(on_report)


def apply_phase(ctx: LoadContext, data: dict[str, Any]) -> None:
    """A phase announcement: close the current phase's tallies, and start or stop the arrivals."""
    if data.get("plan"):
        plan = LoadPlan.from_dict(data["plan"])
        if plan != ctx.plan and ctx.replan(plan):
            setup_users(ctx)
            if plan.mode == "open" and ctx.scheduler is None:
                ctx.scheduler = ArrivalScheduler(ctx.meter)
    ctx.recorder.set_phase(int(data["seq"]), int(data["step"]), str(data["phase"]))
    if ctx.scheduler is not None:
        rate = data.get("rate")
        if rate:
            ctx.scheduler.start(float(rate))
        else:
            ctx.scheduler.stop()


def install_controller(env: Environment, ctx: LoadContext, shape: ProfileShape) -> Controller:
    """Run the profile on this process: the shape asks the controller, which hears every generator."""
    runner = env.runner
    assert runner is not None
    cfg = ctx.config
    distributed = isinstance(runner, MasterRunner)

    def notify(data: dict[str, Any]) -> None:
        if distributed:
            runner.send_message(PHASE_MESSAGE, data)
        else:
            apply_phase(ctx, data)

    def worker_count() -> int:
        return runner.worker_count if isinstance(runner, MasterRunner) else 1

    def generators() -> list[str]:
        return list(runner.clients.keys()) if isinstance(runner, MasterRunner) else ["local"]

    previous = shape.controller
    controller = Controller(
        ctx.plan, abort_rate=cfg.load.abort.error_rate, abort_after_s=cfg.load.abort.sustained,
        slo_p95_ms=cfg.slos.default.latency_p95_ms, slo_error_rate=cfg.slos.default.error_rate,
        min_samples=cfg.load.min_samples, user_count=lambda: runner.user_count, worker_count=worker_count,
        notify=notify, generators=generators, first_seq=previous.seq + 1 if previous is not None else 0,
    )
    shape.controller = controller
    if distributed and previous is None:
        def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
            payload = data.get(REPORT_KEY)
            if payload and shape.controller is not None:
                shape.controller.aggregator.add(client_id, payload)

        env.events.worker_report.add_listener(on_worker_report)
    return controller


def local_reporter(ctx: LoadContext, shape: ProfileShape, interval_s: float = 1.0) -> None:
    """In a single process, hand the generator's report to the controller each second (a greenlet)."""
    while True:
        gevent.sleep(interval_s)
        controller = shape.controller
        if controller is not None:
            ctx.recorder.users = controller.user_count()
            controller.aggregator.add("local", ctx.recorder.report())


__all__ = ["ProfileShape", "SloguardUser", "events", "install_controller", "install_generator"]
