"""The contract run's plan without a network: severity of every failure kind, criticality order, budgets."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from schemathesis.failure_codes import FAILURE_CLASSES

from sloguard.contracts import budget
from sloguard.contracts.severity import BY_CODE, classify, rule_for
from sloguard.errors import UsageError
from sloguard.severity import Rule, Severity


def test_every_schemathesis_failure_kind_has_a_severity() -> None:
    for cls in FAILURE_CLASSES:
        if cls.code != "ST901":
            assert cls.code in BY_CODE, f"{cls.code} {cls.__name__} is not classified"
    assert classify("ST401", "ignored_auth").rule is Rule.SECURITY_BREACH
    assert classify("ST108", "response_schema_conformance").rule.severity is Severity.P2
    assert classify("ST108", "response_headers_conformance").rule is Rule.COSMETIC_CONTRACT
    assert classify("ST105", "content_type_conformance").rule.severity is Severity.P3
    assert classify(None, "a_team_check").rule is Rule.CONTRACT_DRIFT
    server_error = classify("ST101", "not_a_server_error")
    assert rule_for(server_error, "slack") is Rule.INTEGRATION_DEGRADED
    assert rule_for(server_error, "platform") is Rule.OPERATION_FAILED


def _doc(health_summary: str = "Platform health") -> dict:
    op = {"responses": {"200": {"description": "ok"}}}
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "security": [{"oauth2": []}], "paths": {
        "/api/slack/messages": {"get": {**op, "operationId": "slack_list"}, "post": {**op, "operationId": "slack_new"}},
        "/health": {"get": {**op, "operationId": "health", "summary": health_summary, "security": []}},
        "/api/auth/login": {"post": {**op, "operationId": "login", "security": []}},
        "/api/jira/issues": {"get": {**op, "operationId": "jira_list"}},
    }}


def test_order_is_auth_health_changed_then_the_rest(tmp_path: Path) -> None:
    ops = budget.operations_of(_doc())
    first = budget.order(ops, None)
    assert [o.operation_id for o in first] == ["login", "health", "slack_list", "slack_new", "jira_list"]
    assert [o.security for o in first] == [False, False, True, True, True]
    budget.save_digests(tmp_path, ops, "test")
    changed = budget.operations_of(_doc())
    changed[-1] = budget.OperationRef(**{**changed[-1].__dict__, "digest": "different"})  # jira_list changed
    again = budget.order(changed, budget.load_digests(tmp_path))
    assert [o.operation_id for o in again] == ["login", "health", "jira_list", "slack_list", "slack_new"]
    assert budget.rank(again[2], budget.load_digests(tmp_path)) == budget.CHANGED
    # A changed health operation is still ranked as health: criticality before novelty.
    moved = budget.order(budget.operations_of(_doc("Liveness")), budget.load_digests(tmp_path))
    assert moved[1].operation_id == "health"


@pytest.mark.parametrize(("text", "seconds"), [("2m", 120.0), ("90s", 90.0), ("1h30m", 5400.0), ("45", 45.0)])
def test_budget_formats(text: str, seconds: float) -> None:
    assert budget.parse_budget(text) == seconds


@pytest.mark.parametrize("text", ["2x", "soon", "-1m", "0s", ""])
def test_unknown_budget_formats_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--budget"):
        budget.parse_budget(text)


def test_clock_keeps_a_reserve_for_the_reports() -> None:
    now = time.monotonic()
    assert budget.Clock(60.0, started=now - 50).spent is False  # 10 s left, the reserve is 6 s
    assert budget.Clock(60.0, started=now - 55).spent is True  # 5 s left: stop, write the reports
    assert budget.Clock(None, started=now - 1e6).spent is False
