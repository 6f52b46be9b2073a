"""The reference platform's API over real HTTP: CRUD, search, pagination, tenants, scopes, users,
workflows, health, metrics and the per-integration routes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.platform.conftest import bearer, client_token, password_tokens


def create(api: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    r = api.post(path, json=body, headers=headers)
    assert r.status_code == 201, f"POST {path}: HTTP {r.status_code} {r.text[:300]}"
    record: dict[str, Any] = r.json()
    assert r.headers["location"] == f"{path}/{record['id']}"
    return record


CRUD_CASES = [
    ("/api/slack/messages", {"channel": "C0RELEASE", "text": "v2.4 is live"}, "text", {"text": "v2.4.1 is live"}),
    ("/api/stripe/invoices", {"customer": "cus_123", "amount_due": 4200, "currency": "eur", "description": "April"},
     "description", {"status": "paid"}),
    ("/api/hubspot/deals", {"dealname": "Initech renewal", "dealstage": "contractsent", "amount": 9000.5},
     "dealname", {"dealstage": "closedwon"}),
    ("/api/microsoft-teams/meetings", {"subject": "Retro", "start_time": "2025-05-01T10:00:00Z"}, "subject",
     {"subject": "Sprint retro"}),
    ("/api/v1/tasks", {"title": "Rotate the API keys", "priority": "high"}, "title", {"status": "done"}),
]


@pytest.mark.parametrize(("path", "body", "title", "patch"), CRUD_CASES, ids=[c[0] for c in CRUD_CASES])
def test_crud_round_trip(api: httpx.Client, ci_headers: dict[str, str], path: str, body: dict[str, Any],
                         title: str, patch: dict[str, Any]) -> None:
    marker = uuid.uuid4().hex[:10]
    body = {**body, title: f"{body[title]} {marker}"}
    record = create(api, path, body, ci_headers)
    assert record["tenant_id"] == "acme" and all(record[k] == v for k, v in body.items())
    assert record["created_at"] == record["updated_at"]

    got = api.get(f"{path}/{record['id']}", headers=ci_headers)
    assert got.status_code == 200 and got.json() == record

    found = api.get(f"{path}/search", params={"q": marker}, headers=ci_headers).json()
    assert [item["id"] for item in found["items"]] == [record["id"]] and found["total"] == 1

    updated = api.patch(f"{path}/{record['id']}", json=patch, headers=ci_headers)
    assert updated.status_code == 200, updated.text
    assert all(updated.json()[k] == v for k, v in patch.items())
    assert updated.json()["updated_at"] >= record["updated_at"]
    assert api.get(f"{path}/{record['id']}", headers=ci_headers).json() == updated.json()

    assert api.delete(f"{path}/{record['id']}", headers=ci_headers).status_code == 204
    gone = api.get(f"{path}/{record['id']}", headers=ci_headers)
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert api.delete(f"{path}/{record['id']}", headers=ci_headers).status_code == 404


def test_defaults_are_filled_and_input_is_validated(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    issue = create(api, "/api/jira/issues", {"summary": "Defaults", "project_key": "PAY", "issue_type": "Bug"},
                   ci_headers)
    assert issue["status"] == "To Do" and issue["priority"] == "Medium"

    missing = api.post("/api/jira/issues", json={"summary": "no project"}, headers=ci_headers)
    assert missing.status_code == 422 and "project_key" in missing.json()["detail"]
    wrong_enum = api.post("/api/jira/issues", json={"summary": "x", "project_key": "PAY", "issue_type": "Chore"},
                          headers=ci_headers)
    assert wrong_enum.status_code == 422 and "issue_type" in wrong_enum.json()["detail"]
    unknown = api.post("/api/slack/messages", json={"channel": "C1", "text": "hi", "colour": "red"},
                       headers=ci_headers)
    assert unknown.status_code == 422 and "colour" in unknown.json()["detail"]
    bad_type = api.patch(f"/api/jira/issues/{issue['id']}", json={"story_points": "many"}, headers=ci_headers)
    assert bad_type.status_code == 422 and "story_points" in bad_type.json()["detail"]
    bad_json = api.post("/api/slack/messages", content=b"{not json", headers=ci_headers)
    assert bad_json.status_code == 400 and bad_json.json()["error"] == "invalid_json"
    bad_sync = api.post("/api/jira/issues", json={"summary": "x", "project_key": "PAY", "issue_type": "Bug",
                                                  "sync_to": ["myspace"]}, headers=ci_headers)
    assert bad_sync.status_code == 422 and "sync_to" in bad_sync.json()["detail"]


def test_pagination_walks_every_record_once(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    for n in range(3):
        create(api, "/api/trello/cards", {"name": f"page card {n}", "list_id": "L1"}, ci_headers)
    first = api.get("/api/trello/cards", params={"per_page": 2}, headers=ci_headers).json()
    total = first["total"]
    assert total >= 6 and first["page"] == 1 and first["per_page"] == 2 and first["next_page"] == 2
    seen: list[str] = []
    page: int | None = 1
    for _ in range(100):
        if page is None:
            break
        body = api.get("/api/trello/cards", params={"per_page": 2, "page": page}, headers=ci_headers).json()
        assert len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        page = body["next_page"]
    assert len(seen) == total and len(set(seen)) == total
    beyond = api.get("/api/trello/cards", params={"page": 1000}, headers=ci_headers).json()
    assert beyond["items"] == [] and beyond["next_page"] is None

    for params in ({"per_page": 101}, {"per_page": 0}, {"page": 0}, {"page": "two"}):
        r = api.get("/api/trello/cards", params=params, headers=ci_headers)
        assert r.status_code == 400, params
        assert r.json()["error"] == "bad_request" and next(iter(params)) in r.json()["detail"]
    assert api.get("/api/trello/cards/search", headers=ci_headers).status_code == 400  # q is required


def test_tenants_are_isolated(api: httpx.Client, ci_headers: dict[str, str],
                              globex_headers: dict[str, str]) -> None:
    record = create(api, "/api/zendesk/tickets", {"subject": "acme only", "description": "private",
                                                  "requester_email": "it@acme.test"}, ci_headers)
    url = f"/api/zendesk/tickets/{record['id']}"
    assert api.get(url, headers=globex_headers).status_code == 404
    assert api.patch(url, json={"status": "solved"}, headers=globex_headers).status_code == 404
    assert api.delete(url, headers=globex_headers).status_code == 404
    globex_ids = {i["id"] for i in api.get("/api/zendesk/tickets", params={"per_page": 100},
                                           headers=globex_headers).json()["items"]}
    assert record["id"] not in globex_ids and globex_ids  # globex sees its own seed data, not acme's
    assert api.get(url, headers=ci_headers).json()["status"] == "new"  # unchanged by globex's attempts

    mismatch = api.get(url, headers={**ci_headers, "X-Tenant-ID": "globex"})
    assert mismatch.status_code == 403 and mismatch.json()["error"] == "tenant_mismatch"
    assert api.get(url, headers={**ci_headers, "X-Tenant-ID": "acme"}).status_code == 200
    globex_record = create(api, "/api/zendesk/tickets", {"subject": "globex", "description": "d",
                                                         "requester_email": "it@globex.test"}, globex_headers)
    assert globex_record["tenant_id"] == "globex"
    assert api.get(f"/api/zendesk/tickets/{globex_record['id']}", headers=ci_headers).status_code == 404


def test_scopes_and_tokens(api: httpx.Client, platform: Any, readonly_headers: dict[str, str]) -> None:
    none = api.get("/api/slack/messages")
    assert none.status_code == 401 and none.json()["error"] == "invalid_token"
    assert none.headers["www-authenticate"].startswith("Bearer")
    assert api.get("/api/slack/messages", headers=bearer("not.a.jwt")).status_code == 401
    assert api.get("/api/slack/messages", headers=readonly_headers).status_code == 200
    denied = api.post("/api/slack/messages", json={"channel": "C1", "text": "x"}, headers=readonly_headers)
    assert denied.status_code == 403 and denied.json()["error"] == "insufficient_scope"
    assert api.get("/api/admin/faults", headers=readonly_headers).status_code == 403
    ci = bearer(client_token(platform, "sloguard-ci", "sloguard-ci-secret"))
    assert api.get("/api/admin/faults", headers=ci).status_code == 403
    limited = api.get("/api/slack/messages", headers=readonly_headers)
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(limited.headers)


def test_users(api: httpx.Client, platform: Any, ci_headers: dict[str, str],
               globex_headers: dict[str, str]) -> None:
    users = api.get("/api/v1/users", headers=ci_headers).json()
    assert [u["email"] for u in users["items"]] == ["alice@acme.test"] and users["total"] == 1
    alice = users["items"][0]
    assert api.get(f"/api/v1/users/{alice['id']}", headers=ci_headers).json() == alice
    assert api.get(f"/api/v1/users/{alice['id']}", headers=globex_headers).status_code == 404
    me = api.get("/api/v1/users/me", headers=bearer(password_tokens(platform)["access_token"])).json()
    assert me["is_user"] is True and me["user"]["email"] == "alice@acme.test" and me["tenant"] == "acme"
    client_me = api.get("/api/v1/users/me", headers=ci_headers).json()
    assert client_me["is_user"] is False and client_me["user"] is None and client_me["client_id"] == "sloguard-ci"


def test_workflows(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    wf = create(api, "/api/v1/workflows", {"name": "Bugs to Slack", "trigger": "event", "steps": [
        {"integration": "jira", "action": "create"}, {"integration": "slack", "action": "notify"}]}, ci_headers)
    assert wf["enabled"] is True
    run = api.post(f"/api/v1/workflows/{wf['id']}/run", headers=ci_headers)
    assert run.status_code == 200 and run.json()["status"] == "succeeded"
    assert [s["integration"] for s in run.json()["steps"]] == ["jira", "slack"]
    assert api.post(f"/api/v1/workflows/{uuid.uuid4()}/run", headers=ci_headers).status_code == 404
    bad = api.post("/api/v1/workflows", json={"name": "x", "trigger": "manual", "steps": [{"integration": "x"}]},
                   headers=ci_headers)
    assert bad.status_code == 422
    listed = api.get("/api/v1/workflows", params={"per_page": 100}, headers=ci_headers).json()
    assert wf["id"] in {w["id"] for w in listed["items"]}


def test_health_and_metrics(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    for path in ("/health", "/api/v1/health"):
        health = api.get(path).json()
        assert health["status"] == "ok" and health["version"] == "1.0.0"
        assert health["checks"]["db"] == "ok" and health["checks"]["auth"] == "ok"
    integrations = api.get("/api/health/integrations").json()
    assert integrations["up"] == 33 and integrations["down"] == 0
    assert {i["display_name"] for i in integrations["integrations"]} >= {"Slack", "Microsoft Teams", "Monday.com"}
    system = api.get("/api/health/system").json()
    assert system["memory_rss_bytes"] > 10_000_000 and system["db_pool"]["size"] >= 1
    assert system["uptime_s"] > 0 and system["cpu_seconds"] > 0
    assert api.get("/api/health/db").json() == {"status": "ok"}
    slack = api.get("/api/slack/health")
    assert slack.status_code == 200 and slack.json()["status"] == "up"

    api.get("/api/github/issues", headers=ci_headers)
    metrics = api.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'atom_http_requests_total{method="GET",route="/api/github/issues",status="200"}' in text
    assert 'atom_http_request_duration_seconds_bucket{le="0.1",method="GET",route="/api/github/issues"' in text
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total", "atom_db_pool_size",
                 "atom_db_pool_in_use", "atom_active_faults"):
        assert f"\n{name} " in text, name
    summary = api.get("/api/v1/metrics/summary", headers=ci_headers).json()
    assert summary["requests_total"] > 0 and summary["latency_ms"]["p95"] >= summary["latency_ms"]["p50"]


def test_integration_connect_sync_and_callback(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    start = api.get("/api/notion/oauth/connect", headers=ci_headers).json()
    assert start["redirect_uri"].endswith("/api/auth/notion/callback")
    assert f"state={start['state']}" in start["authorization_url"]
    done = api.get("/api/auth/notion/callback", params={"code": "abc", "state": start["state"]})
    assert done.status_code == 200 and done.json() == {"integration": "notion", "tenant": "acme", "connected": True}
    reused = api.get("/api/auth/notion/callback", params={"code": "abc", "state": start["state"]})
    assert reused.status_code == 403 and reused.json()["error"] == "invalid_state"
    assert api.get("/api/auth/notion/callback", params={"code": "abc"}).status_code == 400
    assert api.get("/api/auth/notion/callback", params={"error": "access_denied"}).status_code == 400
    # The callbacks do not shadow the authorization server's own /api/auth routes.
    assert api.get("/.well-known/openid-configuration").status_code == 200
    assert api.get("/api/auth/login").status_code in (404, 405)

    queued = api.post("/api/box/sync", headers=ci_headers)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    status = api.get("/api/box/sync/status", headers=ci_headers).json()
    assert status["integration"] == "box" and status["pending"] + status["done"] >= 1


def test_unknown_routes_and_methods(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    for path in ("/api/myspace/posts", "/api/slack/posts", "/api/v1/nothing", "/nowhere"):
        r = api.get(path, headers=ci_headers)
        assert r.status_code == 404 and r.json()["error"] == "not_found", path
    wrong = api.put("/api/slack/messages", headers=ci_headers)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
