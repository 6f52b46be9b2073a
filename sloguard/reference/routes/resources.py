"""The integrations' routes: CRUD, search and pagination of every resource, plus each
integration's sync, health and OAuth connect/callback. A few generic routes serve all 33."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import Response

from .. import store as db
from ..faults import FaultSet
from ..integrations import INTEGRATIONS, MODEL, PLATFORM
from ..oauth import Principal
from ..openapi import PER_PAGE_MAX, Operation
from ..records import (
    ValidationFailed,
    drifted,
    new_record,
    patched,
    search_keys,
    validate,
    validators,
)
from ..resources import Resource
from .context import ApiError, Context, error, json_response, raw_json

CONNECT_STATE_TTL_S = 600.0
MAX_BODY_BYTES = 256 * 1024


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    values = request.query_params.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise ApiError(400, "bad_request", f"query parameter {name} given more than once")
    text = values[0]
    try:
        value = int(text)
    except ValueError:
        detail = f"query parameter {name} must be a whole number, got {text[:20]!r}"
        raise ApiError(400, "bad_request", detail) from None
    if not lo <= value <= hi:
        raise ApiError(400, "bad_request", f"query parameter {name} must be between {lo} and {hi}, got {value}")
    return value


async def _json_body(request: Request) -> Any:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(400, "bad_request", f"request body larger than {MAX_BODY_BYTES} bytes")
    if not body:
        raise ApiError(400, "bad_request", "the request needs a JSON body")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {str(exc)[:120]}") from None


def _label(op: Operation, resource: Resource) -> str:
    name = INTEGRATIONS.get(op.integration or "", "")
    return f"{name} {resource.singular.replace('_', ' ')}".strip()


class ResourceRoutes:
    """Handlers for one resource operation kind, shared by every integration and the platform."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _serve(self, record: bytes, op: Operation, resource: Resource, faults: FaultSet, status: int = 200,
               headers: dict[str, str] | None = None) -> Response:
        if op.integration in faults.schema_drift:
            record = orjson.dumps(drifted(orjson.loads(record), resource))
        return raw_json(record, status, headers)

    async def list(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.resource is not None and op.integration is not None
        page = _int_param(request, "page", 1, 1, 100_000)
        per_page = _int_param(request, "per_page", 20, 1, PER_PAGE_MAX)
        q = source_id = None
        if op.kind == "search":
            q = request.query_params.get("q", "")
            if not 1 <= len(q) <= 200:
                raise ApiError(400, "bad_request", "query parameter q is required: 1 to 200 characters to find")
        else:
            source_id = request.query_params.get("source_id")
            if source_id is not None and not 1 <= len(source_id) <= 64:
                raise ApiError(400, "bad_request", "query parameter source_id must be 1 to 64 characters: a record id")
        args = (principal.tenant, op.integration, op.resource.name, page, per_page, q, source_id)
        # A search scans the resource's rows: off the event loop. A list is an indexed read: inline.
        result = await self.ctx.store.run(db.list_records, *args) if q else self.ctx.store.read(db.list_records, *args)
        items = result.bodies
        if op.integration in faults.schema_drift:
            items = [orjson.dumps(drifted(orjson.loads(b), op.resource)) for b in items]
        meta = orjson.dumps({"page": page, "per_page": per_page, "total": result.total,
                             "next_page": page + 1 if page * per_page < result.total else None})
        return raw_json(b'{"items":[' + b",".join(items) + b"]," + meta[1:])

    async def create(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.resource is not None and op.integration is not None
        resource = op.resource
        body = await _json_body(request)
        try:
            validate(validators(op.integration, resource).create, body)
        except ValidationFailed as exc:
            raise ApiError(422, "validation_error", str(exc)) from None
        record = new_record(resource, principal.tenant, body)
        jobs = []
        if body.get("sync_to"):
            jobs = self.ctx.sync.jobs_for(principal.tenant, op.integration, resource, record["id"], body["sync_to"])
        search = db.search_text(record, search_keys(resource))
        stored = await self.ctx.store.run(db.create_record, op.integration, resource.name, record, search, jobs)
        if jobs:
            self.ctx.sync.schedule(jobs)
        location = op.path + "/" + record["id"]
        return self._serve(stored, op, resource, faults, 201, {"Location": location})

    async def get(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.resource is not None and op.integration is not None
        rid = request.path_params["id"]
        body = self.ctx.store.read(db.get_record, principal.tenant, op.integration, op.resource.name, rid)
        if body is None:
            raise self._not_found(op, op.resource, rid)
        return self._serve(body, op, op.resource, faults)

    async def update(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.resource is not None and op.integration is not None
        resource = op.resource
        rid = request.path_params["id"]
        patch = await _json_body(request)
        try:
            validate(validators(op.integration, resource).update, patch)
        except ValidationFailed as exc:
            raise ApiError(422, "validation_error", str(exc)) from None
        keys = search_keys(resource)

        def apply(record: dict[str, Any]) -> tuple[dict[str, Any], str]:
            new = patched(record, patch)
            return new, db.search_text(new, keys)

        body = await self.ctx.store.run(db.update_record, principal.tenant, op.integration, resource.name, rid,
                                        apply)
        if body is None:
            raise self._not_found(op, resource, rid)
        return self._serve(body, op, resource, faults)

    async def delete(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.resource is not None and op.integration is not None
        rid = request.path_params["id"]
        if not await self.ctx.store.run(db.delete_record, principal.tenant, op.integration, op.resource.name, rid):
            raise self._not_found(op, op.resource, rid)
        return Response(status_code=204)

    @staticmethod
    def _not_found(op: Operation, resource: Resource, rid: str) -> ApiError:
        return ApiError(404, "not_found", f"no {_label(op, resource)} with id {rid[:64]!r} in your tenant")


class IntegrationRoutes:
    """Sync trigger and status, health, and the OAuth connection of one integration."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def sync(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.integration is not None
        job = await self.ctx.sync.trigger(principal.tenant, op.integration)
        return json_response({"id": job.id, "integration": op.integration, "status": "queued",
                              "due_in_s": round(max(0.0, job.due_at - time.time()), 3)}, 202)

    async def sync_status(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.integration is not None
        counts = await self.ctx.sync.status(principal.tenant, op.integration)
        last = counts["last_sync_at"]
        return json_response({
            "integration": op.integration, "pending": counts["pending"], "done": counts["done"],
            "last_sync_at": None if last is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(last)),
        })

    async def health(self, request: Request, op: Operation, principal: Principal | None, faults: FaultSet) -> Response:
        assert op.integration is not None
        report = integration_health(op.integration, faults)
        return json_response(report, 503 if report["status"] == "down" else 200)

    async def connect(self, request: Request, op: Operation, principal: Principal, faults: FaultSet) -> Response:
        assert op.integration is not None
        state = secrets.token_urlsafe(18)
        await self.ctx.store.run(db.save_connect_state, state, principal.tenant, op.integration)
        redirect_uri = f"{self.ctx.settings.issuer}/api/auth/{op.integration}/callback"
        query = urlencode({"response_type": "code", "client_id": f"atom-{op.integration}",
                           "redirect_uri": redirect_uri, "state": state, "scope": "read write"})
        return json_response({
            "integration": op.integration, "state": state, "redirect_uri": redirect_uri,
            "authorization_url": f"https://{op.integration}.provider.example/oauth/authorize?{query}",
        })

    async def callback(self, request: Request, op: Operation, principal: Principal | None,
                       faults: FaultSet) -> Response:
        assert op.integration is not None
        params = request.query_params
        if params.get("error"):
            return error(400, "access_denied", f"the provider refused the connection: {params['error'][:80]}")
        code, state = params.get("code"), params.get("state")
        if not code or not state:
            return error(400, "bad_request", "the callback needs both code and state query parameters")
        if len(code) > 512 or len(state) > 128:
            return error(400, "bad_request", "code or state is too long to be one this platform issued")
        known = self.ctx.store.read(db.connect_state_known, state, op.integration)
        tenant = await self.ctx.store.run(db.complete_connection, state, op.integration, CONNECT_STATE_TTL_S) \
            if known else None
        if tenant is None:
            # A state this platform did not issue (or already used) is what a CSRF attempt looks like.
            return error(403, "invalid_state", "unknown, used or expired state; start again at oauth/connect")
        return json_response({"integration": op.integration, "tenant": tenant, "connected": True})


def integration_health(slug: str, faults: FaultSet) -> dict[str, Any]:
    latency = faults.latency_for(slug) if faults.latency else None
    return {
        "name": slug,
        "display_name": INTEGRATIONS[slug],
        "status": "down" if faults.is_down(slug) else "up",
        "latency_ms": round(latency.ms if latency is not None else 0.0, 3),
    }


def resource_names(slug: str) -> list[str]:
    if slug == PLATFORM:
        return []
    return [r.name for r in MODEL[slug].resources]
