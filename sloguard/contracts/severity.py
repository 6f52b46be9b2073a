"""Severity classification: every Schemathesis failure kind mapped onto DESIGN.md section 7.

Schemathesis' own severities (critical/high/medium/low) say how bad a failure is for an API in
general; this table says what it means for the ATOM release gate and for on-call: who gets paged.
The table is keyed by Schemathesis' stable failure codes (``ST101`` …), which are never renumbered,
with the check name as the fallback for failures a custom check raises. docs/contracts.md shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sloguard.catalog import PLATFORM
from sloguard.severity import SLOW_OPERATION_S, Rule


@dataclass(frozen=True)
class Classification:
    """What one failure kind becomes: a rule (and so a severity), and a short human name."""

    rule: Rule
    title: str
    # The rule is INTEGRATION_DEGRADED on an integration's operation, OPERATION_FAILED elsewhere.
    per_integration: bool = False


_P0 = Rule.SECURITY_BREACH
_P1 = Rule.OPERATION_FAILED
_P2 = Rule.CONTRACT_DRIFT
_P3 = Rule.COSMETIC_CONTRACT

# code → classification. Codes from schemathesis.failure_codes (4.x).
BY_CODE: dict[str, Classification] = {
    # P0: a protected operation answered without (valid) credentials, or another tenant's object
    "ST401": Classification(_P0, "protected operation answers without credentials"),
    "ST402": Classification(_P0, "object-level authorization bypass"),
    # P1: the platform failed on input it should have handled
    "ST101": Classification(_P1, "server error (5xx)", per_integration=True),
    "ST102": Classification(_P1, "server error on an undeclared request content type", per_integration=True),
    "ST113": Classification(_P1, "GraphQL server error", per_integration=True),
    "ST301": Classification(_P1, "deleted resource still available", per_integration=True),
    "ST302": Classification(_P1, "created resource not found", per_integration=True),
    "ST112": Classification(Rule.SLOW_OPERATION, "response slower than the latency objective"),
    # P2: the answer breaks the documented contract
    "ST103": Classification(_P2, "undocumented status code"),
    "ST108": Classification(_P2, "response does not match its schema"),
    "ST109": Classification(_P2, "response is not valid JSON"),
    "ST110": Classification(_P2, "response body cannot be deserialized"),
    "ST111": Classification(_P2, "unknown discriminator value"),
    "ST114": Classification(_P2, "null in a non-nullable GraphQL field"),
    "ST115": Classification(_P2, "unexpected GraphQL response"),
    "ST201": Classification(_P2, "schema-violating request accepted"),
    "ST202": Classification(_P2, "schema-valid request rejected"),
    "ST203": Classification(_P2, "missing required header accepted"),
    "ST206": Classification(_P2, "GraphQL client error on valid input"),
    "ST901": Classification(_P2, "custom contract check failed"),
    # P3: cosmetic — headers, content types, method handling
    "ST104": Classification(_P3, "missing Content-Type header"),
    "ST105": Classification(_P3, "undocumented Content-Type"),
    "ST106": Classification(_P3, "malformed media type"),
    "ST107": Classification(_P3, "missing documented response headers"),
    "ST204": Classification(_P3, "wrong response to an undeclared method"),
    "ST205": Classification(_P3, "Allow header does not match the declared methods"),
    # Not Schemathesis: sloguard's own validation of the description's examples
    "SG301": Classification(_P3, "example does not validate against its schema"),
}

# A check's failure when the code says nothing more specific (custom checks, a failure class a newer
# Schemathesis adds); keyed by check name.
BY_CHECK: dict[str, Classification] = {
    "ignored_auth": BY_CODE["ST401"],
    "object_level_authorization": BY_CODE["ST402"],
    "not_a_server_error": BY_CODE["ST101"],
    "use_after_free": BY_CODE["ST301"],
    "ensure_resource_availability": BY_CODE["ST302"],
    "max_response_time": BY_CODE["ST112"],
    "status_code_conformance": BY_CODE["ST103"],
    "response_schema_conformance": BY_CODE["ST108"],
    "negative_data_rejection": BY_CODE["ST201"],
    "positive_data_acceptance": BY_CODE["ST202"],
    "missing_required_header": BY_CODE["ST203"],
    "content_type_conformance": BY_CODE["ST105"],
    "response_headers_conformance": BY_CODE["ST107"],
    "unsupported_method": BY_CODE["ST204"],
    "allow_header_conformance": BY_CODE["ST205"],
}
_UNKNOWN = Classification(_P2, "contract check failed")


def classify(code: str | None, check: str) -> Classification:
    """The classification of one failure; a response header that violates its schema (ST108 raised by
    the header check) is cosmetic, like every other header problem."""
    if code == "ST108" and check == "response_headers_conformance":
        return BY_CODE["ST107"]
    return BY_CODE.get(code or "") or BY_CHECK.get(check) or _UNKNOWN


def rule_for(classification: Classification, integration: str | None) -> Rule:
    """The rule on this operation: an integration's 5xx is that integration degrading."""
    if classification.per_integration:
        return Rule.INTEGRATION_DEGRADED if integration and integration != PLATFORM else Rule.OPERATION_FAILED
    return classification.rule


def slow_is_failure(elapsed_s: float) -> bool:
    """A slow answer fails only past the monitoring plan's slow-operation line (2 s); under it, it is
    a warning — the latency SLO itself is judged over the run's p95, not one request."""
    return elapsed_s >= SLOW_OPERATION_S


def table() -> list[tuple[str, str, str, str, str]]:
    """(code, checks, severity, rule, what) rows, for the docs and `--json` consumers."""
    from schemathesis.failure_codes import FAILURE_CLASSES

    rows = []
    for cls in FAILURE_CLASSES:
        c = classify(cls.code, cls.checks[0] if cls.checks else "")
        rows.append((cls.code, ", ".join(cls.checks) or "custom", str(c.rule.severity), c.rule.name, c.title))
    return rows
