"""The API's routes: a few generic routes that dispatch through the operations catalog.

Registering one FastAPI route per operation (~700) would make routing and start-up slow; these
generic routes find the operation in a dict and call a plain ``request -> Response`` handler.
Specific routes are registered before the generic ones that would also match them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..integrations import INTEGRATIONS, MODEL, PLATFORM, PLATFORM_RESOURCES
from ..openapi import Operation
from .admin import AdminRoutes
from .context import Context, error
from .dispatch import Dispatcher, DispatchMiddleware, Where
from .health import HealthRoutes
from .platform import PlatformRoutes
from .resources import IntegrationRoutes, ResourceRoutes

Method = Callable[..., Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


def not_found_response(method: str, path: str) -> Response:
    return error(404, "not_found", f"no route {method} {path[:200]}; see /api/v1/openapi.json")


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The router's default app: unknown paths get the API's error shape, not plain text."""
    if scope["type"] != "http":
        return
    await not_found_response(scope["method"], scope["path"])(scope, receive, send)


def register(app: FastAPI, ctx: Context) -> None:
    cat = ctx.catalog
    resources, integrations = ResourceRoutes(ctx), IntegrationRoutes(ctx)
    platform, health, admin = PlatformRoutes(ctx), HealthRoutes(ctx), AdminRoutes(ctx)

    async def respond(request: Request, op: Operation | None, method: Method) -> Response:
        if op is None:
            return not_found_response(request.method, request.url.path)
        return await ctx.handle(request, op, lambda r, p, f: method(r, op, p, f))

    def fixed(operation_id: str, method: Method) -> Endpoint:
        op = cat.by_id[operation_id]

        async def endpoint(request: Request) -> Response:
            return await ctx.handle(request, op, lambda r, p, f: method(r, op, p, f))

        return endpoint

    dispatcher = Dispatcher()
    integration_names = frozenset(INTEGRATIONS)
    resource_names = frozenset(r.name for integ in MODEL.values() for r in integ.resources)

    def add(path: str, endpoint: Endpoint, *methods: str) -> None:
        where: Where = {}
        if "{integration}" in path:
            where["integration"] = integration_names
        if "{resource}" in path:
            where["resource"] = frozenset(PLATFORM_RESOURCES) if path.startswith("/api/v1/") else resource_names
        dispatcher.add(path, endpoint, *methods, where=where)

    # -- health, metrics, description, admin ----------------------------------------------------
    add("/health", fixed("get_health", health.health), "GET")
    add("/api/v1/health", fixed("get_health_v1", health.health), "GET")
    add("/api/health/integrations", fixed("get_integrations_health", health.integrations), "GET")
    add("/api/health/system", fixed("get_system_health", health.system), "GET")
    add("/api/health/db", fixed("get_db_health", health.db), "GET")
    add("/metrics", fixed("get_metrics", health.metrics), "GET")
    add("/api/v1/openapi.json", fixed("get_openapi", health.openapi), "GET")
    faults_list, faults_set = fixed("list_faults", admin.list), fixed("set_fault", admin.set)
    faults_clear = fixed("clear_faults", admin.clear_all)

    async def faults_root(request: Request) -> Response:
        if request.method == "PUT":
            return await faults_set(request)
        if request.method == "DELETE":
            return await faults_clear(request)
        return await faults_list(request)

    add("/api/admin/faults", faults_root, "GET", "PUT", "DELETE")
    add("/api/admin/faults/{name}", fixed("clear_fault", admin.clear), "DELETE")

    async def docs(request: Request) -> Response:
        return get_swagger_ui_html(openapi_url="/api/v1/openapi.json", title="ATOM API")

    add("/docs", docs, "GET")

    # -- platform: users, metrics summary, tasks and workflows ----------------------------------
    add("/api/v1/users", fixed("list_users", platform.users), "GET")
    add("/api/v1/users/me", fixed("get_current_user", platform.me), "GET")
    add("/api/v1/users/{id}", fixed("get_user", platform.user), "GET")
    add("/api/v1/metrics/summary", fixed("get_metrics_summary", platform.metrics_summary), "GET")
    add("/api/v1/workflows/{id}/run", fixed("run_workflow", platform.run), "POST")
    _resource_routes(add, "/api/v1/{resource}", lambda request: PLATFORM, cat.resource_ops, resources, respond)

    # -- the integrations -------------------------------------------------------------------------
    def per_integration(kind: str, method: Method) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            op = cat.integration_ops.get((request.path_params["integration"], kind))
            return await respond(request, op, method)

        return endpoint

    add("/api/auth/{integration}/callback", per_integration("callback", integrations.callback), "GET")
    add("/api/{integration}/sync", per_integration("sync", integrations.sync), "POST")
    add("/api/{integration}/sync/status", per_integration("sync_status", integrations.sync_status), "GET")
    add("/api/{integration}/health", per_integration("health", integrations.health), "GET")
    add("/api/{integration}/oauth/connect", per_integration("connect", integrations.connect), "GET")
    _resource_routes(add, "/api/{integration}/{resource}", lambda request: request.path_params["integration"],
                     cat.resource_ops, resources, respond)
    app.add_middleware(DispatchMiddleware, dispatcher=dispatcher)
    app.router.default = not_found


def _resource_routes(
    add: Callable[..., None], base: str, integration_of: Callable[[Request], str],
    ops: dict[tuple[str, str, str], Operation], resources: ResourceRoutes,
    respond: Callable[[Request, Operation | None, Method], Awaitable[Response]],
) -> None:
    def lookup(request: Request, kind: str) -> Operation | None:
        return ops.get((integration_of(request), request.path_params["resource"], kind))

    async def collection(request: Request) -> Response:
        if request.method == "POST":
            return await respond(request, lookup(request, "create"), resources.create)
        return await respond(request, lookup(request, "list"), resources.list)

    async def search(request: Request) -> Response:
        return await respond(request, lookup(request, "search"), resources.list)

    async def item(request: Request) -> Response:
        method: Any = {"GET": resources.get, "HEAD": resources.get, "PATCH": resources.update,
                       "DELETE": resources.delete}[request.method]
        kind = {"GET": "get", "HEAD": "get", "PATCH": "update", "DELETE": "delete"}[request.method]
        return await respond(request, lookup(request, kind), method)

    add(base, collection, "GET", "POST")
    add(base + "/search", search, "GET")
    add(base + "/{id}", item, "GET", "PATCH", "DELETE")
