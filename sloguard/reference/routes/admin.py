"""The admin faults API: list, set and clear faults at run time (needs the admin scope)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..faults import FAULTS, FaultError, FaultSet, describe
from ..oauth import Principal
from ..openapi import Operation
from .context import ApiError, Context, json_response
from .resources import _json_body


def _listing(faults: FaultSet) -> dict[str, Any]:
    return {"faults": dict(faults.raw),
            "available": [{"name": n, "syntax": s, "help": h, "runtime": FAULTS[n].runtime} for n, s, h in describe()]}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ApiError(400, "invalid_fault", "value must be a string, number or boolean, e.g. {\"name\": "
                   "\"latency_ms\", \"value\": \"slack:300\"}")


class AdminRoutes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def list(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        return json_response(_listing(self.ctx.faults.get()))

    async def set(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        body = await _json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or "value" not in body:
            raise ApiError(400, "invalid_fault", "send {\"name\": <fault>, \"value\": <value>}, e.g. "
                           "{\"name\": \"latency_ms\", \"value\": \"slack:300\"}")
        try:
            current = self.ctx.faults.set(body["name"], _text(body["value"]))
        except FaultError as exc:
            raise ApiError(400, "invalid_fault", str(exc)) from None
        return json_response(_listing(current))

    async def clear_all(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        return json_response(_listing(self.ctx.faults.clear()))

    async def clear(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        try:
            current = self.ctx.faults.clear(request.path_params["name"])
        except FaultError as exc:
            raise ApiError(400, "invalid_fault", str(exc)) from None
        return json_response(_listing(current))
