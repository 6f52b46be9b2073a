"""Reachability, platform and integration health, data sync, and the TLS certificate."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import secrets
import ssl
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from sloguard.catalog import Entry
from sloguard.severity import INTEGRATIONS_DOWN_AT_ONCE, Rule

from ..context import RunContext
from ..probe import CheckSpec
from ..tlscert import inspect
from .endpoints import expected_statuses, judge

HEALTH_PATHS = ("/health", "/api/v1/health", "/healthz", "/")


async def reachable(ctx: RunContext, spec: CheckSpec) -> bool:
    """Does anything answer at the target? Nothing answering is "platform down" (P0)."""
    probe = ctx.probe(spec)
    for path in HEALTH_PATHS:
        response = await probe.call("GET", path, expect=set(range(200, 600)), auth=None, measure=False)
        if response is not None:
            return True
        error = probe.last.error if probe.last else ""
        if error and "unreachable" not in error and "timeout" not in error:
            break
    probe.fail(f"target unreachable: {ctx.config.target.base_url} does not answer "
               f"({probe.last.error if probe.last else 'no answer'})", Rule.PLATFORM_DOWN)
    return False


_DATABASE_WORDS = frozenset({"db", "database", "databases", "postgres", "mysql", "sql"})


def _health_rule(entry: Entry) -> Rule:
    text = entry.path.lower()
    if _DATABASE_WORDS & set(re.split(r"[^a-z0-9]+", text)):  # /health/db, not /feedback/health
        return Rule.DATABASE_FAILURE
    if entry.integration == "platform":
        return Rule.PLATFORM_DOWN if text.rstrip("/").endswith(("/health", "/api/v1/health")) else (
            Rule.OPERATION_FAILED)
    return Rule.INTEGRATION_DEGRADED


async def health(ctx: RunContext, spec: CheckSpec, entry: Entry) -> None:
    probe = ctx.probe(spec)
    expect = expected_statuses(ctx, entry)
    auth = "default" if entry.auth.required else None
    response = await probe.call(entry.method, entry.path, expect=expect, auth=auth)
    body = judge(probe, entry, response, expect)
    reported = str(body.get("status", "")).lower() if isinstance(body, dict) else ""
    if reported in ("down", "error", "failed", "unhealthy"):
        probe.fail(f"{entry.path} reports status {reported!r}", spec.rule)
    if response is None or response.status_code >= 500 or reported in ("down", "error", "failed", "unhealthy"):
        ctx.down.add(entry.integration)
    if probe.failures:
        # What a failed health check means depends on the route (database, platform, integration); a
        # correct answer that was only slow keeps its latency finding: slow is not down.
        rule = _health_rule(entry)
        probe.findings[:] = [f if f.warning or f.latency_only else replace(f, rule=rule, severity=rule.severity)
                             for f in probe.findings]


async def integrations_down(ctx: RunContext, spec: CheckSpec, health_specs: list[CheckSpec]) -> None:
    """3 or more integrations down at once is a P0 of its own (the plan's "multiple integration failures")."""
    probe = ctx.probe(spec)
    while not all(s.id in ctx.probes and ctx.probes[s.id].finished for s in health_specs):
        await asyncio.sleep(0.02)
    down = sorted(ctx.down & {s.integration for s in health_specs})
    probe.note(f"{len(health_specs) - len(down)} of {len(health_specs)} integrations healthy")
    if len(down) >= INTEGRATIONS_DOWN_AT_ONCE:
        probe.fail(f"{len(down)} integrations down at once: {', '.join(down)}", Rule.INTEGRATIONS_DOWN)


def checksum(record: dict[str, Any], ignore: frozenset[str]) -> str:
    fields = {k: v for k, v in record.items() if k not in ignore}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


SYNC_IGNORE = frozenset({"id", "created_at", "updated_at", "tenant_id", "sync_to", "source", "source_checksum"})


async def data_sync(ctx: RunContext, spec: CheckSpec, source: Entry, target_list: Entry, target: str) -> None:
    """A record created in one integration arrives, intact, in its sync target in time; else data loss (P0)."""
    probe = ctx.probe(spec)
    data = ctx.data.for_entry(source, None)
    body = dict(data.body or {})
    body["sync_to"] = [target]
    marker = f"sloguard-sync-{secrets.token_hex(6)}"
    for key in ("title", "summary", "name", "subject", "text"):
        if key in body and isinstance(body[key], str):
            body[key] = marker
            break
    created = await probe.call(source.method, data.url_path, expect={source.success_status}, json=body, retry=False)
    record = judge(probe, source, created, {source.success_status})
    if not isinstance(record, dict) or record.get("id") is None:
        return
    source_id = record["id"]
    want = checksum(record, SYNC_IGNORE)
    deadline = time.monotonic() + ctx.config.checks.sync_timeout_s
    try:
        while time.monotonic() < deadline:
            response = await probe.call("GET", target_list.path, expect={200}, params={"source_id": source_id},
                                        measure=False)
            items = response.json().get("items", []) if response is not None and response.status_code == 200 else []
            if items:
                got = items[0].get("source_checksum")
                if got != want:
                    probe.fail(f"the synced record in {target} is corrupted: checksum {str(got)[:12]}…, "
                               f"expected {want[:12]}…", Rule.DATA_LOSS)
                return
            await asyncio.sleep(0.25)
        probe.fail(f"a {source.integration} record never arrived in {target} within "
                   f"{ctx.config.checks.sync_timeout_s:g} s (data loss)", Rule.DATA_LOSS)
    finally:
        delete = f"{source.path}/{source_id}"
        await probe.call("DELETE", delete, expect={204, 200, 404}, measure=False, retry=False)


async def network(ctx: RunContext, spec: CheckSpec, samples: int = 5) -> None:
    """Connect + TLS handshake time to the target, on fresh sockets one after another (not under the
    sweep's load), held to the ``network_ms`` objective by its median."""
    probe = ctx.probe(spec)
    url = urlsplit(ctx.config.target.base_url)
    https = url.scheme == "https"
    host, port = url.hostname or "127.0.0.1", url.port or (443 if https else 80)
    context: ssl.SSLContext | None = None
    if https:
        context = ssl.create_default_context()
        if not ctx.config.target.verify_tls:
            context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    times: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context, server_hostname=host if https else None),
                ctx.config.target.timeout_s)
        except (OSError, TimeoutError) as exc:
            probe.fail(f"cannot open a connection to {host}:{port}: {exc}", Rule.PLATFORM_DOWN)
            return
        times.append((time.perf_counter() - started) * 1000)
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    times.sort()
    median = times[len(times) // 2]
    probe.network_samples = times
    limit = float(ctx.config.slo_for(None).network_ms)
    probe.note(f"connect{' + TLS' if https else ''}: {', '.join(f'{t:.1f}' for t in times)} ms (median {median:.1f})")
    if median > limit:
        probe.fail(f"network time (connect{' + TLS' if https else ''}) {median:.0f} ms, over the {limit:.0f} ms "
                   "objective", Rule.INTEGRATION_DEGRADED, latency_only=True)


async def tls(ctx: RunContext, spec: CheckSpec) -> None:
    probe = ctx.probe(spec)
    url = urlsplit(ctx.config.target.base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 443
    started = time.perf_counter()
    try:
        info = await inspect(host, port, timeout_s=ctx.config.target.timeout_s)
    except (OSError, TimeoutError) as exc:
        probe.fail(f"TLS handshake with {host}:{port} failed: {exc}", Rule.PLATFORM_DOWN)
        return
    probe.note(f"certificate {info.subject}, issued by {info.issuer}, valid until {info.not_after:%Y-%m-%d} "
               f"({info.days_left:.1f} days left), handshake {1000 * (time.perf_counter() - started):.0f} ms")
    warn_days = ctx.config.checks.tls_expiry_warn_days
    if info.days_left <= 0:
        probe.fail(f"the certificate of {host} expired on {info.not_after:%Y-%m-%d}", Rule.PLATFORM_DOWN)
    elif info.days_left <= warn_days:
        probe.fail(f"the certificate of {host} expires in {info.days_left:.0f} days ({info.not_after:%Y-%m-%d}), "
                   f"within {warn_days} days", Rule.TLS_EXPIRY)
    if not info.trusted and ctx.config.target.verify_tls:
        probe.fail(f"the certificate is not trusted: {info.trust_error}", Rule.SECURITY_BREACH)
    elif not info.trusted:
        probe.note(f"not trusted ({info.trust_error}); accepted because target.verify_tls is false")
