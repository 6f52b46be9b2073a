"""Cross-integration sync: a record created with sync_to arrives intact in the target after the
sync delay; sync_lag_s delays it, sync_drop loses it, and a restart does not."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import start_platform
from tests.platform.conftest import bearer, client_token, http

SYNC_DELAY_S = 0.5  # the platform's default


@pytest.fixture
def fault(api: httpx.Client, admin_headers: dict[str, str]) -> Iterator[Any]:
    def set_fault(name: str, value: str) -> None:
        r = api.put("/api/admin/faults", json={"name": name, "value": value}, headers=admin_headers)
        assert r.status_code == 200, r.text

    yield set_fault
    assert api.delete("/api/admin/faults", headers=admin_headers).json()["faults"] == {}


def checksum(record: dict[str, Any]) -> str:
    """What the contract promises: SHA-256 of the canonical JSON, server-managed keys left out."""
    kept = {k: v for k, v in record.items()
            if k not in {"id", "created_at", "updated_at", "tenant_id", "sync_to", "source", "source_checksum"}}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


def synced(api: httpx.Client, path: str, source_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = api.get(path, params={"source_id": source_id}, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def wait_for(api: httpx.Client, path: str, source_id: str, headers: dict[str, str],
             timeout_s: float) -> tuple[dict[str, Any] | None, float]:
    """(the synced record or None, seconds waited)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        items = synced(api, path, source_id, headers)
        if items:
            assert len(items) == 1, f"synced twice: {items}"
            return items[0], time.monotonic() - start
        time.sleep(0.05)
    return None, time.monotonic() - start


def create_issue(api: httpx.Client, headers: dict[str, str], targets: list[str]) -> dict[str, Any]:
    body = {"summary": f"Refund webhook failing {uuid.uuid4().hex[:8]} — ünïcode", "project_key": "PAY",
            "issue_type": "Bug", "story_points": 3.5, "sync_to": targets}
    r = api.post("/api/jira/issues", json=body, headers=headers)
    assert r.status_code == 201, r.text
    record: dict[str, Any] = r.json()
    return record


def test_sync_arrives_intact(api: httpx.Client, ci_headers: dict[str, str],
                             globex_headers: dict[str, str]) -> None:
    issue = create_issue(api, ci_headers, ["slack", "zendesk"])
    assert synced(api, "/api/slack/messages", issue["id"], ci_headers) == []  # not before the delay
    message, waited = wait_for(api, "/api/slack/messages", issue["id"], ci_headers, 5.0)
    assert message is not None, "the synced Slack message never arrived"
    assert waited >= SYNC_DELAY_S * 0.8
    assert message["source"] == {"integration": "jira", "resource": "issues", "id": issue["id"]}
    assert message["text"] == issue["summary"] and message["tenant_id"] == "acme"
    source = api.get(f"/api/jira/issues/{issue['id']}", headers=ci_headers).json()
    assert message["source_checksum"] == checksum(source)
    ticket, _ = wait_for(api, "/api/zendesk/tickets", issue["id"], ci_headers, 5.0)
    assert ticket is not None and ticket["description"] == issue["summary"]
    assert ticket["source_checksum"] == message["source_checksum"]
    assert synced(api, "/api/slack/messages", issue["id"], globex_headers) == []  # tenants stay apart
    status = api.get("/api/slack/sync/status", headers=ci_headers).json()
    assert status["pending"] == 0 and status["done"] >= 1 and status["last_sync_at"]


def test_tasks_sync_too(api: httpx.Client, ci_headers: dict[str, str]) -> None:
    r = api.post("/api/v1/tasks", json={"title": "Renew the TLS certificate", "sync_to": ["linear"]},
                 headers=ci_headers)
    assert r.status_code == 201
    issue, _ = wait_for(api, "/api/linear/issues", r.json()["id"], ci_headers, 5.0)
    assert issue is not None and issue["source"]["integration"] == "platform"
    assert issue["description"] == "Renew the TLS certificate"


def test_sync_lag_delays_it(api: httpx.Client, fault: Any, ci_headers: dict[str, str]) -> None:
    fault("sync_lag_s", "1.5")
    issue = create_issue(api, ci_headers, ["slack"])
    pending = api.get("/api/jira/sync/status", headers=ci_headers).json()["pending"]
    assert pending >= 1
    message, waited = wait_for(api, "/api/slack/messages", issue["id"], ci_headers, 6.0)
    assert message is not None and waited >= 1.5, f"arrived after {waited:.2f}s despite a 1.5 s lag"


def test_sync_drop_loses_it_silently(api: httpx.Client, fault: Any, admin_headers: dict[str, str],
                                     ci_headers: dict[str, str]) -> None:
    fault("sync_drop", "1")
    lost = create_issue(api, ci_headers, ["slack"])
    message, _ = wait_for(api, "/api/slack/messages", lost["id"], ci_headers, SYNC_DELAY_S + 1.5)
    assert message is None, "sync_drop=1 should lose the record"
    status = api.get("/api/jira/sync/status", headers=ci_headers).json()
    assert status["pending"] == 0  # the platform believes it was delivered: silent data loss
    assert api.delete("/api/admin/faults/sync_drop", headers=admin_headers).status_code == 200
    kept = create_issue(api, ci_headers, ["slack"])
    message, _ = wait_for(api, "/api/slack/messages", kept["id"], ci_headers, 5.0)
    assert message is not None


def test_pending_sync_survives_a_restart(tmp_path: Path) -> None:
    first = start_platform(tmp_path, extra_args=("--sync-delay", "1.5"))
    try:
        with http(first) as api:
            issue = create_issue(api, bearer(client_token(first, "sloguard-ci", "sloguard-ci-secret")), ["discord"])
    finally:
        first.stop()  # before the sync is due
    second = start_platform(tmp_path, extra_args=("--sync-delay", "1.5"))
    try:
        headers = bearer(client_token(second, "sloguard-ci", "sloguard-ci-secret"))
        with http(second) as api:
            message, _ = wait_for(api, "/api/discord/messages", issue["id"], headers, 6.0)
            assert message is not None, "a pending sync was lost across a restart"
            assert message["content"] == issue["summary"]
    finally:
        second.stop()
