"""A segment-matching ASGI dispatcher for the API routes, in front of FastAPI's router.

FastAPI's router tries each route's regular expression in turn; with the authorization server's
routes in front, that scan cost more than the rest of an API request. Here a static path is one
dict lookup and a templated one is compared segment by segment against the few templates that
have its length. Requests for other paths (the OAuth routes) go on to FastAPI unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..metrics import ROUTE_KEY
from .context import error

Endpoint = Callable[[Request], Awaitable[Response]]
Methods = dict[str, Endpoint]
Where = dict[str, frozenset[str]]


class Dispatcher:
    def __init__(self) -> None:
        self._static: dict[str, Methods] = {}
        self._templates: dict[int, list[tuple[tuple[str, ...], Methods, str, Where]]] = {}

    def add(self, path: str, endpoint: Endpoint, *methods: str, where: Where | None = None) -> None:
        """``where`` limits a path parameter to a set of values (e.g. integration slugs), so a
        template does not swallow paths that belong to another router."""
        table = {m: endpoint for m in methods}
        if "GET" in table:
            table.setdefault("HEAD", endpoint)
        if "{" not in path:
            self._static.setdefault(path, {}).update(table)
            return
        segments = tuple(path.strip("/").split("/"))
        self._templates.setdefault(len(segments), []).append((segments, table, path, where or {}))

    def match(self, path: str, method: str) -> tuple[Endpoint, dict[str, str], str] | list[str] | None:
        """(endpoint, path params, template); the allowed methods if only the method is wrong; or None."""
        allowed: list[str] = []
        found = self._static.get(path)
        if found is not None:
            endpoint = found.get(method)
            if endpoint is not None:
                return endpoint, {}, path
            allowed += found
        segments = path.strip("/").split("/") if path.startswith("/") else []
        for template, table, text, where in self._templates.get(len(segments), ()):
            params: dict[str, str] = {}
            for want, got in zip(template, segments, strict=True):
                if want[0] == "{":
                    name = want[1:-1]
                    allowed_values = where.get(name)
                    if not got or (allowed_values is not None and got not in allowed_values):
                        break
                    params[name] = got
                elif want != got:
                    break
            else:
                endpoint = table.get(method)
                if endpoint is not None:
                    return endpoint, params, text
                if not allowed:  # the most specific template that matches says what is allowed
                    allowed += table
        return sorted(set(allowed)) if allowed else None


class DispatchMiddleware:
    """Serves the paths the dispatcher knows; everything else goes to the wrapped app."""

    def __init__(self, app: ASGIApp, dispatcher: Dispatcher) -> None:
        self.app = app
        self.dispatcher = dispatcher

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = self.dispatcher.match(scope["path"], scope["method"])
        if found is None:
            await self.app(scope, receive, send)
            return
        if isinstance(found, list):
            response = error(405, "method_not_allowed", f"{scope['method']} is not allowed here; use "
                             f"{', '.join(found)}", {"Allow": ", ".join(found)})
            await response(scope, receive, send)
            return
        endpoint, params, template = found
        scope["path_params"] = params
        scope[ROUTE_KEY] = template
        response = await endpoint(Request(scope, receive, send))
        await response(scope, receive, send)
