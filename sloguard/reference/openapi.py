"""The platform's operations catalog and the OpenAPI 3.0.3 description generated from it.

The catalog is the single list of operations: the routes dispatch through it (so each request
knows its operationId, scope and route template) and the description is rendered from it and
from the resource model, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .faults import describe as describe_faults
from .integrations import INTEGRATIONS, MODEL, PLATFORM, PLATFORM_RESOURCES
from .records import create_schema, record_schema, update_schema
from .resources import Integration, Resource, pascal
from .settings import PlatformSettings

PER_PAGE_MAX = 100
READ, WRITE, ADMIN = "read", "write", "admin"
RESOURCE_KINDS = ("list", "search", "create", "get", "update", "delete")
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # the OpenAPI path template; also the metrics route label
    kind: str
    tag: str
    summary: str
    scope: str | None  # None: public
    integration: str | None = None  # slug, "platform", or None for platform-wide routes
    resource: Resource | None = None
    data: bool = False  # uses the database: answers 503 while db_down


class Catalog:
    def __init__(self, operations: list[Operation]) -> None:
        self.operations = operations
        self.by_id = {op.operation_id: op for op in operations}
        if len(self.by_id) != len(operations):
            raise RuntimeError("openapi: duplicate operationId in the catalog")
        self.resource_ops: dict[tuple[str, str, str], Operation] = {}
        self.integration_ops: dict[tuple[str, str], Operation] = {}
        for op in operations:
            if op.integration is None:
                continue
            if op.resource is not None:
                self.resource_ops[(op.integration, op.resource.name, op.kind)] = op
            else:
                self.integration_ops[(op.integration, op.kind)] = op

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self.by_id


def _resource_ops(prefix: str, ident: str, integration: str, tag: str, display: str,
                  resource: Resource, ids: dict[str, str] | None = None) -> list[Operation]:
    base = f"{prefix}/{resource.name}"
    words = resource.name.replace("_", " ")
    one = resource.singular.replace("_", " ")
    ids = ids or {
        "list": f"{ident}_list_{resource.name}", "search": f"{ident}_search_{resource.name}",
        "create": f"{ident}_create_{resource.singular}", "get": f"{ident}_get_{resource.singular}",
        "update": f"{ident}_update_{resource.singular}", "delete": f"{ident}_delete_{resource.singular}",
    }
    rows = [
        ("list", "GET", base, READ, f"List {display} {words}"),
        ("search", "GET", f"{base}/search", READ, f"Search {display} {words}"),
        ("create", "POST", base, WRITE, f"Create a {display} {one}"),
        ("get", "GET", f"{base}/{{id}}", READ, f"Get a {display} {one}"),
        ("update", "PATCH", f"{base}/{{id}}", WRITE, f"Update a {display} {one}"),
        ("delete", "DELETE", f"{base}/{{id}}", WRITE, f"Delete a {display} {one}"),
    ]
    return [Operation(ids[kind], method, path, kind, tag, summary.replace("  ", " ").strip(), scope, integration,
                      resource, True) for kind, method, path, scope, summary in rows]


def _integration_ops(integ: Integration) -> list[Operation]:
    prefix, ident, tag, name = f"/api/{integ.slug}", integ.ident, integ.display_name, integ.display_name
    ops: list[Operation] = []
    for resource in integ.resources:
        ops += _resource_ops(prefix, ident, integ.slug, tag, name, resource)
    ops += [
        Operation(f"{ident}_trigger_sync", "POST", f"{prefix}/sync", "sync", tag, f"Trigger a {name} sync", WRITE,
                  integ.slug, None, True),
        Operation(f"{ident}_sync_status", "GET", f"{prefix}/sync/status", "sync_status", tag,
                  f"{name} sync status", READ, integ.slug, None, True),
        Operation(f"{ident}_health", "GET", f"{prefix}/health", "health", tag, f"{name} health", None, integ.slug),
        Operation(f"{ident}_oauth_connect", "GET", f"{prefix}/oauth/connect", "connect", tag,
                  f"Start connecting {name} (OAuth)", READ, integ.slug, None, True),
        Operation(f"{ident}_oauth_callback", "GET", f"/api/auth/{integ.slug}/callback", "callback", tag,
                  f"{name} OAuth callback", None, integ.slug, None, True),
    ]
    return ops


def _platform_ops() -> list[Operation]:
    tasks, workflows = PLATFORM_RESOURCES["tasks"], PLATFORM_RESOURCES["workflows"]
    task_ids = {k: f"{k}_task{'s' if k in ('list', 'search') else ''}" for k in RESOURCE_KINDS}
    ops = _resource_ops("/api/v1", "", PLATFORM, "Tasks", "", tasks, task_ids)
    wf_ids = {k: f"{k}_workflow{'s' if k in ('list', 'search') else ''}" for k in RESOURCE_KINDS}
    ops += [op for op in _resource_ops("/api/v1", "", PLATFORM, "Workflows", "", workflows, wf_ids)
            if op.kind != "search"]
    ops += [
        Operation("run_workflow", "POST", "/api/v1/workflows/{id}/run", "run", "Workflows", "Run a workflow now",
                  WRITE, PLATFORM, workflows, True),
        Operation("list_users", "GET", "/api/v1/users", "users", "Users", "List the users of your tenant", READ),
        Operation("get_current_user", "GET", "/api/v1/users/me", "me", "Users", "Who the token belongs to", READ),
        Operation("get_user", "GET", "/api/v1/users/{id}", "user", "Users", "Get a user of your tenant", READ),
        Operation("get_metrics_summary", "GET", "/api/v1/metrics/summary", "metrics_summary", "Metrics",
                  "Request totals and recent latency percentiles", READ),
        Operation("get_health", "GET", "/health", "health", "Health", "Platform health", None),
        Operation("get_health_v1", "GET", "/api/v1/health", "health", "Health", "Platform health (versioned)", None),
        Operation("get_integrations_health", "GET", "/api/health/integrations", "integrations_health", "Health",
                  "Health of every integration", None),
        Operation("get_system_health", "GET", "/api/health/system", "system_health", "Health",
                  "Process CPU, memory, uptime and database pool use", None),
        Operation("get_db_health", "GET", "/api/health/db", "db_health", "Health", "Database health", None),
        Operation("get_metrics", "GET", "/metrics", "metrics", "Metrics", "Prometheus metrics", None),
        Operation("get_openapi", "GET", "/api/v1/openapi.json", "openapi", "Metrics", "This description", None),
        Operation("list_faults", "GET", "/api/admin/faults", "faults_list", "Admin", "List the active faults", ADMIN),
        Operation("set_fault", "PUT", "/api/admin/faults", "fault_set", "Admin", "Set a fault", ADMIN),
        Operation("clear_faults", "DELETE", "/api/admin/faults", "faults_clear", "Admin",
                  "Clear every run-time fault", ADMIN),
        Operation("clear_fault", "DELETE", "/api/admin/faults/{name}", "fault_clear", "Admin", "Clear one fault",
                  ADMIN),
    ]
    return ops


def build_catalog() -> Catalog:
    ops: list[Operation] = []
    for integ in MODEL.values():
        ops += _integration_ops(integ)
    ops += _platform_ops()
    return Catalog(ops)


# -- the OpenAPI document ---------------------------------------------------------------------------
def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _obj(props: dict[str, Any], required: list[str] | None = None, example: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props}
    out["required"] = required if required is not None else list(props)
    if example is not None:
        out["example"] = example
    return out


STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer", "minimum": 0}
NUM: dict[str, Any] = {"type": "number", "minimum": 0}
UPDOWN: dict[str, Any] = {"type": "string", "enum": ["up", "down"]}
OKDOWN: dict[str, Any] = {"type": "string", "enum": ["ok", "down"]}
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")

ERROR_RESPONSES: dict[str, tuple[str, str, str]] = {
    # status: (component name, description, example error code)
    "400": ("BadRequest", "Malformed request: bad JSON or query parameters", "bad_request"),
    "401": ("Unauthorized", "No token, or an invalid, expired or revoked one", "invalid_token"),
    "403": ("Forbidden", "The token lacks the scope, or X-Tenant-ID names another tenant", "insufficient_scope"),
    "404": ("NotFound", "No such record in your tenant", "not_found"),
    "422": ("ValidationError", "The body does not match the schema", "validation_error"),
    "429": ("TooManyRequests", "Rate limit exceeded; retry after Retry-After seconds", "rate_limited"),
    "500": ("InternalError", "Unexpected server error", "internal_error"),
    "503": ("ServiceUnavailable", "The integration or the database is unavailable", "unavailable"),
}


def _components(settings: PlatformSettings) -> dict[str, Any]:
    base = settings.issuer
    scopes = {READ: "read records", WRITE: "create, change and delete records", ADMIN: "admin API (faults, keys)"}
    schemas: dict[str, Any] = {
        "Error": _obj({"error": {**STR, "example": "not_found"}, "detail": {**STR, "example": "no such record"}},
                      example={"error": "not_found", "detail": "no slack message 3f0c5e1e in tenant acme"}),
    }
    responses: dict[str, Any] = {}
    for status, (name, description, code) in ERROR_RESPONSES.items():
        headers = {h: _ref("headers", h) for h in RATE_HEADERS}
        if status == "429":
            headers["Retry-After"] = _ref("headers", "Retry-After")
        if status in ("401", "403"):
            headers = {"WWW-Authenticate": _ref("headers", "WWW-Authenticate")}
        responses[name] = {
            "description": description,
            "headers": headers,
            "content": {"application/json": {"schema": _ref("schemas", "Error"),
                                             "example": {"error": code, "detail": description}}},
        }
    header_defs: dict[str, Any] = {
        "X-RateLimit-Limit": {"description": "requests allowed per minute for this client and user",
                              "schema": {"type": "integer", "minimum": 1}},
        "X-RateLimit-Remaining": {"description": "requests left in this window", "schema": INT},
        "X-RateLimit-Reset": {"description": "seconds until the window resets", "schema": INT},
        "Retry-After": {"description": "seconds to wait before retrying", "schema": INT},
        "Location": {"description": "URL of the created record", "schema": STR},
        "WWW-Authenticate": {"description": "RFC 6750 bearer challenge", "schema": STR},
    }
    parameters = {
        "Page": {"name": "page", "in": "query", "description": "1-based page number",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
        "PerPage": {"name": "per_page", "in": "query", "description": f"items per page (at most {PER_PAGE_MAX})",
                    "schema": {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": 20}},
        "Query": {"name": "q", "in": "query", "required": True, "description": "case-insensitive text to find",
                  "schema": {"type": "string", "minLength": 1, "maxLength": 200}, "example": "release"},
        "SourceId": {"name": "source_id", "in": "query",
                     "description": "only records that sync created from this source record",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 64}},
        "RecordId": {"name": "id", "in": "path", "required": True, "description": "record id",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                     "example": "3f0c5e1e-8d3b-4b7a-9a53-2f1f3c9f6a10"},
    }
    schemas.update(_platform_schemas())
    schemas.update(_login_schemas())
    return {
        "securitySchemes": {
            "oauth2": {
                "type": "oauth2",
                "description": "OAuth2; access tokens are RS256 JWTs (audience atom-api). As on the real ATOM, "
                               "the password flow's tokenUrl is the JSON login (POST /api/auth/login "
                               "{username, password}); OAuth clients find the token endpoint by discovery.",
                "flows": {
                    "password": {"tokenUrl": f"{base}/api/auth/login", "refreshUrl": f"{base}/api/auth/token",
                                 "scopes": scopes},
                    "clientCredentials": {"tokenUrl": f"{base}/api/auth/token", "scopes": scopes},
                    "authorizationCode": {"authorizationUrl": f"{base}/api/auth/authorize",
                                          "tokenUrl": f"{base}/api/auth/token",
                                          "refreshUrl": f"{base}/api/auth/token", "scopes": scopes},
                },
            },
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        },
        "schemas": schemas,
        "responses": responses,
        "headers": header_defs,
        "parameters": parameters,
    }


def _login_schemas() -> dict[str, Any]:
    """The JSON login's schemas, shaped as FastAPI describes the real ATOM's."""
    detail = _obj({"loc": {"type": "array", "items": {"anyOf": [STR, {"type": "integer"}]}}, "msg": STR,
                   "type": STR})
    return {
        "LoginRequest": {**_obj({"username": {**STR, "title": "Username"}, "password": {**STR, "title": "Password"},
                                 "totp_code": {**STR, "nullable": True, "title": "Totp Code"}},
                                required=["username", "password"],
                                example={"username": "alice@acme.test", "password": "alice-password"}),
                         "title": "LoginRequest"},
        "Token": {**_obj({"access_token": {**STR, "title": "Access Token"},
                          "token_type": {**STR, "title": "Token Type"}}), "title": "Token"},
        "ValidationError": {**detail, "title": "ValidationError"},
        "HTTPValidationError": {"type": "object", "title": "HTTPValidationError",
                                "properties": {"detail": {"type": "array", "items": _ref("schemas",
                                                                                          "ValidationError")}}},
        "LoginError": _obj({"detail": STR}, example={"detail": "Incorrect username or password"}),
    }


def _login_operation() -> dict[str, Any]:
    """``POST /api/auth/login`` as FastAPI documents the real ATOM's: a JSON LoginRequest, no security."""
    return {
        "operationId": "login_api_auth_login_post",
        "tags": ["Auth"],
        "summary": "Login",
        "description": "The ATOM web app's login: JSON in, a bearer token out. OAuth clients use the token "
                       "endpoint from discovery (/api/auth/token) instead.",
        "security": [],
        "requestBody": {"required": True, "content": _json(_ref("schemas", "LoginRequest"))},
        "responses": {
            "200": {"description": "Successful Response", "content": _json(_ref("schemas", "Token"))},
            "401": {"description": "Incorrect username or password", "content": _json(_ref("schemas", "LoginError"))},
            "422": {"description": "Validation Error", "content": _json(_ref("schemas", "HTTPValidationError"))},
            "429": {"description": "Too many failed logins", "headers": {"Retry-After": _ref("headers", "Retry-After")},
                    "content": _json(_ref("schemas", "LoginError"))},
            "503": {"description": "The authorization server is unavailable",
                    "content": _json(_ref("schemas", "Error"))},
        },
    }


def _platform_schemas() -> dict[str, Any]:
    ts = {"type": "string", "format": "date-time"}
    integration_health = _obj(
        {"name": {**STR, "enum": sorted(INTEGRATIONS)}, "display_name": STR, "status": UPDOWN,
         "latency_ms": NUM},
        example={"name": "slack", "display_name": "Slack", "status": "up", "latency_ms": 0.4},
    )
    user = _obj({"id": STR, "email": {**STR, "format": "email"}, "name": STR, "tenant": STR, "created_at": ts},
                example={"id": "usr_alice", "email": "alice@acme.test", "name": "Alice Anderson",
                         "tenant": "acme", "created_at": "2025-03-01T09:30:00Z"})
    fault_info = _obj({"name": STR, "syntax": STR, "help": STR, "runtime": {"type": "boolean"}})
    faults = _obj(
        {"faults": {"type": "object", "additionalProperties": STR},
         "available": {"type": "array", "items": _ref("schemas", "FaultInfo")}},
        example={"faults": {"latency_ms": "slack:300"},
                 "available": [{"name": n, "syntax": s, "help": h, "runtime": n != "tls_days_left"}
                               for n, s, h in describe_faults()][:2]},
    )
    return {
        "Health": _obj(
            {"status": {**STR, "enum": ["ok", "degraded", "down"]}, "version": STR, "uptime_s": NUM,
             "checks": _obj({"db": OKDOWN, "auth": OKDOWN, "integrations": {**STR, "enum": ["ok", "degraded"]}})},
            example={"status": "ok", "version": "1.0.0", "uptime_s": 12.5,
                     "checks": {"db": "ok", "auth": "ok", "integrations": "ok"}},
        ),
        "IntegrationHealth": integration_health,
        "IntegrationsHealth": _obj(
            {"integrations": {"type": "array", "items": _ref("schemas", "IntegrationHealth")}, "up": INT,
             "down": INT},
            example={"integrations": [integration_health["example"]], "up": 33, "down": 0},
        ),
        "SystemHealth": _obj(
            {"status": {**STR, "enum": ["ok"]}, "pid": INT, "uptime_s": NUM, "cpu_seconds": NUM, "cpu_percent": NUM,
             "memory_rss_bytes": INT, "threads": INT, "leaked_bytes": INT,
             "db_pool": _obj({"size": INT, "in_use": INT}), "sync_pending": INT},
            example={"status": "ok", "pid": 4242, "uptime_s": 60.1, "cpu_seconds": 1.2, "cpu_percent": 3.5,
                     "memory_rss_bytes": 81234944, "threads": 12, "leaked_bytes": 0,
                     "db_pool": {"size": 8, "in_use": 1}, "sync_pending": 0},
        ),
        "DbHealth": _obj({"status": OKDOWN}, example={"status": "ok"}),
        "SyncJob": _obj({"id": STR, "integration": STR, "status": {**STR, "enum": ["queued"]}, "due_in_s": NUM},
                        example={"id": "c1c7a3c2", "integration": "slack", "status": "queued", "due_in_s": 0.5}),
        "SyncStatus": _obj(
            {"integration": STR, "pending": INT, "done": INT, "last_sync_at": {**ts, "nullable": True}},
            example={"integration": "slack", "pending": 0, "done": 3, "last_sync_at": "2025-03-01T09:30:00Z"},
        ),
        "ConnectStart": _obj(
            {"integration": STR, "authorization_url": {**STR, "format": "uri"}, "state": STR,
             "redirect_uri": {**STR, "format": "uri"}},
            example={"integration": "slack", "state": "q8Nf0", "redirect_uri":
                     "http://127.0.0.1:8400/api/auth/slack/callback",
                     "authorization_url": "https://slack.provider.example/oauth/authorize?state=q8Nf0"},
        ),
        "ConnectResult": _obj({"integration": STR, "tenant": STR, "connected": {"type": "boolean"}},
                              example={"integration": "slack", "tenant": "acme", "connected": True}),
        "User": user,
        "UserList": _page_schema("User", user["example"]),
        "CurrentUser": _obj(
            {"sub": STR, "client_id": STR, "tenant": STR, "scopes": {"type": "array", "items": STR},
             "is_user": {"type": "boolean"}, "user": {**_ref("schemas", "User"), "nullable": True}},
            example={"sub": "usr_alice", "client_id": "sloguard-ci", "tenant": "acme", "scopes": ["read"],
                     "is_user": True, "user": user["example"]},
        ),
        "WorkflowRun": _obj(
            {"id": STR, "workflow_id": STR, "status": {**STR, "enum": ["succeeded", "failed"]},
             "steps": {"type": "array", "items": _obj({"integration": STR, "action": STR, "status": STR})},
             "started_at": ts, "finished_at": ts},
            example={"id": "run_1", "workflow_id": "3f0c5e1e", "status": "succeeded",
                     "steps": [{"integration": "slack", "action": "notify", "status": "ok"}],
                     "started_at": "2025-03-01T09:30:00Z", "finished_at": "2025-03-01T09:30:00Z"},
        ),
        "MetricsSummary": _obj(
            {"requests_total": INT, "errors_total": INT, "error_rate": NUM,
             "latency_ms": _obj({"p50": NUM, "p95": NUM, "p99": NUM, "window": INT}), "uptime_s": NUM},
            example={"requests_total": 1200, "errors_total": 3, "error_rate": 0.0025,
                     "latency_ms": {"p50": 2.1, "p95": 8.4, "p99": 20.0, "window": 1200}, "uptime_s": 300.0},
        ),
        "FaultInfo": fault_info,
        "Faults": faults,
        "FaultSet": {
            "type": "object", "required": ["name", "value"], "additionalProperties": False,
            "properties": {"name": {**STR, "enum": [n for n, _, _ in describe_faults()]}, "value": STR},
            "example": {"name": "latency_ms", "value": "slack:300"},
        },
    }


def _page_schema(item: str, example: dict[str, Any]) -> dict[str, Any]:
    return _obj(
        {"items": {"type": "array", "items": _ref("schemas", item)},
         "page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1},
         "total": INT, "next_page": {"type": "integer", "minimum": 2, "nullable": True}},
        example={"items": [example], "page": 1, "per_page": 20, "total": 1, "next_page": None},
    )


def schema_name(op: Operation) -> str:
    assert op.resource is not None
    if op.integration == PLATFORM:
        return pascal(op.resource.singular)
    assert op.integration is not None
    return pascal(op.integration) + pascal(op.resource.singular)


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: _ref("responses", ERROR_RESPONSES[s][0]) for s in statuses}


def _ok(description: str, schema: dict[str, Any] | None, *, rate: bool = True, status: str = "200",
        extra_headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    headers = {h: _ref("headers", h) for h in RATE_HEADERS} if rate else {}
    headers.update(extra_headers or {})
    if headers:
        response["headers"] = headers
    if schema is not None:
        response["content"] = _json(schema)
    return {status: response}


def _operation(op: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.scope is None:
        out["security"] = []
    else:
        out["security"] = [{"oauth2": [op.scope]}, {"bearerAuth": []}]
        out["description"] = f"Needs the `{op.scope}` scope."
    auth_errors = ("401", "403", "429", "500")
    params: list[Any] = []
    responses: dict[str, Any] = {}
    if op.resource is not None and op.kind in RESOURCE_KINDS:
        name = schema_name(op)
        if name not in schemas:
            schemas[name] = record_schema(op.resource)
            schemas[f"{name}Create"] = create_schema(op.resource)
            schemas[f"{name}Update"] = update_schema(op.resource)
            schemas[f"{name}List"] = _page_schema(name, schemas[name]["example"])
        record, one = _ref("schemas", name), op.resource.singular.replace("_", " ")
        if op.kind in ("list", "search"):
            params = [_ref("parameters", "Page"), _ref("parameters", "PerPage")]
            params.insert(0, _ref("parameters", "Query" if op.kind == "search" else "SourceId"))
            responses = {**_ok(f"a page of {op.resource.name.replace('_', ' ')}", _ref("schemas", f"{name}List")),
                         **_errors("400", *auth_errors, "503")}
        elif op.kind == "create":
            out["requestBody"] = {"required": True, "content": _json(_ref("schemas", f"{name}Create"))}
            ok = _ok(f"the created {one}", record, status="201",
                     extra_headers={"Location": _ref("headers", "Location")})
            singular = pascal(op.resource.singular)
            ok["201"]["links"] = {
                f"Get{singular}": {"operationId": op.operation_id.replace("_create_", "_get_", 1)
                                   if op.integration != PLATFORM else op.operation_id.replace("create_", "get_", 1),
                                   "parameters": {"id": "$response.body#/id"}},
            }
            for verb in ("update", "delete"):
                target = (op.operation_id.replace("_create_", f"_{verb}_", 1) if op.integration != PLATFORM
                          else op.operation_id.replace("create_", f"{verb}_", 1))
                ok["201"]["links"][f"{verb.capitalize()}{singular}"] = {
                    "operationId": target, "parameters": {"id": "$response.body#/id"}}
            responses = {**ok, **_errors("400", *auth_errors, "422", "503")}
        else:
            params = [_ref("parameters", "RecordId")]
            if op.kind == "get":
                responses = {**_ok(f"the {one}", record), **_errors(*auth_errors, "404", "503")}
            elif op.kind == "update":
                out["requestBody"] = {"required": True, "content": _json(_ref("schemas", f"{name}Update"))}
                responses = {**_ok(f"the updated {one}", record), **_errors("400", *auth_errors, "404", "422", "503")}
            else:
                responses = {**_ok(f"{one} deleted", None, status="204"), **_errors(*auth_errors, "404", "503")}
    else:
        params, responses = _special(op, out)
    if params:
        out["parameters"] = params
    out["responses"] = responses
    return out


def _special(op: Operation, out: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    auth_errors = ("401", "403", "429", "500")
    kind = op.kind
    if kind == "sync":
        return [], {**_ok("sync queued", _ref("schemas", "SyncJob"), status="202"), **_errors(*auth_errors, "503")}
    if kind == "sync_status":
        return [], {**_ok("sync counts", _ref("schemas", "SyncStatus")), **_errors(*auth_errors, "503")}
    if kind == "health" and op.integration is not None:
        down = {"description": "the integration is down", "content": _json(_ref("schemas", "IntegrationHealth"))}
        return [], {**_ok("the integration is up", _ref("schemas", "IntegrationHealth"), rate=False), "503": down,
                    **_errors("500")}
    if kind == "connect":
        return [], {**_ok("where to send the user", _ref("schemas", "ConnectStart")), **_errors(*auth_errors, "503")}
    if kind == "callback":
        params = [
            {"name": "code", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1,
                                                                        "maxLength": 512}},
            {"name": "state", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1,
                                                                         "maxLength": 128}},
        ]
        return params, {**_ok("connected", _ref("schemas", "ConnectResult"), rate=False),
                        **_errors("400", "500", "503"), "403": {
                            "description": "the state was not issued by this platform, or was already used",
                            "content": _json(_ref("schemas", "Error"))}}
    if kind == "run":
        return [_ref("parameters", "RecordId")], {
            **_ok("the run", _ref("schemas", "WorkflowRun")), **_errors(*auth_errors, "404", "503")}
    if kind == "users":
        return [_ref("parameters", "Page"), _ref("parameters", "PerPage")], {
            **_ok("users", _ref("schemas", "UserList")), **_errors("400", *auth_errors)}
    if kind == "me":
        return [], {**_ok("the token's principal", _ref("schemas", "CurrentUser")), **_errors(*auth_errors)}
    if kind == "user":
        return [_ref("parameters", "RecordId")], {**_ok("the user", _ref("schemas", "User")),
                                                   **_errors(*auth_errors, "404")}
    if kind == "metrics_summary":
        return [], {**_ok("summary", _ref("schemas", "MetricsSummary")), **_errors(*auth_errors)}
    if kind == "health":
        return [], {"200": {"description": "healthy or degraded", "content": _json(_ref("schemas", "Health"))},
                    "503": {"description": "the database is down", "content": _json(_ref("schemas", "Health"))}}
    if kind == "integrations_health":
        return [], {"200": {"description": "every integration",
                            "content": _json(_ref("schemas", "IntegrationsHealth"))}}
    if kind == "system_health":
        return [], {"200": {"description": "process figures", "content": _json(_ref("schemas", "SystemHealth"))}}
    if kind == "db_health":
        ok = {"description": "the database answers", "content": _json(_ref("schemas", "DbHealth"))}
        down = {"description": "the database is down", "content": _json(_ref("schemas", "Error"))}
        return [], {"200": ok, "503": down}
    if kind == "metrics":
        return [], {"200": {"description": "Prometheus text exposition format",
                            "content": {"text/plain": {"schema": {"type": "string"}}}}}
    if kind == "openapi":
        return [], {"200": {"description": "OpenAPI 3.0.3", "content": _json({"type": "object"})}}
    faults = _ok("the active faults", _ref("schemas", "Faults"))
    if kind == "fault_set":
        out["requestBody"] = {"required": True, "content": _json(_ref("schemas", "FaultSet"))}
        return [], {**faults, **_errors("400", *auth_errors, "422")}
    if kind == "fault_clear":
        name = {"name": "name", "in": "path", "required": True,
                "schema": {"type": "string", "enum": [n for n, _, _ in describe_faults()]}}
        return [name], {**faults, **_errors("400", *auth_errors)}
    return [], {**faults, **_errors(*auth_errors)}


def build_spec(catalog: Catalog, settings: PlatformSettings) -> dict[str, Any]:
    components = _components(settings)
    paths: dict[str, dict[str, Any]] = {}
    for op in catalog.operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, components["schemas"])
    paths["/api/auth/login"] = {"post": _login_operation()}
    tags = [{"name": integ.display_name, "description": f"{integ.display_name} ({integ.category}): "
             + ", ".join(r.name.replace("_", " ") for r in integ.resources)} for integ in MODEL.values()]
    tags += [{"name": name, "description": text} for name, text in (
        ("Tasks", "The platform's own tasks"), ("Workflows", "Automations across integrations"),
        ("Users", "Users of your tenant"), ("Metrics", "Request metrics and this description"),
        ("Health", "Liveness and readiness"), ("Admin", "Fault injection (needs the admin scope)"),
        ("Auth", "The web app's JSON login; OAuth clients use the endpoints from discovery"))]
    description = (
        "The ATOM API: 33 integrations and the platform's tasks, workflows and users. Every record belongs to the "
        "tenant of the token that created it; an `X-Tenant-ID` header naming another tenant is answered 403. "
        "Authenticated responses carry `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. "
        "Errors are `{\"error\", \"detail\"}`. A create body may carry `sync_to` to copy the record to other "
        "integrations; the copy carries `source` and `source_checksum` (SHA-256 of the source's canonical JSON)."
    )
    return {
        "openapi": "3.0.3",
        "info": {"title": "ATOM API", "version": settings.version, "description": description,
                 "license": {"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"}},
        "servers": [{"url": settings.issuer}],
        "tags": tags,
        "security": [{"oauth2": [READ]}, {"bearerAuth": []}],
        "paths": paths,
        "components": components,
    }
