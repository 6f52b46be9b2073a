"""Platform operations that are not plain CRUD: users, running a workflow, the metrics summary."""

from __future__ import annotations

import uuid

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import store as db
from ..faults import FaultSet
from ..integrations import PLATFORM
from ..oauth import Principal
from ..openapi import PER_PAGE_MAX, Operation
from ..records import now_iso
from .context import ApiError, Context, json_response
from .resources import _int_param


class PlatformRoutes:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def users(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        page = _int_param(request, "page", 1, 1, 100_000)
        per_page = _int_param(request, "per_page", 20, 1, PER_PAGE_MAX)
        users = self.ctx.auth.list_users(principal.tenant)
        start = (page - 1) * per_page
        return json_response({"items": users[start:start + per_page], "page": page, "per_page": per_page,
                              "total": len(users), "next_page": page + 1 if start + per_page < len(users) else None})

    async def user(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        uid = request.path_params["id"]
        user = self.ctx.auth.get_user(uid)
        if user is None or user.get("tenant") != principal.tenant:
            raise ApiError(404, "not_found", f"no user with id {uid[:64]!r} in your tenant")
        return json_response(user)

    async def me(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        user = self.ctx.auth.get_user(principal.sub) if principal.is_user else None
        return json_response({"sub": principal.sub, "client_id": principal.client_id, "tenant": principal.tenant,
                              "scopes": sorted(principal.scopes), "is_user": principal.is_user, "user": user})

    async def run(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        wid = request.path_params["id"]
        body = self.ctx.store.read(db.get_record, principal.tenant, PLATFORM, "workflows", wid)
        if body is None:
            raise ApiError(404, "not_found", f"no workflow with id {wid[:64]!r} in your tenant")
        workflow = orjson.loads(body)
        started = now_iso()
        steps = [{"integration": s["integration"], "action": s["action"],
                  "status": "integration_down" if faults.is_down(s["integration"]) else "ok"}
                 for s in workflow.get("steps", [])]
        failed = any(s["status"] != "ok" for s in steps)
        return json_response({"id": uuid.uuid4().hex, "workflow_id": wid, "status": "failed" if failed else "succeeded",
                              "steps": steps, "started_at": started, "finished_at": now_iso()})

    async def metrics_summary(self, request: Request, op: Operation, principal: Principal,
                              faults: FaultSet) -> Response:
        return json_response(self.ctx.metrics.summary())
