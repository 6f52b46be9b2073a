"""The probe's retry rules and how its requests become a result's traffic, against a real HTTP
server on loopback that answers a scripted sequence of statuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from sloguard.config import load_config
from sloguard.results import Outcome, Status, TransportErrorKind, request_outcome
from sloguard.severity import Rule
from sloguard.synthetics.context import RunContext
from sloguard.synthetics.probe import CheckSpec, Probe
from sloguard.synthetics.report import to_result
from sloguard.target import Target
from tests.conftest import free_port

SPEC = CheckSpec("slack · GET /api/slack/messages", "endpoint", "slack", "messages", "list messages",
                 Rule.INTEGRATION_DEGRADED, "slack_list_messages", "GET", "/api/slack/messages")


def test_the_one_rule_for_how_a_request_counts() -> None:
    assert request_outcome(None) is Outcome.UNAVAILABLE  # no answer at all
    assert request_outcome(200, {200}) is Outcome.OK
    assert request_outcome(404, {404, 410}) is Outcome.OK  # a negative check's expected refusal
    assert request_outcome(503, {200}) is Outcome.UNAVAILABLE
    assert request_outcome(429, {200}) is Outcome.UNAVAILABLE  # the platform refused to serve
    assert request_outcome(404, {200}) is Outcome.ERROR  # served, but wrong
    assert request_outcome(401, {200}) is Outcome.ERROR
    assert request_outcome(503, {503}) is Outcome.OK
    assert request_outcome(302) is Outcome.OK and request_outcome(400) is Outcome.ERROR


class Scripted:
    """Answers each request with the next (status, delay) of a script, then 200."""

    def __init__(self) -> None:
        self.script: list[tuple[int, float]] = []
        self.seen = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.seen += 1
        status, delay = self.script.pop(0) if self.script else (200, 0.0)
        if delay:
            await asyncio.sleep(delay)
        headers = {"Retry-After": "1"} if status == 429 else {}
        return web.json_response({"items": []}, status=status, headers=headers)


@pytest.fixture
async def server() -> AsyncIterator[tuple[Scripted, str]]:
    scripted = Scripted()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", scripted.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield scripted, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def probe_for(base_url: str, **checks: Any) -> tuple[Probe, RunContext]:
    config = load_config(None, overrides={"target": {"base_url": base_url, "timeout_s": 0.5},
                                          "checks": {"retries": 1, **checks}})
    ctx = RunContext.create(Target(config, None, read_only=True))
    return ctx.probe(SPEC), ctx


async def call(base_url: str, *script: tuple[int, float], expect: set[int] | None = None,
               server: Scripted | None = None, **kw: Any) -> tuple[Probe, Any]:
    if server is not None:
        server.script[:] = list(script)
    probe, ctx = await probe_for(base_url)
    try:
        response = await probe.call("GET", "/api/slack/messages", expect=expect or {200}, auth=None, **kw)
    finally:
        await ctx.aclose()
    return probe, response


async def test_a_5xx_is_retried_once_and_the_pass_on_retry_is_flaky(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, response = await call(url, (503, 0), server=scripted)
    assert response.status_code == 200 and scripted.seen == 2
    result = to_result(SPEC, probe)
    assert result.status is Status.FLAKY
    t = result.traffic
    assert (t.requests, t.slo_requests, t.errors, t.unavailable) == (2, 2, 1, 1)  # the retried 503 still counts
    assert len(result.evidence) == 2 and result.evidence[0].status == 503


async def test_a_5xx_on_every_attempt_stays_unavailable(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, response = await call(url, (500, 0), (502, 0), server=scripted)
    assert response.status_code == 502 and scripted.seen == 2
    probe.fail("GET /api/slack/messages answered 502", Rule.INTEGRATION_DEGRADED)
    t = to_result(SPEC, probe).traffic
    assert (t.slo_requests, t.errors, t.unavailable) == (2, 2, 2)


async def test_4xx_and_429_are_not_retried_and_count_apart(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, response = await call(url, (404, 0), server=scripted)
    assert response.status_code == 404 and scripted.seen == 1
    t = to_result(SPEC, probe).traffic
    assert (t.errors, t.unavailable) == (1, 0)  # wrong, but served
    probe, _ = await call(url, (429, 0), server=scripted)
    t = to_result(SPEC, probe).traffic
    assert (t.errors, t.unavailable) == (1, 1)  # refused to serve
    probe, _ = await call(url, (404, 0), server=scripted, expect={404})
    t = to_result(SPEC, probe).traffic
    assert (t.slo_requests, t.errors, t.unavailable) == (1, 0, 0)


async def test_a_wrong_body_counts_as_an_error_but_a_slow_answer_only_as_latency(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, _ = await call(url, server=scripted)
    probe.fail("response does not match its schema: $.items[0]: 'id' is a required property")
    assert to_result(SPEC, probe).traffic.errors == 1
    probe, _ = await call(url, server=scripted)
    probe.fail("took 900 ms, over the 500 ms latency objective", Rule.INTEGRATION_DEGRADED, latency_only=True)
    result = to_result(SPEC, probe)
    assert result.status is Status.FAILED and result.traffic.errors == 0 and len(result.traffic.latencies_ms) == 1


async def test_unmeasured_requests_are_traffic_that_does_not_count(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, _ = await call(url, (401, 0), server=scripted, expect={401, 403}, measure=False)
    t = to_result(SPEC, probe).traffic
    assert t.requests == 1 and t.slo_requests == 0 and not t.counts_toward_slo


async def test_transport_errors_are_classified_by_type(server: tuple[Scripted, str]) -> None:
    scripted, url = server
    probe, response = await call(url, (200, 2.0), (200, 2.0), server=scripted)  # slower than the 0.5 s timeout
    assert response is None
    result = to_result(SPEC, probe)
    assert result.transport_error is TransportErrorKind.TIMEOUT and result.evidence[-1].error.startswith("timeout")
    assert (result.traffic.slo_requests, result.traffic.unavailable, result.traffic.latencies_ms) == (2, 2, ())
    probe, response = await call(f"http://127.0.0.1:{free_port()}")
    assert response is None and to_result(SPEC, probe).transport_error is TransportErrorKind.CONNECT
    assert probe.last is not None and "target unreachable" in (probe.last.error or "")


async def test_statuses_of_a_probe() -> None:
    probe, ctx = await probe_for("http://127.0.0.1:9")
    await ctx.aclose()
    assert probe.status == "passed"
    probe.inconclusive("the operation answered 503")
    assert probe.status == "inconclusive"
    assert to_result(SPEC, probe).skip_reason == "the operation answered 503"
    probe.warn("85% of the rate limit used", Rule.RATE_LIMIT_NEAR)
    assert probe.status == "inconclusive"
    probe.harness_error("the check could not run: KeyError: 'id'")
    assert probe.status == "error" and to_result(SPEC, probe).rule is Rule.CHECK_ERROR
    probe.fail("a real finding", Rule.SECURITY_BREACH)
    assert probe.status == "failed"


async def test_a_harness_error_keeps_the_exchanges_made_before_it(server: tuple[Scripted, str]) -> None:
    """A check whose own code breaks after a request is a suite error (CHECK_ERROR), with its evidence."""
    from sloguard.synthetics.runner import _guarded

    _, url = server
    _, ctx = await probe_for(url)

    async def broken_check(ctx: RunContext) -> None:
        await ctx.probe(SPEC).call("GET", "/api/slack/messages", expect={200}, auth=None)
        raise KeyError("id")  # what a check's own bug looks like: not the platform's fault

    try:
        await _guarded(ctx, broken_check, frozenset({SPEC.id}), {SPEC.id: SPEC})
    finally:
        await ctx.aclose()
    result = to_result(SPEC, ctx.probe(SPEC))
    assert result.status is Status.ERROR and result.rule is Rule.CHECK_ERROR
    assert "KeyError" in (result.error or "") and len(result.evidence) == 1 and result.evidence[0].status == 200
