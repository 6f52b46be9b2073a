"""The endpoint sweep: every catalog operation called and held to its contract and its SLO.

Read-only operations are called directly (ids for ``/{id}`` routes come from the list calls of
the same run). Side-effecting operations run only where side effects are allowed, as
create → read → update → delete chains that clean up after themselves even when a step fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any
from urllib.parse import quote, urlsplit

from sloguard.catalog import CrudChain, Entry
from sloguard.datagen import id_of, resource_of
from sloguard.http import Answer
from sloguard.severity import NEAR_LIMIT_RATIO, SLOW_OPERATION_S, Rule

from ..context import RunContext
from ..probe import CheckSpec, Probe, rate_limit_text

LIST_WAIT_S = 30.0


def expected_statuses(ctx: RunContext, entry: Entry) -> set[int]:
    override = ctx.config.catalog.override_for(entry.operation_id, entry.method, entry.path)
    if override is not None and override.expected_status:
        return {int(s) for s in override.expected_status}
    return {entry.success_status}


def failure_rule(status: int | None) -> Rule:
    """What an unexpected answer means: no answer or a 5xx is a failing integration, a 429 is rate
    limiting (its own finding), anything else a wrong answer."""
    if status == 429:
        return Rule.RATE_LIMITED
    if status is None or status >= 500:
        return Rule.INTEGRATION_DEGRADED
    return Rule.OPERATION_FAILED


def accept_for(entry: Entry) -> dict[str, str]:
    """The Accept header the operation's documented success content types call for."""
    types = entry.response.content_types if entry.response is not None else ()
    return {"Accept": ", ".join(types)} if types else {}


def sent(probe: Probe, entry: Entry) -> str:
    """``GET /api/slack/messages/42``: the request as sent (the URL, not the template)."""
    exchange = probe.last
    if exchange is None:
        return f"{entry.method} {entry.path}"
    parts = urlsplit(exchange.url)
    return f"{exchange.method} {parts.path}{'?' + parts.query if parts.query else ''}"


def judge(probe: Probe, entry: Entry, response: Answer | None, expect: set[int]) -> Any:
    """Hold one answer to the contract and the SLO; returns the parsed JSON body (or None)."""
    exchange = probe.last
    if response is None and probe.skipped is not None:  # no access token: skipped with the login's cause
        return None
    if response is None:
        probe.fail(f"{sent(probe, entry)}: {exchange.error if exchange else 'no answer'}", Rule.INTEGRATION_DEGRADED)
        return None
    if response.status_code not in expect:
        if response.status_code == 429 and exchange is not None:
            probe.fail(f"{sent(probe, entry)} was {rate_limit_text(exchange)}", Rule.RATE_LIMITED)
            return None
        detail = response.text[:200].replace("\n", " ")
        probe.fail(
            f"{sent(probe, entry)} answered {response.status_code}, expected "
            f"{' or '.join(map(str, sorted(expect)))}: {detail}",
            failure_rule(response.status_code),
        )
        return None
    body: Any = None
    declared = entry.response if response.status_code == entry.success_status else None
    if declared is not None and response.status_code != 204:
        got_type = response.headers.get("content-type", "").split(";")[0].strip()
        if "json" in declared.content_type and "json" not in got_type:
            probe.fail(f"content type is {got_type or 'missing'}, the description says {declared.content_type}",
                       Rule.OPERATION_FAILED)
        else:
            try:
                body = response.json() if "json" in got_type else None
            except ValueError:
                probe.fail("the response body is not valid JSON", Rule.OPERATION_FAILED)
                return None
            if body is not None and declared.schema:
                errors = probe.ctx.validator.errors(declared.schema, body)
                if errors:
                    probe.fail("response does not match its schema: " + "; ".join(errors), Rule.OPERATION_FAILED)
    judge_slo(probe, response)
    return body


def judge_slo(probe: Probe, response: Answer) -> None:
    exchange = probe.last
    slo = probe.slo or {}
    if exchange is None:
        return
    limit_ms = float(slo.get("latency_p95_ms", 500.0))
    if exchange.latency_ms > SLOW_OPERATION_S * 1000:
        probe.fail(f"took {exchange.latency_ms:.0f} ms: slower than {SLOW_OPERATION_S:.0f} s", Rule.SLOW_OPERATION,
                   latency_only=True)
    elif exchange.latency_ms > limit_ms:
        probe.fail(f"took {exchange.latency_ms:.0f} ms, over the {limit_ms:.0f} ms latency objective",
                   Rule.INTEGRATION_DEGRADED, latency_only=True)
    # Network time (connect + TLS) is judged by its own check on quiet sockets: a connection opened
    # while hundreds of checks share the event loop measures the loop's backlog, not the network.
    headroom(probe, response)


def headroom(probe: Probe, response: Answer) -> None:
    """Warn (P1) when a rate limit is 80% used: the platform's clients are about to be throttled."""
    limit, remaining = response.headers.get("x-ratelimit-limit"), response.headers.get("x-ratelimit-remaining")
    if not limit or remaining is None:
        return
    try:
        used = 1 - float(remaining) / float(limit)
    except (ValueError, ZeroDivisionError):
        return
    threshold = probe.ctx.config.checks.rate_limit_warn or NEAR_LIMIT_RATIO
    if used >= threshold:
        probe.warn(f"rate limit {used:.0%} used ({remaining} of {limit} left)", Rule.RATE_LIMIT_NEAR)


def is_oauth_callback(entry: Entry) -> bool:
    """An OAuth redirect endpoint: it cannot succeed without a state from a real connect step."""
    return entry.path.rstrip("/").endswith("/callback") and any(
        p.name == "state" and p.location == "query" and p.required for p in entry.parameters)


def ids_missing_reason(ctx: RunContext, entry: Entry, missing: tuple[str, ...], *, always: bool = False) -> str | None:
    """Why the operation cannot be called with real path values, or None when it can.

    A read-only target never gets invented path values (a made-up slug is a 404 reported as a
    failure, or worse, a real record's neighbour). Elsewhere operations on one record need a real id.
    """
    if not missing or not (always or ctx.read_only or entry.kind in ("get", "update", "delete", "action")):
        return None
    names = ", ".join(missing)
    override = f"catalog.overrides.{entry.operation_id}.path_params.{missing[0]}"
    if ctx.id_event(entry) is not None:
        return f"no {names} to call it with: the list call returned no records (set {override})"
    return f"no {names} to call it with: no list operation provides one (set {override})"


async def wait_for_ids(ctx: RunContext, entry: Entry) -> None:
    """Give the list call of this resource (if scheduled) the chance to fill the id pool first."""
    event = ctx.id_event(entry) if "{" in entry.path else None
    if event is None:
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), LIST_WAIT_S)


async def sweep_read(ctx: RunContext, spec: CheckSpec, entry: Entry) -> None:
    """A read-only operation: expected status, schema, content type, latency, network, headroom."""
    probe = ctx.probe(spec)
    try:
        await wait_for_ids(ctx, entry)
        data = ctx.data.for_entry(entry, ctx.ids)
        missing = ids_missing_reason(ctx, entry, data.ids_missing)
        if missing:
            probe.skip(missing)
            return
        expect = expected_statuses(ctx, entry)
        if is_oauth_callback(entry):
            # A callback called without the state its connect step issued must be refused (CSRF).
            expect = {400, 401, 403}
        auth = "default" if entry.auth.required else None
        response = await probe.call(entry.method, data.url_path, expect=expect, auth=auth, params=data.query,
                                    headers={**accept_for(entry), **data.headers})
        if is_oauth_callback(entry) and response is not None and 200 <= response.status_code < 400:
            probe.fail(f"the OAuth callback accepted a made-up state ({response.status_code}): no CSRF protection",
                       Rule.SECURITY_BREACH)
            return
        body = judge(probe, entry, response, expect)
        if body is not None and entry.kind in ("list", "search"):
            ctx.ids.record(entry, body, data.path_params)
    finally:
        if entry.kind == "list":
            ctx.list_event(entry).set()


async def run_action(ctx: RunContext, spec: CheckSpec, entry: Entry) -> None:
    """A side-effecting operation outside a CRUD chain (e.g. a sync trigger or a workflow run)."""
    probe = ctx.probe(spec)
    await wait_for_ids(ctx, entry)
    data = ctx.data.for_entry(entry, ctx.ids)
    missing = ids_missing_reason(ctx, entry, data.ids_missing, always=True)
    if missing:
        probe.skip(missing)
        return
    expect = expected_statuses(ctx, entry)
    response = await probe.call(entry.method, data.url_path, expect=expect, params=data.query,
                                json=data.body, headers={**accept_for(entry), **data.headers}, retry=False)
    judge(probe, entry, response, expect)


async def run_chain(ctx: RunContext, chain: CrudChain, specs: dict[str, CheckSpec]) -> None:
    """create → get → update → delete on one resource, with the id the create returned.

    The record is deleted at the end whatever happened in between. If the create gives no id,
    the later steps are skipped with that reason rather than reported as failures of their own.
    """
    assert ctx.catalog is not None
    catalog = ctx.catalog
    create = catalog[chain.create]
    created_id: Any = None
    blocked: str | None = None
    try:
        probe = ctx.probe(specs[chain.create])
        data = ctx.data.for_entry(create, ctx.ids)
        expect = expected_statuses(ctx, create)
        response = await probe.call(create.method, data.url_path, expect=expect, json=data.body,
                                    params=data.query, headers=accept_for(create), retry=False)
        body = judge(probe, create, response, expect)
        created_id = id_of(body, chain.id_pointer) if body is not None else None
        if created_id is None:
            blocked = f"the create step ({chain.create}) gave no id"
            if body is not None:
                probe.fail(f"the create answer has no id at {chain.id_pointer}", Rule.OPERATION_FAILED)
            return
        for step in ("get", "update", "delete"):
            op = getattr(chain, step)
            if op is None or op not in specs:
                continue
            entry = catalog[op]
            probe = ctx.probe(specs[op])
            step_data = ctx.data.for_entry(entry, ctx.ids)
            url = _fill(entry.path, chain.id_param, created_id, step_data.path_params)
            expect = expected_statuses(ctx, entry)
            response = await probe.call(entry.method, url, expect=expect, json=step_data.body if step == "update"
                                        else None, params=step_data.query, headers=accept_for(entry),
                                        retry=step == "get")
            judge(probe, entry, response, expect)
            if step == "delete" and response is not None and response.status_code in expect:
                created_id = None  # gone: nothing to clean up
                if chain.get:
                    gone = await probe.call("GET", url, expect={404, 410}, measure=False)
                    if gone is not None and gone.status_code not in (404, 410):
                        probe.fail(f"the record is still readable after delete ({gone.status_code})",
                                   Rule.OPERATION_FAILED)
    finally:
        for op in chain.operations:
            if op in specs and specs[op].id not in ctx.probes:
                ctx.probe(specs[op]).skip(blocked or "an earlier step of its chain failed")
        if created_id is not None and chain.delete:
            delete = catalog[chain.delete]
            await _cleanup(ctx, delete.method, _fill(delete.path, chain.id_param, created_id))


async def _cleanup(ctx: RunContext, method: str, url: str) -> None:
    with contextlib.suppress(Exception):
        headers = {"Authorization": await ctx.default_authorization()}
        async with ctx.limiter:
            await ctx.client.request(method, ctx.url(url), headers=headers)


def _fill(path: str, param: str | None, value: Any, others: dict[str, Any] | None = None) -> str:
    """The path with ``param`` (or, if None, its last template) set to ``value``, the rest from ``others``."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == param or (param is None and match.end() == len(path)):
            return quote(str(value), safe="")
        return quote(str((others or {}).get(name, "")), safe="")

    return re.sub(r"\{([^}/]+)\}", sub, path)


__all__ = ["judge", "resource_of", "run_action", "run_chain", "sweep_read"]
