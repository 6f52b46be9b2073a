"""Run a plan: preflight, then every selected task concurrently, into probes and result records.

Requests are bounded by the context's semaphore (``checks.concurrency``), not by task count, so
hundreds of checks share one connection pool without one request waiting on another's latency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from sloguard import redact
from sloguard.catalog import Catalog
from sloguard.target import Target

from .checks.health import reachable
from .context import RunContext
from .plan import LOGIN_ID, PREFLIGHT_ID, Plan
from .probe import CheckSpec, Probe


@dataclass
class RunOutcome:
    plan: Plan
    probes: dict[str, Probe]
    started_at: float
    duration_s: float
    reachable: bool


async def run_plan(target: Target, plan: Plan, *, selected: Collection[str] | None = None,
                   on_done: Callable[[list[Probe]], None] | None = None) -> RunOutcome:
    """Run the selected checks; ``on_done`` is given each task's selected probes as soon as that task
    is over (their verdicts are final then), so results can be reported while the others run; the
    reachability check and the checks the plan skips come first, before any task. The rest (not
    run, skipped because the target is down, a login nobody selected) are in the outcome only."""
    started_at, t0 = time.time(), time.perf_counter()
    catalog = target.catalog
    ctx = RunContext.create(target)
    specs = plan.by_id()
    try:
        preflight = ctx.probe(specs[PREFLIGHT_ID])
        preflight.exchanges.extend(target.fetched)  # the description's fetch belongs to the evidence
        preflight.attempts += len(target.fetched)
        up = await reachable(ctx, specs[PREFLIGHT_ID])
        ctx.probes[PREFLIGHT_ID].finished = time.time()
        wanted = set(specs) if selected is None else set(selected)
        chosen = frozenset(wanted)  # what on_done reports (the login joins below only to be run)
        if LOGIN_ID in specs and LOGIN_ID not in wanted and _needs_login(wanted, specs, catalog):
            # The checks that need a token skip when the login fails; the login check must then run
            # and report it, or `-k slack` with the identity provider down would come out green.
            wanted.add(LOGIN_ID)
        planned_skips = [ctx.probe(specs[i]) for i in wanted if i in specs and specs[i].skip is not None]
        for probe in planned_skips:
            probe.skip(str(probe.spec.skip))
        done: Callable[[frozenset[str]], None] | None = None
        if on_done is not None:
            notify = on_done

            def task_over(ids: frozenset[str]) -> None:
                notify([ctx.probes[i] for i in ids & chosen if i in ctx.probes])

            done = task_over
            # Final already: the reachability check (always reported) and the checks the plan skips.
            notify([ctx.probes[PREFLIGHT_ID], *(p for p in planned_skips if p.spec.id in chosen)])
        for spec_id in wanted:  # the list calls that will run: reads by id wait for their ids
            spec = specs.get(spec_id)
            entry = catalog.get(spec.operation_id) if catalog and spec and spec.operation_id else None
            if spec is not None and spec.skip is None and spec.kind == "endpoint" and entry and entry.kind == "list":
                ctx.list_event(entry)
        if up:
            for ids, run in plan.quiet:
                if ids & wanted:
                    await _guarded(ctx, run, ids, specs, done=done)
            await asyncio.gather(*(_guarded(ctx, run, ids, specs, done=done)
                                   for ids, run in plan.tasks if ids & wanted))
        for spec_id in wanted:
            spec = specs.get(spec_id)
            if spec is None:
                continue
            if spec.skip is not None:
                continue  # skipped by the plan, above: that reason stands even when the target is down
            ran = spec_id in ctx.probes
            probe = ctx.probe(spec)
            if not up and spec_id != PREFLIGHT_ID:
                probe.skip("target unreachable")
            elif not ran:
                probe.skip("not run")
        # A task may run checks nobody selected (a chain's other steps): only the selected are reported.
        reported = {i: p for i, p in ctx.probes.items() if i in wanted or i == PREFLIGHT_ID}
        reported.update({i: p for i, p in ctx.probes.items() if i == LOGIN_ID and p.status != "passed"})
        return RunOutcome(plan, reported, started_at, time.perf_counter() - t0, up)
    finally:
        await ctx.aclose()


def _needs_login(wanted: set[str], specs: dict[str, CheckSpec], catalog: Catalog | None) -> bool:
    """Whether a selected check calls an operation that needs the suite's token."""
    for spec_id in wanted:
        spec = specs.get(spec_id)
        if spec is None or spec.skip is not None or spec.kind == "security":
            continue
        if spec.kind == "oauth":
            return True
        entry = catalog.get(spec.operation_id) if catalog is not None and spec.operation_id else None
        if entry is not None and entry.auth.required:
            return True
    return False


async def _guarded(ctx: RunContext, run: object, ids: frozenset[str], specs: dict[str, CheckSpec],
                   done: Callable[[frozenset[str]], None] | None = None) -> None:
    """A task that raises is a harness error for its checks, never a crash of the run."""
    try:
        await run(ctx)  # type: ignore[operator]
    except Exception as exc:
        for spec_id in ids:
            probe = ctx.probe(specs[spec_id])
            if not probe.failures:
                probe.harness_error(f"the check could not run: {type(exc).__name__}: {redact.redact_text(str(exc))}")
    finally:
        now = time.time()
        for spec_id in ids:
            ctx.probe(specs[spec_id]).finished = now
        if done is not None:
            done(ids)
