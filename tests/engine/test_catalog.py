"""The catalog: entries per operation, integrations, kinds, CRUD chains, filters, overrides and coverage."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from sloguard.catalog import Catalog, CatalogError, build_catalog, slugify, synthesize_operation_id
from sloguard.errors import UsageError
from sloguard.spec import load_spec, prepare_spec

SPECS = Path(__file__).parent / "specs"
INTEGRATIONS = {"slack": ("Slack", ["messages", "channels"]), "microsoft-teams": ("Microsoft Teams", ["meetings"]),
                "hubspot-marketing": ("HubSpot Marketing", ["emails"]), "monday": ("Monday.com", ["boards"]),
                "stripe": ("Stripe", ["customers", "invoices", "charges"])}
READ = [{"oauth2": ["read"]}, {"bearerAuth": []}]
WRITE = [{"oauth2": ["write"]}, {"bearerAuth": []}]


def ok(status: str = "200", schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {"description": "ok", **extra}
    if schema is not None:
        response["content"] = {"application/json": {"schema": schema}}
    return {status: response, "401": {"description": "no token"}}


def atom_like(integrations: dict[str, tuple[str, list[str]]] = INTEGRATIONS) -> dict[str, Any]:
    """A description shaped like docs/reference-platform.md (routes, operationIds, tags, scopes)."""
    record = {"type": "object", "required": ["title"], "properties": {
        "id": {"type": "string", "readOnly": True}, "title": {"type": "string"}}}
    page = {"type": "object", "properties": {"items": {"type": "array", "items": record}, "page": {"type": "integer"}}}
    paths: dict[str, Any] = {}
    for slug, (tag, resources) in integrations.items():
        op = slug.replace("-", "_")
        t = {"tags": [tag]}
        for res in resources:
            one = res[:-1]
            links = {"Get": {"operationId": f"{op}_get_{one}", "parameters": {"id": "$response.body#/id"}}}
            paths[f"/api/{slug}/{res}"] = {
                "get": {**t, "operationId": f"{op}_list_{res}", "security": READ, "responses": ok("200", page)},
                "post": {**t, "operationId": f"{op}_create_{one}", "security": WRITE,
                         "requestBody": {"required": True, "content": {"application/json": {"schema": record}}},
                         "responses": ok("201", record, links=links)},
            }
            paths[f"/api/{slug}/{res}/search"] = {"get": {
                **t, "operationId": f"{op}_search_{res}", "security": READ, "responses": ok("200", page),
                "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}]}}
            paths[f"/api/{slug}/{res}/{{id}}"] = {
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "get": {**t, "operationId": f"{op}_get_{one}", "security": READ, "responses": ok("200", record)},
                "patch": {**t, "operationId": f"{op}_update_{one}", "security": WRITE, "responses": ok("200", record),
                          "requestBody": {"content": {"application/json": {"schema": record}}}},
                "delete": {**t, "operationId": f"{op}_delete_{one}", "security": WRITE, "responses": ok("204")},
            }
        paths[f"/api/{slug}/sync"] = {"post": {**t, "operationId": f"{op}_trigger_sync", "security": WRITE,
                                               "responses": ok("202")}}
        paths[f"/api/{slug}/sync/status"] = {"get": {**t, "operationId": f"{op}_sync_status", "security": READ,
                                                     "responses": ok("200", {"type": "object"})}}
        paths[f"/api/{slug}/health"] = {"get": {**t, "operationId": f"{op}_health", "security": [],
                                                "responses": ok("200", {"type": "object"})}}
        paths[f"/api/{slug}/oauth/connect"] = {"get": {**t, "operationId": f"{op}_oauth_connect", "security": READ,
                                                       "responses": ok("200")}}
        paths[f"/api/auth/{slug}/callback"] = {"get": {**t, "operationId": f"{op}_oauth_callback", "security": [],
                                                       "responses": ok("200")}}
    paths["/health"] = {"get": {"tags": ["Health"], "operationId": "get_health", "responses": ok()}}
    paths["/api/health/db"] = {"get": {"tags": ["Health"], "operationId": "get_db_health", "responses": ok()}}
    paths["/api/v1/users"] = {"get": {"tags": ["Users"], "operationId": "list_users", "security": READ,
                                      "responses": ok("200", page)}}
    paths["/api/admin/faults"] = {"put": {"tags": ["Admin"], "operationId": "set_fault",
                                          "security": [{"oauth2": ["admin"]}], "responses": ok()}}
    return {"openapi": "3.0.3", "info": {"title": "ATOM", "version": "1"}, "paths": paths,
            "security": READ, "components": {"securitySchemes": {
                "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/api/auth/token",
                                                                             "scopes": {}}}},
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}}}


@pytest.fixture(scope="module")
def atom() -> Catalog:
    return build_catalog(prepare_spec(atom_like()))


# ---------------------------------------------------------------------------------------- entries


def test_integrations_from_tags_become_path_slugs(atom: Catalog) -> None:
    # first tag wins: the platform's own /api/v1 routes are grouped by their tags too
    assert set(atom.integrations) == {*INTEGRATIONS, "platform", "users"}
    assert atom["microsoft_teams_create_meeting"].integration == "microsoft-teams"
    assert atom["monday_list_boards"].integration == "monday"  # "Monday.com" names the monday integration
    assert atom["slack_oauth_callback"].integration == "slack"  # /api/auth/slack/... is still Slack
    for op in ("get_health", "get_db_health", "set_fault"):
        assert atom[op].integration == "platform", op
    assert atom["list_users"].integration == "users"
    by = atom.by_integration()
    assert len(by["stripe"]) == 3 * 6 + 5 and len(by["slack"]) == 2 * 6 + 5


def test_kinds_groups_statuses_and_side_effects(atom: Catalog) -> None:
    expected = {
        "slack_list_messages": ("list", "messages", 200, False),
        "slack_search_messages": ("search", "messages", 200, False),
        "slack_create_message": ("create", "messages", 201, True),
        "slack_get_message": ("get", "messages", 200, False),
        "slack_update_message": ("update", "messages", 200, True),
        "slack_delete_message": ("delete", "messages", 204, True),
        "slack_trigger_sync": ("action", "sync", 202, True),
        "slack_sync_status": ("get", "sync", 200, False),
        "slack_health": ("health", "health", 200, False),
        "get_health": ("health", "health", 200, False),
        "list_users": ("list", "users", 200, False),
        "set_fault": ("update", "admin", 200, True),
    }
    for op, (kind, group, status, side_effects) in expected.items():
        e = atom[op]
        assert (e.kind, e.group, e.success_status, e.side_effects) == (kind, group, status, side_effects), op


def test_auth_schemes_and_scopes(atom: Catalog) -> None:
    create = atom["slack_create_message"].auth
    assert create.required and create.schemes == ("oauth2", "bearerAuth") and create.scopes == ("write",)
    assert create.scheme_types == {"oauth2": "oauth2", "bearerAuth": "http:bearer"}
    assert atom["slack_list_messages"].auth.scopes == ("read",)
    assert not atom["slack_health"].auth.required  # security: [] opts out
    assert atom["get_health"].auth.scopes == ("read",)  # inherits the global requirement


def test_parameters_body_and_response(atom: Catalog) -> None:
    get = atom["stripe_get_customer"]
    assert [(p.name, p.location, p.required) for p in get.parameters] == [("id", "path", True)]
    create = atom["stripe_create_customer"]
    assert create.request_body is not None and create.request_body.content_type == "application/json"
    assert create.request_body.required and create.request_body.schema["required"] == ["title"]
    assert create.response is not None and create.response.schema["properties"]["title"] == {"type": "string"}
    assert atom["stripe_delete_customer"].response is None


def test_crud_chains_follow_links_and_path_shape(atom: Catalog) -> None:
    chains = {c.create: c for c in atom.crud_chains()}
    assert len(chains) == sum(len(r) for _, r in INTEGRATIONS.values())
    chain = chains["stripe_create_invoice"]
    assert (chain.list, chain.get, chain.update, chain.delete) == (
        "stripe_list_invoices", "stripe_get_invoice", "stripe_update_invoice", "stripe_delete_invoice")
    assert chain.item_path == "/api/stripe/invoices/{id}" and chain.id_param == "id" and chain.id_pointer == "/id"
    assert chain.resource == "invoices" and chain.integration == "stripe"


def test_petstore_links_operation_ref_and_search_post() -> None:
    catalog = build_catalog(load_spec(SPECS / "petstore-3.0.yaml"), integration_from="tags")
    assert catalog.base_path == "/v2"
    create = catalog["createPet"]
    assert [(link.name, link.operation_id) for link in create.links] == [("GetPet", "getPet"),
                                                                         ("RemovePet", "deletePet")]
    (chain,) = catalog.crud_chains()
    assert (chain.get, chain.update, chain.delete) == ("getPet", "replacePet", "deletePet")
    assert chain.id_param == "petId" and chain.id_pointer == "/data/petId"
    search = catalog["searchPets"]
    assert search.kind == "search" and not search.side_effects  # a POST that only reads
    get = catalog["getPet"]
    assert get.parameters[0].examples == ("pet-1",)  # path-level parameter with its example
    assert catalog["listPets"].parameters[0].schema["default"] == 20
    assert catalog["getTree"].auth.required is False
    node = catalog["getTree"].response
    assert node is not None
    kept = node.schema["properties"]["children"]["items"]
    assert catalog.resolve(kept) is node.schema


def test_link_alone_makes_a_create() -> None:
    spec = prepare_spec({"openapi": "3.0.0", "info": {}, "paths": {
        "/widgets/new": {"post": {"operationId": "makeWidget", "responses": {"200": {
            "description": "ok", "links": {"read": {"operationId": "readWidget",
                                                    "parameters": {"wid": "$response.body#/widget/id"}}}}}}},
        "/widgets/{wid}": {"get": {"operationId": "readWidget", "responses": {"200": {"description": "ok"}}}},
    }})
    catalog = build_catalog(spec)
    assert catalog["makeWidget"].kind == "create"
    (chain,) = catalog.crud_chains()
    assert chain.get == "readWidget" and chain.id_pointer == "/widget/id" and chain.id_param == "wid"


def test_swagger_20_catalog_has_base_path_in_paths() -> None:
    catalog = build_catalog(load_spec(SPECS / "swagger-2.0.yaml"))
    create = catalog["slack_create_message"]
    assert create.path == "/api/slack/messages" and create.integration == "slack" and create.kind == "create"
    assert create.request_body is not None and create.request_body.examples == ({"text": "hello"},)
    assert catalog["upload_file"].request_body.content_type == "multipart/form-data"  # type: ignore[union-attr]
    assert catalog["slack_get_message"].response.content_type == "application/json"  # type: ignore[union-attr]
    assert catalog.base_path == ""


# ------------------------------------------------------------------------------------- real-world quirks


QUIRKS: dict[str, Any] = {
    "openapi": "3.0.3", "info": {"title": "quirks", "version": "1"},
    "paths": {
        "/api/api/slack/messages": {"get": {"tags": ["Slack", "slack", "SLACK"], "operationId": "dup_list",
                                            "responses": {"200": {"description": "no schema at all"}}}},
        "/api/slack/messages/{id}": {
            "parameters": [{"name": "id", "in": "path", "schema": {"type": "integer"}},
                           {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}],
            "get": {"tags": ["Slack"], "parameters": [{"name": "verbose", "in": "query", "required": True,
                                                       "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {}}}}},
            "delete": {"tags": ["Slack"], "operationId": "dup_list", "responses": {"default": {"description": "?"}}},
        },
        "/api/google-drive/files": {"post": {"tags": ["Google Drive"], "x-sloguard-safe": True,
                                             "operationId": "gd_files", "responses": {"200": {"description": "ok"}}}},
        "/api/zoom/meetings": {"get": {"operationId": "untagged", "responses": {"200": {"description": "ok"}}}},
        "/metrics": {"get": {"operationId": "metrics", "responses": {"200": {"description": "ok"}}}},
        "/api/v1/tasks": {"get": {"tags": ["Tasks"], "operationId": "tasks",
                                  "responses": {"200": {"description": "ok"}}}},
    },
}


@pytest.fixture
def quirks() -> Catalog:
    import copy

    return build_catalog(prepare_spec(copy.deepcopy(QUIRKS)))


def test_duplicated_tags_and_double_prefix(quirks: Catalog) -> None:
    e = quirks["dup_list"]
    assert e.tags == ("Slack",) and e.integration == "slack" and e.group == "messages"
    assert e.path == "/api/api/slack/messages"  # the declared path is what gets called
    assert e.response is None and e.kind == "list"


def test_missing_operation_ids_and_duplicates(quirks: Catalog) -> None:
    synthesized = synthesize_operation_id("GET", "/api/slack/messages/{id}")
    assert synthesized == "get_api_slack_messages_id"
    e = quirks[synthesized]
    assert not e.declared_operation_id and e.kind == "get"
    assert quirks["dup_list_2"].method == "DELETE"
    assert any("dup_list" in w and "already used" in w for w in quirks.warnings)


def test_missing_schemas_and_path_level_parameters(quirks: Catalog) -> None:
    e = quirks["get_api_slack_messages_id"]
    params = {(p.name, p.location): p for p in e.parameters}
    assert params[("id", "path")].required  # path parameters are always required
    assert params[("verbose", "query")].required and params[("verbose", "query")].schema == {"type": "string"}
    assert e.response is not None and e.response.schema == {}
    assert quirks["dup_list_2"].success_status == 200 and quirks["dup_list_2"].response is None


def test_safe_marker_untagged_and_platform(quirks: Catalog) -> None:
    assert quirks["gd_files"].integration == "google-drive" and not quirks["gd_files"].side_effects
    assert quirks["untagged"].integration == "zoom"  # no tag: the path prefix decides
    assert quirks["metrics"].integration == "platform"
    assert quirks["tasks"].integration == "tasks"  # tagged: the tag decides, /api/v1/ or not


def test_integration_from_path_and_aliases() -> None:
    catalog = build_catalog(prepare_spec(atom_like()), integration_from="path",
                            aliases={"Microsoft Teams": "teams", "hubspot-marketing": "hubspot"})
    assert catalog["microsoft_teams_list_meetings"].integration == "teams"
    assert catalog["hubspot_marketing_list_emails"].integration == "hubspot"
    assert catalog["slack_oauth_callback"].integration == "platform"  # /api/auth/... by path
    custom = build_catalog(prepare_spec(atom_like()), path_pattern=r"^/api/(?P<integration>[^/]+)/(messages|boards)")
    assert custom["slack_list_messages"].integration == "slack"


def test_slugify() -> None:
    assert slugify("Microsoft Teams") == "microsoft-teams"
    assert slugify("HubSpot  Marketing") == "hubspot-marketing"
    assert slugify("Monday.com") == "monday"
    assert slugify("Zoë_Chat") == "zoe-chat"


# ----------------------------------------------------------------------------- filters, overrides, coverage


def test_include_exclude_globs(atom: Catalog) -> None:
    spec = atom.spec
    only = build_catalog(spec, include=["integration:stripe"], exclude=["*_delete_*", "kind:health"])
    assert {e.integration for e in only} == {"stripe"}
    assert not any(e.kind in ("delete", "health") for e in only)
    assert only.excluded["stripe_delete_charge"] == "excluded by config (exclude '*_delete_*')"
    assert only.excluded["slack_list_messages"] == "excluded by config (not in include)"
    by_path = build_catalog(spec, include=["/api/slack/*", "GET /health"])
    assert {e.operation_id for e in by_path} >= {"slack_trigger_sync", "slack_get_message", "get_health"}
    assert {e.integration for e in by_path} == {"slack", "platform"}


def test_overrides_win(atom: Catalog) -> None:
    catalog = build_catalog(atom.spec, overrides={
        "slack_trigger_sync": {"kind": "create", "side_effects": False, "integration": "Slack Sync"},
        "GET /health": {"success_status": "204"},
    })
    e = catalog["slack_trigger_sync"]
    assert (e.kind, e.side_effects, e.integration) == ("create", False, "slack-sync")
    assert catalog["get_health"].success_status == 204


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"slack_create_mesage": {"kind": "get"}}, "did you mean 'slack_create_message'"),
    ({"slack_create_message": {"colour": "red"}}, "only group, integration, kind"),
    ({"slack_create_message": {"kind": "frobnicate"}}, "is not one of list, get"),
    ({"slack_create_message": {"success_status": "ok"}}, "success_status must be a number"),
])
def test_bad_overrides_are_clear_errors(atom: Catalog, overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(CatalogError, match=expected) as info:
        build_catalog(atom.spec, overrides=overrides)
    assert isinstance(info.value, UsageError) and "\n" not in str(info.value)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"integration_from": "operationId"}, 'use "tags" or "path"'),
    ({"path_pattern": r"^/api/([^/]+)/"}, "no (?P<integration>...) group"),
    ({"path_pattern": r"^/api/(?P<integration>[^/]+"}, "not a valid regular expression"),
])
def test_bad_options(atom: Catalog, kwargs: dict[str, Any], expected: str) -> None:
    with pytest.raises(CatalogError) as info:
        build_catalog(atom.spec, **kwargs)
    assert expected in str(info.value)


def test_coverage(atom: Catalog) -> None:
    catalog = build_catalog(atom.spec, exclude=["integration:platform"])
    checked = {e.operation_id for e in catalog if e.integration == "slack" and not e.side_effects}
    cov = catalog.coverage(checked | {"ghost_op"}, {"slack_create_message": "side effects on a read-only target"})
    assert cov.total == len(catalog.all_entries) and cov.checked == len(checked)
    assert cov.percent == pytest.approx(100 * len(checked) / cov.total)
    assert cov.unchecked["slack_create_message"] == "side effects on a read-only target"
    assert cov.unchecked["get_health"].startswith("excluded by config")
    assert cov.unchecked["stripe_get_charge"] == "no check ran"
    assert cov.by_integration["slack"] == (len(checked), 17)
    assert cov.unknown == ("ghost_op",)
    full = catalog.coverage({e.operation_id for e in catalog.all_entries})
    assert full.percent == 100.0 and not full.unchecked


def test_lookups(atom: Catalog) -> None:
    assert atom.by_route("delete", "/api/slack/messages/{id}") is atom["slack_delete_message"]
    assert "slack_get_message" in atom and atom.get("nope") is None
    with pytest.raises(KeyError, match="did you mean"):
        atom["slack_get_mesage"]
    assert atom.title == "ATOM" and "operations" in repr(atom)


def test_raw_dict_is_prepared_automatically() -> None:
    catalog = build_catalog({"swagger": "2.0", "info": {}, "basePath": "/v1", "paths": {
        "/things": {"get": {"responses": {"200": {"description": "ok"}}}}}})
    assert [e.path for e in catalog] == ["/v1/things"]


def test_thousands_of_operations_catalog_quickly() -> None:
    many = {f"integration-{i}": (f"Integration {i}", ["alphas", "betas", "gammas"]) for i in range(70)}
    spec = prepare_spec(atom_like(many))
    start = time.perf_counter()
    catalog = build_catalog(spec)
    elapsed = time.perf_counter() - start
    assert len(catalog) == 70 * (3 * 6 + 5) + 4
    assert len(catalog.crud_chains()) == 70 * 3
    assert elapsed < 5.0, elapsed


# ----------------------------------------------------------------------------- against the real platform


@pytest.mark.slow
def test_reference_platform_description(platform: Any) -> None:
    """The reference platform's own description, fetched over HTTP, catalogs as its contract says."""
    spec = load_spec(f"{platform.base_url}/api/v1/openapi.json", timeout=10)
    catalog = build_catalog(spec)
    assert len(catalog) >= 350
    own = {"platform", "tasks", "workflows", "users"}  # the platform's own routes, by their tags
    integrations = set(catalog.integrations) - own
    assert len(integrations) == 33 and {"microsoft-teams", "hubspot-marketing", "monday"} <= integrations
    for entry in catalog:
        if entry.integration not in own and entry.path.startswith("/api/") and "/auth/" not in entry.path:
            assert entry.path.startswith(f"/api/{entry.integration}/"), entry.label
    chains = catalog.crud_chains()
    assert {c.integration for c in chains} - own == integrations  # every integration has CRUD
    slack = catalog["slack_create_message"]
    assert slack.kind == "create" and slack.success_status == 201 and slack.auth.scopes == ("write",)
    assert catalog["slack_delete_message"].success_status == 204
    assert catalog["slack_trigger_sync"].success_status == 202 and catalog["slack_trigger_sync"].kind == "action"


def real_atom_like() -> dict[str, Any]:
    """Shaped like the real ATOM description: tags on /api/v1 and /api/v2 routes, doubled router
    prefixes, untagged operations, and a health path that is not the platform's."""

    def op(op_id: str, tags: list[str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"operationId": op_id, "responses": {"200": {"description": "ok"}}}
        if tags is not None:
            out["tags"] = tags
        return out

    return {
        "openapi": "3.1.0",
        "info": {"title": "ATOM", "version": "2.4.0"},
        "paths": {
            "/api/v1/workflows": {"get": op("list_workflows", ["Workflows"])},
            "/api/v1/slack/channels": {"get": op("slack_channels", ["Slack"])},
            "/api/v2/analytics/summary": {"get": op("analytics_summary", ["Analytics"])},
            "/api/reports/api/reports/daily": {"get": op("daily_report")},
            "/api/v1/stripe/charges": {"get": op("untagged_stripe")},
            "/api/v1/health": {"get": op("v1_health")},
            "/health": {"get": op("root_health", ["System"])},
            "/repos/{owner}/{repo}/pages/health": {"get": op("pages_health", ["Repos"])},
            "/repos/{owner}/{repo}/pages/status": {"get": op("pages_status")},
            "/api/v1/teams-bridge/messages": {"get": op("bridge_messages", ["Microsoft Teams Bridge"])},
        },
    }


def test_grouping_of_a_description_shaped_like_the_real_atom() -> None:
    catalog = build_catalog(prepare_spec(real_atom_like()), aliases={"Microsoft Teams Bridge": "microsoft-teams"})
    got = {e.operation_id: e.integration for e in catalog}
    assert got["list_workflows"] == "workflows"  # a tagged /api/v1 route is its tag's, not "platform"
    assert got["slack_channels"] == "slack" and got["analytics_summary"] == "analytics"
    assert got["daily_report"] == "reports"  # untagged, doubled prefix collapsed
    assert got["untagged_stripe"] == "stripe"  # untagged: the path, after /api/v1 is stripped
    assert got["v1_health"] == "platform" and got["root_health"] == "platform"
    assert got["bridge_messages"] == "microsoft-teams"  # aliases apply to tags
    assert got["pages_health"] == "repos" and catalog["pages_health"].kind == "get"  # not a health route
    assert got["pages_status"] == "repos"
    assert catalog["v1_health"].kind == "health" and catalog["root_health"].kind == "health"
    by_alias = build_catalog(prepare_spec(real_atom_like()), aliases={"workflows": "platform"})
    assert by_alias["list_workflows"].integration == "platform"
