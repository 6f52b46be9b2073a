"""What every API request goes through: auth, tenant check, rate limit, then the injected faults.

Handlers are plain ``request -> Response`` functions registered on a handful of generic routes;
this module is the one place where the operation's security and the active faults are applied,
in the order a real gateway would apply them.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ..faults import FaultSet, SharedFaults
from ..integrations import INTEGRATIONS
from ..metrics import ROUTE_KEY, Metrics
from ..oauth import AuthError, AuthServer, Principal
from ..openapi import Catalog, Operation
from ..ratelimit import RateLimiter
from ..settings import PlatformSettings
from ..store import Store
from ..sync import SyncEngine

JSON = "application/json"
OPEN_TENANT = "acme"  # an operation opened by the open_endpoint fault serves this tenant to anyone
# What the leak_kb_per_request fault keeps, forever (until the process ends).
LEAKED: list[bytearray] = []
# Operations that are the control plane: no injected latency or errors there.
CONTROL_KINDS = frozenset({"metrics", "openapi", "faults_list", "fault_set", "faults_clear", "fault_clear"})
# Platform health: injected latency applies (it is an API call), injected errors do not.
HEALTH_KINDS = frozenset({"health", "integrations_health", "system_health", "db_health"})


class ApiError(Exception):
    """An error answer: status, machine-readable code and a one-line detail."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status, headers, JSON)


def raw_json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers, JSON)


def error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"error": code, "detail": detail}), status, headers, JSON)


def leaked_bytes() -> int:
    return sum(len(chunk) for chunk in LEAKED)


def leak(kib: int) -> None:
    chunk = bytearray(kib * 1024)
    chunk[::4096] = b"\x01" * len(chunk[::4096])  # touch every page, so it really is resident
    LEAKED.append(chunk)


Handler = Callable[[Request, Principal | None, FaultSet], Awaitable[Response]]


@dataclass
class Context:
    settings: PlatformSettings
    faults: SharedFaults
    auth: AuthServer
    catalog: Catalog
    store: Store
    sync: SyncEngine
    limiter: RateLimiter
    metrics: Metrics
    spec_bytes: bytes

    def open_principal(self, request: Request) -> Principal:
        """The caller of an operation the open_endpoint fault opened: its token's if it has a valid
        one, otherwise anyone, served as tenant acme."""
        try:
            return self.auth.authenticate(request.headers.get("authorization"), None)
        except AuthError:
            return Principal("anonymous", "anonymous", OPEN_TENANT, frozenset({"read", "write"}), "", False)

    async def handle(self, request: Request, op: Operation, handler: Handler) -> Response:
        request.scope[ROUTE_KEY] = op.path
        faults = self.faults.get()
        if faults.leak_kb_per_request:
            leak(faults.leak_kb_per_request)
        principal: Principal | None = None
        headers: dict[str, str] | None = None
        if op.scope is not None:
            if op.operation_id in faults.open_endpoints:
                principal = self.open_principal(request)
            else:
                try:
                    principal = self.auth.authenticate(request.headers.get("authorization"), op.scope)
                except AuthError as exc:
                    return error(exc.status_code, exc.error, exc.detail, exc.headers)
                limit = faults.rate_limit or self.settings.rate_limit_per_minute
                decision = self.limiter.hit(principal.client_id, principal.sub, limit)
                headers = decision.headers()
                if not decision.allowed:
                    return error(429, "rate_limited", f"rate limit of {limit} requests per minute exceeded; "
                                 f"retry after {decision.reset_s} s", headers)
            tenant = request.headers.get("x-tenant-id")
            if tenant is not None and tenant != principal.tenant:
                return error(403, "tenant_mismatch", f"X-Tenant-ID names tenant {tenant[:40]!r}, but the token "
                             f"belongs to tenant {principal.tenant!r}", headers)
        try:
            response = await self._faulted(request, op, principal, faults, handler)
        except ApiError as exc:
            response = error(exc.status, exc.error, exc.detail, exc.headers)
        except sqlite3.OperationalError as exc:
            response = error(503, "db_unavailable", f"the database did not answer: {exc}")
        if headers:
            response.headers.update(headers)
        return response

    async def _faulted(self, request: Request, op: Operation, principal: Principal | None, faults: FaultSet,
                       handler: Handler) -> Response:
        if op.kind in CONTROL_KINDS:
            return await handler(request, principal, faults)
        integration = op.integration
        if faults.latency:
            latency = faults.latency_for(integration)
            if latency is not None:
                await asyncio.sleep(latency.sample_s())
        if op.kind in HEALTH_KINDS and (integration is None or integration not in INTEGRATIONS):
            return await handler(request, principal, faults)
        if faults.integrations_down and faults.is_down(integration):
            if op.kind == "health":
                return await handler(request, principal, faults)  # it reports "down" itself, with a body
            assert integration is not None
            return error(503, "integration_down", f"{INTEGRATIONS[integration]} is unavailable; try again later")
        if faults.error_rate:
            rate = faults.error_rate_for(integration)
            if rate and random.random() < rate:
                return error(500, "internal_error", "internal server error")
        if op.data and faults.db_down:
            return error(503, "db_unavailable", "the database is unavailable; try again later")
        return await handler(request, principal, faults)
