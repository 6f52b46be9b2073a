"""The OpenAPI description the platform serves: valid, complete, and true to the API's behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from sloguard.reference.integrations import INTEGRATIONS
from tests.platform.conftest import http

METHODS = ("get", "put", "post", "patch", "delete")
ERROR_STATUSES = {"400", "401", "403", "404", "422", "429", "500", "503"}


@pytest.fixture(scope="module")
def spec(platform: Any) -> dict[str, Any]:
    with http(platform) as client:
        r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def api(platform: Any) -> Iterator[httpx.Client]:
    with http(platform) as client:
        yield client


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    for _ in range(5):
        if "$ref" not in node:
            return node
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    raise AssertionError(f"unresolvable $ref chain at {node}")


def schema_validator(spec: dict[str, Any], name: str) -> OAS30Validator:
    """A validator for one component schema, with the document's $refs resolvable."""
    return OAS30Validator({**spec["components"]["schemas"][name], "components": spec["components"]})


def test_spec_is_valid_openapi_3_0(spec: dict[str, Any]) -> None:
    assert spec["openapi"] == "3.0.3"
    validate(spec)


def test_spec_is_complete(spec: dict[str, Any]) -> None:
    ops = list(operations(spec))
    assert len(ops) >= 350
    ids = [op["operationId"] for _, _, op in ops]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    tags = {t["name"] for t in spec["tags"]}
    assert set(INTEGRATIONS.values()) <= tags and len(set(INTEGRATIONS.values())) == 33
    used = {tag for _, _, op in ops for tag in op["tags"]}
    assert set(INTEGRATIONS.values()) <= used
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op["responses"], where
        for status, response in op["responses"].items():
            response = resolve(spec, response)
            if status != "204":
                assert "content" in response and all("schema" in m for m in response["content"].values()), where
        statuses = set(op["responses"])
        if op["security"]:
            assert {"401", "403", "429"} <= statuses, where
            scopes = op["security"][0]["oauth2"]
            want = "admin" if path.startswith("/api/admin") else "read" if method == "get" else "write"
            assert scopes == [want], where
        assert any(s.startswith("2") for s in statuses), where
    assert {s for _, _, op in ops for s in op["responses"]} >= ERROR_STATUSES | {"200", "201", "202", "204"}

    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert flows["password"]["tokenUrl"].endswith("/api/auth/login")
    assert {"clientCredentials", "authorizationCode"} <= set(flows)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["bearerFormat"] == "JWT"
    public = {op["operationId"] for _, _, op in ops if op["security"] == []}
    assert {"get_health", "get_health_v1", "get_metrics", "get_openapi", "slack_health",
            "slack_oauth_callback"} <= public


def test_contract_operation_ids(spec: dict[str, Any]) -> None:
    ops = {op["operationId"]: (method, path) for path, method, op in operations(spec)}
    assert ops["slack_list_messages"] == ("get", "/api/slack/messages")
    assert ops["slack_search_messages"] == ("get", "/api/slack/messages/search")
    assert ops["slack_create_message"] == ("post", "/api/slack/messages")
    assert ops["slack_get_message"] == ("get", "/api/slack/messages/{id}")
    assert ops["slack_update_message"] == ("patch", "/api/slack/messages/{id}")
    assert ops["slack_delete_message"] == ("delete", "/api/slack/messages/{id}")
    assert ops["microsoft_teams_trigger_sync"] == ("post", "/api/microsoft-teams/sync")
    assert ops["hubspot_marketing_sync_status"] == ("get", "/api/hubspot-marketing/sync/status")
    assert ops["stripe_create_charge"] == ("post", "/api/stripe/charges")
    assert ops["jira_oauth_callback"] == ("get", "/api/auth/jira/callback")
    assert ops["google_drive_oauth_connect"] == ("get", "/api/google-drive/oauth/connect")
    for slug in INTEGRATIONS:
        ident = slug.replace("-", "_")
        for suffix in ("trigger_sync", "sync_status", "health", "oauth_connect", "oauth_callback"):
            assert f"{ident}_{suffix}" in ops


def test_create_links_point_at_get_update_delete(spec: dict[str, Any]) -> None:
    ids = {op["operationId"] for _, _, op in operations(spec)}
    creates = [op for _, method, op in operations(spec) if method == "post" and "201" in op["responses"]]
    assert len(creates) >= 80
    for op in creates:
        links = op["responses"]["201"]["links"]
        targets = {link["operationId"] for link in links.values()}
        assert len(targets) == 3 and targets <= ids, op["operationId"]
        assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())


def test_models_are_realistic(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("SlackMessage", "SlackChannel", "JiraIssue", "JiraProject", "StripeInvoice", "ShopifyOrder",
                 "HubspotContact", "MailchimpCampaign", "TableauDashboard", "GoogleDriveFile"):
        for suffix in ("", "Create", "Update", "List"):
            assert name + suffix in schemas, name + suffix
    issue = schemas["JiraIssueCreate"]
    assert {"summary", "project_key", "issue_type"} <= set(issue["required"])
    assert issue["properties"]["issue_type"]["enum"] == ["Bug", "Task", "Story", "Epic"]
    assert schemas["HubspotContactCreate"]["properties"]["email"]["format"] == "email"
    assert schemas["SlackMessage"]["properties"]["created_at"]["format"] == "date-time"
    assert all("example" in p for p in schemas["ShopifyOrderCreate"]["properties"].values())
    assert "x-faker" in schemas["GoogleDriveFileCreate"]["properties"]["name"]


def test_every_create_example_is_accepted_and_matches_the_schema(
    spec: dict[str, Any], api: httpx.Client, ci_headers: dict[str, str]
) -> None:
    """The description tells the truth: each documented example creates a record, and the
    record, its read-back and the list page all validate against the documented schemas."""
    creates = [(path, op) for path, method, op in operations(spec) if method == "post" and "201" in op["responses"]]
    for path, op in creates:
        body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        name = body_ref.rsplit("/", 1)[1].removesuffix("Create")
        example = dict(spec["components"]["schemas"][f"{name}Create"]["example"])
        example.pop("sync_to", None)
        r = api.post(path, json=example, headers=ci_headers)
        assert r.status_code == 201, f"{op['operationId']}: HTTP {r.status_code} {r.text[:200]}"
        errors = list(schema_validator(spec, name).iter_errors(r.json()))
        assert not errors, f"{op['operationId']}: {errors[0].message}"
        got = api.get(f"{path}/{r.json()['id']}", headers=ci_headers)
        assert got.status_code == 200 and got.json() == r.json()
    for path, op in creates[:10]:
        name = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1][:-6]
        page = api.get(path, headers=ci_headers).json()
        errors = list(schema_validator(spec, f"{name}List").iter_errors(page))
        assert not errors and page["items"], f"{path}: {errors[:1]}"
