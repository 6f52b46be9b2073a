"""`sloguard.contracts.diff`: each kind of change on a hand-made pair, equivalences that are no change,
and the reference platform's own description against itself (and with faults injected into it)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sloguard.contracts.diff import RULES, Change, compare, diff
from sloguard.severity import Severity
from sloguard.spec import load_spec, prepare_spec

SPECS = Path(__file__).parent / "specs"
ENGINE_SPECS = Path(__file__).parent.parent / "engine" / "specs"

PET = {"$ref": "#/components/schemas/Pet"}
BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Pets", "version": "1.0"},
    "servers": [{"url": "https://pets.example.com"}],
    "security": [{"oauth2": ["read"]}, {"apiKey": []}],
    "paths": {
        "/pets": {
            "get": {
                "operationId": "listPets", "summary": "List pets", "tags": ["Pets"],
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                    {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}},
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "headers": {"X-Rate-Limit": {"required": True, "schema": {"type": "integer"}},
                                    "X-Trace": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {
                            "type": "object", "required": ["items"],
                            "properties": {"items": {"type": "array", "items": PET}}}}},
                    },
                    "400": {"description": "bad", "content": {"application/json": {"schema": {
                        "$ref": "#/components/schemas/Error"}}}},
                },
            },
            "post": {
                "operationId": "createPet", "security": [{"oauth2": ["write"]}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/NewPet"}}}},
                "responses": {"201": {"description": "created", "content": {"application/json": {"schema": PET}}}},
            },
        },
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {"operationId": "getPet", "responses": {
                "200": {"description": "one", "content": {"application/json": {"schema": PET}}},
                "404": {"description": "none"}}},
            "put": {"operationId": "replacePet", "requestBody": {"content": {"application/json": {"schema": {
                "$ref": "#/components/schemas/NewPet"}}}}, "responses": {"200": {"description": "ok"}}},
            "delete": {"operationId": "deletePet", "responses": {"204": {"description": "gone"}}},
        },
        "/health": {"get": {"operationId": "health", "security": [], "responses": {"200": {"description": "up"}}}},
    },
    "components": {
        "securitySchemes": {
            "oauth2": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "https://pets.example.com/token", "scopes": {"read": "r", "write": "w"}}}},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        },
        "schemas": {
            "Pet": {"type": "object", "required": ["id", "name", "status"], "properties": {
                "id": {"type": "integer"}, "name": {"type": "string", "maxLength": 50}, "tag": {"type": "string"},
                "status": {"type": "string", "enum": ["available", "sold"]},
                "created": {"type": "string", "format": "date-time", "readOnly": True}}},
            "NewPet": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "maxLength": 50}, "tag": {"type": "string"},
                "kind": {"type": "string", "enum": ["cat", "dog"]}}},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
        },
    },
}

Mutation = Callable[[dict[str, Any]], None]


def changes_after(mutate: Mutation, *, mutate_old: Mutation | None = None) -> list[Change]:
    old, new = copy.deepcopy(BASE), copy.deepcopy(BASE)
    if mutate_old:
        mutate_old(old)
    mutate(new)
    return diff(prepare_spec(old), prepare_spec(new))


def schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return doc["components"]["schemas"][name]  # type: ignore[no-any-return]


def op(doc: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return doc["paths"][path][method]  # type: ignore[no-any-return]


def param(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in op(doc, "/pets", "get")["parameters"] if p["name"] == name)


def _deprecate(doc: dict[str, Any]) -> None:
    op(doc, "/pets/{petId}", "delete")["deprecated"] = True


# (id, mutation, rule id, severity, breaking, operation, location)
BREAKING: list[tuple[str, Mutation, str, Severity, str, str]] = [
    ("removed operation", lambda d: d["paths"]["/pets/{petId}"].pop("delete"),
     "api-removed-without-deprecation", Severity.P1, "DELETE /pets/{petId}", "operation"),
    ("removed required response field", lambda d: schema(d, "Pet")["properties"].pop("id"),
     "response-required-property-removed", Severity.P2, "GET /pets", "response 200 body /items/0/id"),
    ("removed optional response field", lambda d: schema(d, "Pet")["properties"].pop("tag"),
     "response-optional-property-removed", Severity.P2, "GET /pets/{petId}", "response 200 body /tag"),
    ("retyped response field", lambda d: schema(d, "Pet")["properties"]["id"].update(type="string"),
     "response-property-type-changed", Severity.P2, "GET /pets", "response 200 body /items/0/id"),
    ("widened response type", lambda d: schema(d, "Pet")["properties"]["id"].update(type="number"),
     "response-property-type-generalized", Severity.P2, "GET /pets", "response 200 body /items/0/id"),
    ("response field became optional", lambda d: schema(d, "Pet")["required"].remove("name"),
     "response-property-became-optional", Severity.P2, "POST /pets", "response 201 body /name"),
    ("response field became nullable", lambda d: schema(d, "Pet")["properties"]["name"].update(nullable=True),
     "response-property-became-nullable", Severity.P2, "GET /pets", "response 200 body /items/0/name"),
    ("widened response enum", lambda d: schema(d, "Pet")["properties"]["status"]["enum"].append("lost"),
     "response-property-enum-value-added", Severity.P2, "GET /pets", "response 200 body /items/0/status"),
    ("removed success status", lambda d: op(d, "/pets/{petId}", "get")["responses"].pop("200"),
     "response-success-status-removed", Severity.P1, "GET /pets/{petId}", "response 200"),
    ("response media type removed", lambda d: op(d, "/pets", "post")["responses"]["201"].pop("content"),
     "response-media-type-removed", Severity.P2, "POST /pets", "response 201 body"),
    ("required response header removed",
     lambda d: op(d, "/pets", "get")["responses"]["200"]["headers"].pop("X-Rate-Limit"),
     "required-response-header-removed", Severity.P2, "GET /pets", "response 200 header X-Rate-Limit"),
    ("new required parameter", lambda d: op(d, "/pets", "get")["parameters"].append(
        {"name": "owner", "in": "query", "required": True, "schema": {"type": "string"}}),
     "new-required-request-parameter", Severity.P1, "GET /pets", "query parameter owner"),
    ("parameter became required", lambda d: param(d, "limit").update(required=True),
     "request-parameter-became-required", Severity.P1, "GET /pets", "query parameter limit"),
    ("parameter removed", lambda d: op(d, "/pets", "get")["parameters"].pop(0),
     "request-parameter-removed", Severity.P2, "GET /pets", "query parameter limit"),
    ("parameter moved", lambda d: param(d, "status").update({"in": "header"}),
     "request-parameter-moved", Severity.P2, "GET /pets", "query parameter status"),
    ("parameter retyped", lambda d: param(d, "limit")["schema"].update(type="string"),
     "request-parameter-type-changed", Severity.P2, "GET /pets", "query parameter limit"),
    ("narrowed request enum", lambda d: param(d, "status")["schema"]["enum"].remove("closed"),
     "request-parameter-enum-value-removed", Severity.P2, "GET /pets", "query parameter status"),
    ("parameter restricted to an enum", lambda d: param(d, "limit")["schema"].update(enum=[10, 20]),
     "request-parameter-became-enum", Severity.P2, "GET /pets", "query parameter limit"),
    ("minimum tightened on a parameter", lambda d: param(d, "limit")["schema"].update(minimum=5),
     "request-parameter-min-increased", Severity.P2, "GET /pets", "query parameter limit"),
    ("maximum tightened on a parameter", lambda d: param(d, "limit")["schema"].update(maximum=50),
     "request-parameter-max-decreased", Severity.P2, "GET /pets", "query parameter limit"),
    ("exclusive maximum set on a parameter", lambda d: param(d, "limit")["schema"].update(exclusiveMaximum=90),
     "request-parameter-exclusive-max-set", Severity.P2, "GET /pets", "query parameter limit"),
    ("new required body field", lambda d: (schema(d, "NewPet")["properties"].update(owner={"type": "string"}),
                                           schema(d, "NewPet")["required"].append("owner")),
     "new-required-request-property", Severity.P1, "POST /pets", "request body /owner"),
    ("body field became required", lambda d: schema(d, "NewPet")["required"].append("tag"),
     "request-property-became-required", Severity.P1, "PUT /pets/{petId}", "request body /tag"),
    ("body field removed", lambda d: schema(d, "NewPet")["properties"].pop("tag"),
     "request-property-removed", Severity.P2, "POST /pets", "request body /tag"),
    ("narrowed body enum", lambda d: schema(d, "NewPet")["properties"]["kind"]["enum"].remove("dog"),
     "request-property-enum-value-removed", Severity.P2, "POST /pets", "request body /kind"),
    ("maxLength tightened on a request", lambda d: schema(d, "NewPet")["properties"]["name"].update(maxLength=20),
     "request-property-max-length-decreased", Severity.P2, "POST /pets", "request body /name"),
    ("maxLength set on a request", lambda d: schema(d, "NewPet")["properties"]["tag"].update(maxLength=20),
     "request-property-max-length-set", Severity.P2, "POST /pets", "request body /tag"),
    ("pattern added on a request", lambda d: schema(d, "NewPet")["properties"]["tag"].update(pattern="^[a-z]+$"),
     "request-property-pattern-added", Severity.P2, "POST /pets", "request body /tag"),
    ("request body retyped", lambda d: schema(d, "NewPet")["properties"]["kind"].update(type="integer"),
     "request-property-type-changed", Severity.P2, "POST /pets", "request body /kind"),
    ("request field no longer nullable", lambda d: None,
     "request-property-became-not-nullable", Severity.P2, "POST /pets", "request body /tag"),
    ("request body became required", lambda d: op(d, "/pets/{petId}", "put")["requestBody"].update(required=True),
     "request-body-became-required", Severity.P1, "PUT /pets/{petId}", "request body"),
    ("required request body added", lambda d: op(d, "/pets/{petId}", "delete").update(requestBody={
        "required": True, "content": {"application/json": {"schema": {"type": "object"}}}}),
     "request-body-added-required", Severity.P1, "DELETE /pets/{petId}", "request body"),
    ("request media type removed", lambda d: op(d, "/pets", "post")["requestBody"].update(content={
        "application/xml": {"schema": {"$ref": "#/components/schemas/NewPet"}}}),
     "request-body-media-type-removed", Severity.P2, "POST /pets", "request body"),
    ("OAuth scope added", lambda d: op(d, "/pets", "post").update(security=[{"oauth2": ["write", "admin"]}]),
     "api-security-scope-added", Severity.P1, "POST /pets", "security"),
    ("auth alternative removed", lambda d: d.update(security=[{"oauth2": ["read"]}]),
     "api-security-removed", Severity.P1, "GET /pets", "security"),
    ("auth now required", lambda d: op(d, "/health", "get").pop("security"),
     "api-security-now-required", Severity.P1, "GET /health", "security"),
    ("security scheme sends credentials elsewhere",
     lambda d: d["components"]["securitySchemes"]["apiKey"].update({"in": "query"}),
     "api-security-component-type-changed", Severity.P1, "", "components securitySchemes apiKey"),
    ("webhook removed", lambda d: None, "webhook-removed", Severity.P2, "", "webhooks petAdopted POST"),
    ("response oneOf alternative added", lambda d: op(d, "/pets/{petId}", "get")["responses"]["200"].update(
        content={"application/json": {"schema": {"oneOf": [PET, {"title": "Gone", "type": "object"},
                                                           {"title": "Lost", "type": "object"}]}}}),
     "response-body-one-of-added", Severity.P2, "GET /pets/{petId}", "response 200 body"),
]


def _old_for(case_id: str) -> Mutation | None:
    """Some cases need a different starting point (a nullable field, a oneOf to grow)."""
    if case_id == "request field no longer nullable":
        return lambda d: schema(d, "NewPet")["properties"]["tag"].update(nullable=True)
    if case_id == "webhook removed":
        return lambda d: d.update(webhooks={"petAdopted": {"post": {"responses": {"200": {"description": "ok"}}}}})
    if case_id == "response oneOf alternative added":
        return lambda d: op(d, "/pets/{petId}", "get")["responses"]["200"].update(content={"application/json": {
            "schema": {"oneOf": [PET, {"title": "Gone", "type": "object"}]}}})
    return None


@pytest.mark.parametrize(("case", "mutate", "rule_id", "severity", "operation", "location"), BREAKING,
                         ids=[c[0] for c in BREAKING])
def test_each_breaking_kind(case: str, mutate: Mutation, rule_id: str, severity: Severity, operation: str,
                            location: str) -> None:
    changes = changes_after(mutate, mutate_old=_old_for(case))
    hits = [c for c in changes if c.rule_id == rule_id and c.operation == operation and c.location == location]
    assert hits, [(c.rule_id, c.operation, c.location) for c in changes]
    change = hits[0]
    assert change.breaking and change.severity is severity and change.level in ("error", "warning")
    assert change.message and change.kind == RULES[rule_id].kind
    # Nothing unrelated is reported as breaking: every breaking change is of the rule under test (a shared
    # schema repeats it in each operation), or the 'moved' case's companion.
    assert {c.rule_id for c in changes if c.breaking} == {rule_id}


NON_BREAKING: list[tuple[str, Mutation, str, Severity, str, str]] = [
    ("added operation", lambda d: d["paths"].update({"/owners": {"get": {"responses": {"200": {"description": ""}}}}}),
     "endpoint-added", Severity.P3, "GET /owners", "operation"),
    ("optional parameter added", lambda d: op(d, "/pets", "get")["parameters"].append(
        {"name": "sort", "in": "query", "schema": {"type": "string"}}),
     "new-optional-request-parameter", Severity.P3, "GET /pets", "query parameter sort"),
    ("parameter became optional", lambda d: d["paths"]["/pets/{petId}"]["get"].update(parameters=[
        {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}]),
     "request-parameter-became-optional", Severity.P3, "GET /pets/{petId}", "query parameter verbose"),
    ("optional body field added", lambda d: schema(d, "NewPet")["properties"].update(color={"type": "string"}),
     "new-optional-request-property", Severity.P3, "POST /pets", "request body /color"),
    ("read-only required field added (never sent)", lambda d: (
        schema(d, "NewPet")["properties"].update(uid={"type": "string", "readOnly": True}),
        schema(d, "NewPet")["required"].append("uid")),
     "", Severity.P3, "", ""),
    ("widened request enum", lambda d: param(d, "status")["schema"]["enum"].append("archived"),
     "request-parameter-enum-value-added", Severity.P3, "GET /pets", "query parameter status"),
    ("relaxed request maxLength", lambda d: schema(d, "NewPet")["properties"]["name"].update(maxLength=80),
     "request-property-max-length-increased", Severity.P3, "POST /pets", "request body /name"),
    ("added response field", lambda d: schema(d, "Pet")["properties"].update(color={"type": "string"}),
     "response-optional-property-added", Severity.P3, "GET /pets", "response 200 body /items/0/color"),
    ("narrowed response enum", lambda d: schema(d, "Pet")["properties"]["status"]["enum"].remove("sold"),
     "response-property-enum-value-removed", Severity.P3, "GET /pets", "response 200 body /items/0/status"),
    ("response field became required", lambda d: schema(d, "Pet")["required"].append("tag"),
     "response-property-became-required", Severity.P3, "GET /pets/{petId}", "response 200 body /tag"),
    ("summary changed", lambda d: op(d, "/pets", "get").update(summary="List every pet"),
     "api-summary-changed", Severity.P3, "GET /pets", "operation"),
    ("description changed", lambda d: op(d, "/pets", "get").update(description="Pets, a page at a time."),
     "api-description-changed", Severity.P3, "GET /pets", "operation"),
    ("operation deprecated", _deprecate, "endpoint-deprecated", Severity.P3, "DELETE /pets/{petId}", "operation"),
    ("parameter deprecated", lambda d: param(d, "limit").update(deprecated=True),
     "request-parameter-deprecated", Severity.P3, "GET /pets", "query parameter limit"),
    ("deprecated operation removed", lambda d: d["paths"]["/pets/{petId}"].pop("delete"),
     "api-removed-with-deprecation", Severity.P3, "DELETE /pets/{petId}", "operation"),
    ("success status added", lambda d: op(d, "/pets", "post")["responses"].update({"200": {"description": "dup"}}),
     "response-success-status-added", Severity.P3, "POST /pets", "response 200"),
    ("error status removed", lambda d: op(d, "/pets", "get")["responses"].pop("400"),
     "response-non-success-status-removed", Severity.P3, "GET /pets", "response 400"),
    ("auth alternative added", lambda d: op(d, "/pets", "post").update(
        security=[{"oauth2": ["write"]}, {"apiKey": []}]),
     "api-security-added", Severity.P3, "POST /pets", "security"),
    ("OAuth scope no longer needed", lambda d: d.update(security=[{"oauth2": []}, {"apiKey": []}]),
     "api-security-scope-removed", Severity.P3, "GET /pets", "security"),
    ("operation became public", lambda d: op(d, "/pets", "get").update(security=[]),
     "api-security-no-longer-required", Severity.P2, "GET /pets", "security"),
    ("token URL changed", lambda d: d["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
     .update(tokenUrl="https://id.example.com/token"),
     "api-security-component-oauth-token-url-changed", Severity.P3, "", "components securitySchemes oauth2"),
    ("new version", lambda d: d["info"].update(version="1.1"), "api-version-changed", Severity.P2, "",
     "info version"),
]


def _old_non_breaking(case_id: str) -> Mutation | None:
    if case_id == "deprecated operation removed":
        return _deprecate
    if case_id == "parameter became optional":
        return lambda d: d["paths"]["/pets/{petId}"]["get"].update(parameters=[
            {"name": "verbose", "in": "query", "required": True, "schema": {"type": "boolean"}}])
    return None


@pytest.mark.parametrize(("case", "mutate", "rule_id", "severity", "operation", "location"), NON_BREAKING,
                         ids=[c[0] for c in NON_BREAKING])
def test_each_non_breaking_kind(case: str, mutate: Mutation, rule_id: str, severity: Severity, operation: str,
                                location: str) -> None:
    changes = changes_after(mutate, mutate_old=_old_non_breaking(case))
    assert not [c for c in changes if c.breaking], [(c.rule_id, c.location) for c in changes if c.breaking]
    if case.startswith("read-only"):  # never sent, so not required of senders ("new required body field" is)
        assert changes == []
        return
    hits = [c for c in changes if c.rule_id == rule_id and c.operation == operation and c.location == location]
    assert hits, [(c.rule_id, c.operation, c.location) for c in changes]
    change = hits[0]
    assert not change.breaking and change.severity is severity
    assert change.level == ("warning" if "deprecated" in rule_id else "info")


def test_identical_descriptions_have_no_changes() -> None:
    assert changes_after(lambda d: None) == []
    spec = prepare_spec(copy.deepcopy(BASE))
    assert diff(spec, spec) == []


def test_renamed_path_parameter_is_no_change() -> None:
    def rename(doc: dict[str, Any]) -> None:
        item = doc["paths"].pop("/pets/{petId}")
        item["parameters"][0]["name"] = "id"
        doc["paths"]["/pets/{id}"] = item

    assert changes_after(rename) == []


def test_equivalent_nullable_spellings_are_no_change() -> None:
    """3.0 ``nullable``, 3.1 type lists and FastAPI's ``anyOf [T, null]`` all mean "T or null"."""
    spellings = [{"type": "string", "nullable": True}, {"type": ["string", "null"]},
                 {"anyOf": [{"type": "string"}, {"type": "null"}]}]
    def tag_as(spelling: dict[str, Any]) -> Mutation:
        return lambda doc: schema(doc, "Pet")["properties"].update(tag=copy.deepcopy(spelling))

    for old_tag in spellings:
        for new_tag in spellings:
            changes = changes_after(tag_as(new_tag), mutate_old=tag_as(old_tag))
            assert changes == [], (old_tag, new_tag, changes)
    # Not vacuous: dropping "or null" is seen whichever spelling it had.
    for spelling in spellings:
        changes = changes_after(tag_as({"type": "string"}), mutate_old=tag_as(spelling))
        assert {c.rule_id for c in changes} == {"response-property-became-not-nullable"}


def test_a_change_inside_a_recursive_schema_is_found_and_the_walk_ends() -> None:
    def tree(doc: dict[str, Any]) -> None:
        schema(doc, "Pet")["properties"]["children"] = {"type": "array", "items": PET}

    def deeper(doc: dict[str, Any]) -> None:
        tree(doc)
        schema(doc, "Pet")["properties"]["children"]["items"] = {"$ref": "#/components/schemas/Pet"}
        schema(doc, "Pet")["properties"]["id"]["type"] = "string"

    started = time.perf_counter()
    changes = changes_after(deeper, mutate_old=tree)
    assert time.perf_counter() - started < 5
    found = {(c.rule_id, c.operation, c.location) for c in changes}
    assert ("response-property-type-changed", "GET /pets/{petId}", "response 200 body /id") in found
    assert all(c.rule_id == "response-property-type-changed" for c in changes if c.breaking)


def test_swagger_2_and_its_openapi_3_equivalent_have_no_changes(tmp_path: Path) -> None:
    old, new = ENGINE_SPECS / "swagger-2.0.yaml", SPECS / "legacy-3.0.yaml"
    report = compare(str(old), str(new))
    assert report.old.version == "2.0" and report.new.version == "3.0.3"
    assert report.changes == () and report.old.operations == report.new.operations == 5
    # The same pair with one real difference: it is found (the equivalence is not vacuous).
    text = new.read_text().replace("required: [text]", "required: [text, id]").replace(
        "id: {type: string, readOnly: true}", "id: {type: string}")
    changed = tmp_path / "legacy-3.0-changed.yaml"
    changed.write_text(text)
    rules = {c.rule_id for c in compare(str(old), str(changed)).breaking}
    assert rules == {"request-property-became-required"}


# ------------------------------------------------------------------------ the reference platform


@pytest.fixture(scope="module")
def reference(platform: Any) -> tuple[str, dict[str, Any]]:
    url = f"{platform.base_url}/api/v1/openapi.json"
    return url, httpx.get(url, timeout=30).json()


def test_reference_platform_against_itself_has_no_changes(reference: tuple[str, dict[str, Any]]) -> None:
    url, raw = reference
    report = compare(url, url)
    assert report.old.operations > 600 and report.changes == () and report.exit_code == 0
    # Served by another instance (another port in `servers`): not equal as a whole, so every operation is
    # walked, and still nothing has changed.
    elsewhere = copy.deepcopy(raw)
    elsewhere["servers"] = [{"url": "http://127.0.0.1:1"}]
    assert diff(load_spec(url), prepare_spec(elsewhere)) == []


def test_reference_platform_with_faults_injected_into_its_description(
        reference: tuple[str, dict[str, Any]]) -> None:
    url, raw = reference
    old = load_spec(url)
    changed = copy.deepcopy(raw)
    removed_path = next(p for p in changed["paths"] if p.startswith("/api/slack/"))
    methods = [m for m in changed["paths"][removed_path] if m in ("get", "post", "put", "patch", "delete")]
    del changed["paths"][removed_path]
    error = changed["components"]["schemas"]["Error"]
    error["properties"].pop(error["required"][0])
    changes = diff(old, prepare_spec(changed))
    removed = {c.operation for c in changes if c.rule_id == "api-removed-without-deprecation"}
    assert removed == {f"{m.upper()} {removed_path}" for m in methods}
    shared = [c for c in changes if c.rule_id == "response-required-property-removed"]
    assert len({c.operation for c in shared}) > 500  # a shared schema: reported in every operation using it
    assert {c.rule_id for c in changes if c.breaking} == {"api-removed-without-deprecation",
                                                          "response-required-property-removed"}


def test_every_rule_is_documented() -> None:
    from sloguard.contracts.diff.rules import SCHEMA_PREFIXES, SCHEMA_SUFFIXES

    text = (Path(__file__).parent.parent.parent / "docs" / "contracts.md").read_text()
    schema_ids = {f"{p}-{s}" for p in SCHEMA_PREFIXES for s in SCHEMA_SUFFIXES}
    missing = [rid for rid in RULES if rid not in schema_ids and f"`{rid}`" not in text]
    missing += [s for s in SCHEMA_SUFFIXES if f"| `{s}` |" not in text]
    assert missing == []
