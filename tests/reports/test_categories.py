"""Allure categories: each rule's failures land in the documented bucket, the team's file wins,
and a broken file is a clear error. (Real Allure 3 applies the same file in test_report_build.py.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sloguard.errors import UsageError
from sloguard.reports.categories import categorize, default_categories, load_categories, write_categories
from sloguard.severity import Rule

REPO = Path(__file__).resolve().parents[2]

# One real-looking failure message per rule (the synthetic suite's shape: "[P0 RULE] message"), and
# the category an on-call engineer should find it in (docs/reports.md has the same table).
EXPECTED: dict[Rule, tuple[str, str]] = {
    Rule.PLATFORM_DOWN: ("cannot open a connection to 127.0.0.1:8400: [Errno 111] Connection refused", "Platform down"),
    Rule.DATABASE_FAILURE: ("GET /api/health/db answered 503", "Platform down"),
    Rule.AUTH_FAILURE: ("POST /oauth/token answered 503: the token endpoint is down", "Auth failure"),
    Rule.SECURITY_BREACH: ("GET /api/github/issues answered 200 without credentials", "Security breach"),
    Rule.DATA_LOSS: ("a jira record never arrived in slack within 10 s (data loss)", "Data loss"),
    Rule.INTEGRATIONS_DOWN: ("3 integrations are down: slack, jira, github", "Integration down"),
    Rule.INTEGRATION_DEGRADED: ("GET /api/slack/messages answered 503, expected 200", "Integration down"),
    Rule.SLOW_OPERATION: ("took 2300 ms: slower than 2 s", "SLO breach: latency"),
    Rule.RESPONSE_TIME_REGRESSION: ("p95 300 ms vs baseline 100 ms", "SLO breach: latency"),
    Rule.PERFORMANCE_DROP: ("performance dropped 60% against the baseline", "SLO breach: latency"),
    Rule.SOAK_GROWTH: ("memory grew 40 MiB per hour", "SLO breach: latency"),
    Rule.HIGH_ERROR_RATE: ("error rate 7% for 6 minutes", "SLO breach: errors"),
    Rule.BUDGET_BURN_FAST: ("burning 14.4x over 1 h", "SLO breach: errors"),
    Rule.BUDGET_BURN_SLOW: ("burning 3x over 1 d", "SLO breach: errors"),
    Rule.OPERATION_FAILED: ("response does not match its schema: 'id' is a required property", "Contract drift"),
    Rule.CONTRACT_DRIFT: ("a new optional field 'x' appeared", "Contract drift"),
    Rule.CONTRACT_BREAKING: ("GET /pets was removed", "Contract drift"),
    Rule.COSMETIC_CONTRACT: ("undocumented header X-Foo", "Contract drift"),
    Rule.RATE_LIMITED: ("GET /api/jira/issues answered 429", "Rate limited"),
    Rule.RATE_LIMIT_NEAR: ("84% of the rate limit used", "Rate limited"),
    Rule.CAPACITY_NEAR: ("82% of the connections in use", "Rate limited"),
    Rule.TLS_EXPIRY: ("the certificate expires in 12 days", "Certificate or version change"),
    Rule.NEW_VERSION: ("platform version 1.1.0 (was 1.0.0)", "Certificate or version change"),
    Rule.CHECK_ERROR: ("the check could not log in to start", "Suite error"),
}


def _message(rule: Rule, text: str) -> str:
    return f"Failed: [{rule.severity} {rule.name}] {text}"


def test_every_rule_has_a_bucket() -> None:
    """A new rule without a category would land in Allure's catch-all: this names it."""
    failure_rules = set(Rule) - {Rule.SLO_MISSED}  # an SLO miss is a run-level alert, tested below
    assert failure_rules <= set(EXPECTED), f"rules without a category test: {failure_rules - set(EXPECTED)}"


@pytest.mark.parametrize("rule", list(EXPECTED), ids=lambda r: r.name)
def test_rule_lands_in_its_category(rule: Rule) -> None:
    text, expected = EXPECTED[rule]
    categories = default_categories()
    assert categorize(categories, "failed", _message(rule, text)) == expected
    # Allure 2 (Java) matches the whole message with DOTALL: the same file must work there too.
    pattern = next(c["messageRegex"] for c in categories if c["name"] == expected and "messageRegex" in c)
    assert re.fullmatch(pattern, "Failed: first line\n" + _message(rule, text) + "\nlast line", re.S)


def test_latency_findings_of_a_degraded_integration_are_slo_breaches() -> None:
    categories = default_categories()
    slow = _message(Rule.INTEGRATION_DEGRADED, "took 725 ms, over the 500 ms latency objective")
    network = _message(Rule.INTEGRATION_DEGRADED, "network time (connect) 130 ms, over the 100 ms objective")
    assert categorize(categories, "failed", slow) == "SLO breach: latency"
    assert categorize(categories, "failed", network) == "SLO breach: latency"


def test_slo_misses_split_into_latency_and_errors() -> None:
    categories = default_categories()
    latency = "[P1 SLO_MISSED] SLO missed: [jira] latency_p95_ms 932.4 ms (objective < 500 ms)"
    errors = "[P1 SLO_MISSED] SLO missed: availability 97.524% (objective ≥ 99.900%)"
    assert categorize(categories, "failed", latency) == "SLO breach: latency"
    assert categorize(categories, "failed", errors) == "SLO breach: errors"


def test_the_most_severe_finding_of_a_check_decides() -> None:
    """A check with a slow answer *and* an open endpoint is a security breach first."""
    message = (_message(Rule.INTEGRATION_DEGRADED, "took 725 ms, over the 500 ms latency objective") + "\n"
               + _message(Rule.SECURITY_BREACH, "answered 200 with a forged token"))
    assert categorize(default_categories(), "failed", message) == "Security breach"


def test_flaky_and_broken_and_passing() -> None:
    categories = default_categories()
    assert categorize(categories, "passed", "passed only on retry", flaky=True) == "Flaky"
    assert categorize(categories, "broken", "RuntimeError: boom") == "Suite error"
    assert categorize(categories, "passed", "") is None
    # a tag in a passing check's message (a warning) does not make it a failure
    assert categorize(categories, "passed", _message(Rule.SECURITY_BREACH, "x")) is None


def test_the_team_copy_ships_equal_to_the_default() -> None:
    """reports/categories.json is the editable copy of the package's defaults."""
    team = json.loads((REPO / "reports" / "categories.json").read_text())
    assert team == default_categories()


def test_a_team_file_wins(tmp_path: Path) -> None:
    mine = [{"name": "Ours", "messageRegex": ".*boom.*", "matchedStatuses": ["failed"]}]
    (tmp_path / "categories.json").write_text(json.dumps(mine))
    assert load_categories(tmp_path) == mine
    assert load_categories(tmp_path / "elsewhere") == default_categories()
    written = write_categories(tmp_path / "allure-results", mine)
    assert json.loads(written.read_text()) == mine


@pytest.mark.parametrize(("text", "problem"), [
    ("{not json", r"categories\.json:1: not valid JSON"),
    ('{"name": "x"}', r"expected a JSON list"),
    ('[{"messageRegex": ".*"}]', r'category 1 needs a non-empty "name"'),
    ('[{"name": "x", "messageRegex": "(unclosed"}]', r"category 'x' has a bad messageRegex"),
    ('[{"name": "x", "matchedStatuses": ["exploded"]}]', r"matchedStatuses must be a list of"),
])
def test_a_broken_team_file_is_a_clear_error(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "categories.json").write_text(text)
    with pytest.raises(UsageError, match=problem):
        load_categories(tmp_path)
