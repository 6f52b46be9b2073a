"""docs/rules.md is the one table of rules, severities, alert scopes and Allure categories: it must
say what the code does."""

from __future__ import annotations

import json
import re

from sloguard.alerts.rules import SCOPE_OF
from sloguard.severity import Rule
from tests.conftest import REPO


def rows() -> dict[str, list[str]]:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        found = re.match(r"\| `([A-Z_]+)` \|(.*)\|$", line)
        if found:
            out[found.group(1)] = [cell.strip() for cell in found.group(2).split("|")]
    return out


def test_every_rule_has_its_row_with_the_codes_severity_targets_and_scope() -> None:
    table = rows()
    assert set(table) == {r.name for r in Rule}
    for rule in Rule:
        severity, targets, scope, _category, description = table[rule.name]
        assert severity == rule.severity.value, rule
        assert description == rule.description, rule
        response = "immediate" if rule.severity.response_target.total_seconds() == 0 else targets.split(" / ")[0]
        assert targets.startswith(response), rule
        kind = SCOPE_OF.get(rule, "integration")
        if rule is not Rule.SLO_MISSED and not rule.name.startswith("BUDGET"):
            assert {"platform": "the platform", "integration": "one integration", "check": "one check"}[kind] == scope


def test_the_category_column_is_what_allure_files_the_failure_under() -> None:
    categories = json.loads((REPO / "sloguard" / "reports" / "categories.json").read_text())
    table = rows()
    for rule in Rule:
        message = f"[{rule.severity} {rule.name}] error_rate 5% over the objective"
        first = next((c["name"] for c in categories if c.get("messageRegex")
                      and re.fullmatch(c["messageRegex"], message, re.S)), None)
        assert first is not None and table[rule.name][3].startswith(first), (rule, first)
