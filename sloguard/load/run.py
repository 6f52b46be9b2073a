"""Running a plan on Locust's own engine, as a library, in the load run's own process.

``workers == 0``: this process is the only generator (Locust's LocalRunner). ``workers > 0``: it is
Locust's MasterRunner and starts that many local workers (``python -m sloguard.load --worker``),
which connect back over Locust's own master/worker protocol; ``--master`` waits for workers on other
machines instead. Locust runs as a library rather than as the ``locust`` command because the
controller needs the runner's events and state (phases, reports, early abort, the live display)
and the ``locust`` command adds its traps (``--json-file X.json`` writes ``X.json.json``; the exit
code stays 0 when its CPU warning fires). `sloguard load` itself validates the input and then starts
this process (``python -m sloguard.load``): Locust must import first to patch the standard library
for gevent, and patched after ssl is in use (as in the command line's process, or pytest's) it
recurses until it crashes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent

# Locust first: importing it monkey-patches the standard library for gevent.
import locust
import locust.runners as locust_runners
from locust.env import Environment
from locust.runners import STATE_STOPPED

from sloguard.config import Config
from sloguard.errors import UsageError

from . import hooks
from .context import LoadContext
from .control import Controller
from .outcome import RunOutcome, decide
from .plan import LoadPlan
from .target_metrics import Sample, Scraper

log = logging.getLogger("sloguard.load")
REPORT_INTERVAL_S = 1.0
WORKER_CONNECT_TIMEOUT_S = 60.0
FINAL_REPORT_TIMEOUT_S = 15.0


@dataclass
class RunOptions:
    workers: int = 0
    master: bool = False
    expect_workers: int = 1
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    worker_args: list[str] = field(default_factory=list)  # how to start `sloguard load --worker ...`
    live: bool = True
    reports_dir: Path = Path("reports/load")
    quiet: bool = False


def _environment(ctx: LoadContext, shape: hooks.ProfileShape | None) -> Environment:
    return Environment(user_classes=[hooks.SloguardUser], shape_class=shape, host=ctx.plan.base_url,
                       stop_timeout=0, events=locust.events)


def run_worker(config: Config, plan: LoadPlan, master_host: str, master_port: int) -> int:
    """Be one of a master's generators until it says quit."""
    locust_runners.WORKER_REPORT_INTERVAL = REPORT_INTERVAL_S
    ctx = LoadContext.build(config, plan)
    env = _environment(ctx, None)
    try:
        runner = env.create_worker_runner(master_host, master_port)
    except ConnectionError:
        raise UsageError(f"no Locust master answered at {master_host}:{master_port}; start "
                         "`sloguard load --master` there first, or fix --master-host/--master-port") from None
    hooks.install_generator(env, ctx)
    runner.greenlet.join()
    return 0


def run_controller(config: Config, plan: LoadPlan, options: RunOptions) -> RunOutcome:
    """Run the plan to the end (or the abort) and return what it measured and decided."""
    ctx = LoadContext.build(config, plan)
    shape = hooks.ProfileShape()
    env = _environment(ctx, shape)
    distributed = options.workers > 0 or options.master
    procs: list[subprocess.Popen[bytes]] = []
    if distributed:
        runner: Any = env.create_master_runner(options.master_bind_host, options.master_port)
    else:
        runner = env.create_local_runner()
        hooks.install_generator(env, ctx)
    controller = hooks.install_controller(env, ctx, shape)
    scraper = _scraper(config)
    samples: list[Sample] = []
    live = _live(options, plan, controller, distributed)
    try:
        if distributed:
            procs = _start_workers(options)
            _wait_for_workers(runner, options.workers or options.expect_workers, procs)
        else:
            gevent.spawn(hooks.local_reporter, ctx, shape, REPORT_INTERVAL_S)
        if scraper is not None:
            gevent.spawn(_scrape, scraper, samples, config.load.metrics.interval_s)
        runner.start_shape()
        _watch(runner, controller, live)
        _final_reports(runner, controller, ctx, distributed)
        controller.locust_totals = _locust_totals(runner)
    finally:
        if live is not None:
            live.stop()
        runner.quit()
        if scraper is not None:
            scraper.close()
        _stop_workers(procs)
    return decide(config, plan, controller, samples)


def _live(options: RunOptions, plan: LoadPlan, controller: Controller, distributed: bool) -> Any:
    if not options.live:
        return None
    from .live import LiveProgress

    return LiveProgress(plan, controller, quiet=options.quiet)


def _watch(runner: Any, controller: Controller, live: Any) -> None:
    """Sample once a second until the shape is done; stop the run on a sustained error rate."""
    while True:
        gevent.sleep(REPORT_INTERVAL_S)
        controller.sample()
        if live is not None:
            live.update()
        if controller.abort is not None and not controller.finished:
            log.error("aborting: error rate above %.0f%% for %.0f s", controller.abort_rate * 100,
                      controller.abort.sustained_s)
            controller.finish()
            runner.stop()
        if controller.finished and (runner.state == STATE_STOPPED or runner.user_count == 0):
            return


def _final_reports(runner: Any, controller: Controller, ctx: LoadContext, distributed: bool) -> None:
    """Wait until every generator has reported the last phase's tallies."""
    if not distributed:
        ctx.recorder.close()
        controller.aggregator.add("local", ctx.recorder.report())
        controller.sample()
        return
    deadline = time.monotonic() + FINAL_REPORT_TIMEOUT_S
    while time.monotonic() < deadline and not controller.all_acked(controller.generators()):
        gevent.sleep(0.2)
    if not controller.all_acked(controller.generators()):
        controller.notes.append("not every worker reported its last phase in time; its tallies may be missing")
    controller.sample()


def _locust_totals(runner: Any) -> dict[str, int]:
    """Locust's own request counts (merged from its workers by Locust), to cross-check ours."""
    from .mix import AUTH_OPERATION, AUTH_RENEWAL

    stats = runner.stats
    return {"requests": int(stats.total.num_requests), "failures": int(stats.total.num_failures),
            "token_requests": sum(int(stats.get(n, "POST").num_requests) for n in (AUTH_OPERATION, AUTH_RENEWAL))}


def _scraper(config: Config) -> Scraper | None:
    path = config.load.metrics.path
    if not path:
        return None
    url = path if path.startswith(("http://", "https://")) else config.target.url(path)
    return Scraper(url, verify=config.target.verify_tls, timeout_s=min(5.0, config.target.timeout_s))


def _scrape(scraper: Scraper, samples: list[Sample], interval_s: float) -> None:
    while True:
        sample = scraper.sample()
        if sample is not None:
            samples.append(sample)
        gevent.sleep(interval_s)


def _start_workers(options: RunOptions) -> list[subprocess.Popen[bytes]]:
    if options.workers <= 0:
        return []
    logs = options.reports_dir / "workers"
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for i in range(options.workers):
        cmd = [sys.executable, "-m", "sloguard.load", "--worker", "--master-host", "127.0.0.1",
               "--master-port", str(options.master_port), *options.worker_args]
        with (logs / f"worker-{i + 1}.log").open("wb") as out:
            env = {**os.environ, "SLOGUARD_LOAD_PROCESS": "1"}
            procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env))
    return procs


def _wait_for_workers(runner: Any, count: int, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WORKER_CONNECT_TIMEOUT_S
    while runner.worker_count < count:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise UsageError(f"a load worker exited ({dead[0].returncode}) before the run started; see its log "
                             "under reports/load/workers/")
        if time.monotonic() > deadline:
            raise UsageError(f"only {runner.worker_count} of {count} workers connected within "
                             f"{WORKER_CONNECT_TIMEOUT_S:.0f} s; start them with `sloguard load --worker --master-host "
                             "<this host>`")
        gevent.sleep(0.2)


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
