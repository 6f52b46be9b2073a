"""A run against a live target compares the description it serves with the last one seen, so a
release's drift and its new version are reported even when nobody told the suite about them."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.synthetics.test_safe_defaults import RecordingAPI
from tests.synthetics.test_suite_against_faults import run_suite

pytestmark = pytest.mark.slow


def test_a_new_release_is_reported_by_the_next_run(platform, tmp_path: Path) -> None:
    spec: dict[str, Any] = httpx.get(f"{platform.base_url}/api/v1/openapi.json").json()
    spec["paths"] = {p: i for p, i in spec["paths"].items() if p.startswith("/api/slack/")}
    api = RecordingAPI(spec)
    try:
        first = run_suite(tmp_path, "--target", api.base_url, "-k", "slack and messages")
        assert not [r for r in first.results if r["check_id"].startswith("contract drift")]  # nothing seen before
        released = copy.deepcopy(spec)
        released["info"]["version"] = "1.1.0"
        del released["paths"]["/api/slack/messages/{id}"]["delete"]
        api.serve(released)
        second = run_suite(tmp_path, "--target", api.base_url, "-k", "slack and messages")
    finally:
        api.stop()
    drift = {r["check_id"]: r for r in second.results if r["check_id"].startswith("contract drift")}
    removed = drift["contract drift · DELETE /api/slack/messages/{id}"]
    assert removed["status"] == "failed" and removed["rule"] == "CONTRACT_BREAKING" and removed["severity"] == "P1"
    assert removed["integration"] == "slack"
    alerts = {(a["rule"], a.get("warning", False)) for a in second.summary["alerts"]}
    assert ("CONTRACT_BREAKING", False) in alerts and ("NEW_VERSION", True) in alerts
