"""The catalogue of change rules: each rule id says whether a change breaks clients and how urgent it is.

Rule ids follow oasdiff's checker where it has the same rule (``api-removed-without-deprecation``,
``response-property-enum-value-added``, ...), so a team that knows one tool reads the other;
docs/contracts.md lists which ids are oasdiff's and which of its rules are not covered.

Severity policy (DESIGN.md section 7, docs/contracts.md): a change that makes existing clients fail
for certain (a removed operation or success status, a new required input, an auth change) is P1; any
other breaking change is P2 CONTRACT_DRIFT; a compatible change is P3, except the two a reviewer
should see sooner (an operation that no longer needs credentials, a new ``info.version``: P2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sloguard.severity import Severity

Level = Literal["error", "warning", "info"]
Kind = Literal["operation", "parameter", "request-body", "response", "security", "components", "info"]
Effect = Literal["narrows", "widens", "incomparable", "none"]


@dataclass(frozen=True)
class ChangeRule:
    """One kind of change. ``level`` mirrors oasdiff's ERR / WARN / INFO."""

    id: str
    kind: Kind
    level: Level
    breaking: bool
    severity: Severity
    summary: str


RULES: dict[str, ChangeRule] = {}

# Breaking changes that make existing clients fail for certain: P1.
_P1 = frozenset({
    "api-removed-without-deprecation", "response-success-status-removed", "new-required-request-parameter",
    "new-required-request-property", "request-parameter-became-required", "request-property-became-required",
    "request-body-added-required", "request-body-became-required", "api-security-removed",
    "api-security-now-required", "api-security-scope-added", "api-security-component-type-changed",
})
# Compatible changes a reviewer should see at P2 (DESIGN.md: "a new platform version seen").
_P2_NON_BREAKING = frozenset({"api-security-no-longer-required", "api-version-changed"})
# Potentially breaking changes oasdiff reports at WARN: breaking here too, at level "warning".
_WARN_BREAKING = frozenset({
    "request-parameter-removed", "request-property-removed", "response-optional-property-removed",
    "optional-response-header-removed", "response-property-enum-value-added", "response-body-enum-value-added",
    "response-header-enum-value-added", "response-property-became-not-enum", "response-body-became-not-enum",
    "response-header-became-not-enum", "request-parameter-pattern-changed", "request-property-pattern-changed",
    "request-body-pattern-changed", "response-property-pattern-changed", "response-body-pattern-changed",
    "response-header-pattern-changed",
})


def _add(rule_id: str, kind: Kind, breaking: bool, summary: str, *, warn: bool = False) -> None:
    if rule_id in _P1:
        severity = Severity.P1
    elif breaking or rule_id in _P2_NON_BREAKING:
        severity = Severity.P2
    else:
        severity = Severity.P3
    level: Level = "warning" if warn or rule_id in _WARN_BREAKING else "error" if breaking else "info"
    RULES[rule_id] = ChangeRule(rule_id, kind, level, breaking, severity, summary)


def rule(rule_id: str) -> ChangeRule:
    """The rule with this id; a KeyError is a bug in the differ, never user input."""
    return RULES[rule_id]


# ------------------------------------------------------------------------------------ operations

_add("api-removed-without-deprecation", "operation", True, "an operation was removed without being deprecated first")
_add("api-removed-with-deprecation", "operation", False, "a deprecated operation was removed")
_add("endpoint-added", "operation", False, "an operation was added")
_add("endpoint-deprecated", "operation", False, "an operation was deprecated", warn=True)
_add("endpoint-reactivated", "operation", False, "an operation is no longer deprecated")
_add("api-operation-id-removed", "operation", False, "the operationId changed or was removed")
_add("api-operation-id-added", "operation", False, "an operationId was added")
_add("api-tag-removed", "operation", False, "a tag was removed from an operation")
_add("api-tag-added", "operation", False, "a tag was added to an operation")
_add("api-summary-changed", "operation", False, "the summary of an operation changed")
_add("api-description-changed", "operation", False, "the description of an operation changed")

# ------------------------------------------------------------------------------------ parameters

_add("new-required-request-parameter", "parameter", True, "a required parameter was added")
_add("new-optional-request-parameter", "parameter", False, "an optional parameter was added")
_add("request-parameter-removed", "parameter", True, "a parameter was removed without being deprecated first")
_add("request-parameter-removed-with-deprecation", "parameter", False, "a deprecated parameter was removed")
_add("request-parameter-became-required", "parameter", True, "an optional parameter became required")
_add("request-parameter-became-optional", "parameter", False, "a required parameter became optional")
_add("request-parameter-moved", "parameter", True, "a parameter moved to another location (query, header, ...)")
_add("request-parameter-deprecated", "parameter", False, "a parameter was deprecated", warn=True)
_add("request-parameter-reactivated", "parameter", False, "a parameter is no longer deprecated")

# ---------------------------------------------------------------------------------- request body

_add("request-body-added-required", "request-body", True, "a required request body was added")
_add("request-body-added-optional", "request-body", False, "an optional request body was added")
_add("request-body-removed", "request-body", True, "the request body was removed")
_add("request-body-became-required", "request-body", True, "the request body became required")
_add("request-body-became-optional", "request-body", False, "the request body became optional")
_add("request-body-media-type-removed", "request-body", True, "a request media type is no longer accepted")
_add("request-body-media-type-added", "request-body", False, "a request media type was added")
_add("new-required-request-property", "request-body", True, "a required request property was added")
_add("new-optional-request-property", "request-body", False, "an optional request property was added")
_add("request-property-removed", "request-body", True, "a request property was removed")
_add("request-property-became-required", "request-body", True, "an optional request property became required")
_add("request-property-became-optional", "request-body", False, "a required request property became optional")
_add("request-property-deprecated", "request-body", False, "a request property was deprecated", warn=True)

# -------------------------------------------------------------------------------------- responses

_add("response-success-status-removed", "response", True, "a success status code was removed")
_add("response-success-status-added", "response", False, "a success status code was added")
_add("response-non-success-status-removed", "response", False, "an error status code was removed")
_add("response-non-success-status-added", "response", False, "an error status code was added")
_add("response-media-type-removed", "response", True, "a response media type is no longer produced")
_add("response-media-type-added", "response", False, "a response media type was added")
_add("response-required-property-removed", "response", True, "a required response property was removed")
_add("response-optional-property-removed", "response", True, "an optional response property was removed")
_add("response-required-property-added", "response", False, "a required response property was added")
_add("response-optional-property-added", "response", False, "an optional response property was added")
_add("response-property-became-optional", "response", True, "a required response property became optional")
_add("response-property-became-required", "response", False, "an optional response property became required")
_add("response-property-deprecated", "response", False, "a response property was deprecated", warn=True)
_add("required-response-header-removed", "response", True, "a required response header was removed")
_add("optional-response-header-removed", "response", True, "an optional response header was removed")
_add("response-header-added", "response", False, "a response header was added")
_add("response-header-became-optional", "response", True, "a required response header became optional")

# --------------------------------------------------------------------------------------- security

_add("api-security-now-required", "security", True, "an operation that needed no credentials now needs them")
_add("api-security-no-longer-required", "security", False, "an operation no longer needs credentials")
_add("api-security-removed", "security", True, "a way of authenticating an operation was removed")
_add("api-security-added", "security", False, "another way of authenticating an operation was added")
_add("api-security-scope-added", "security", True, "an operation needs another OAuth scope")
_add("api-security-scope-removed", "security", False, "an operation needs one OAuth scope less")
_add("api-security-component-type-changed", "security", True,
     "a security scheme sends credentials differently (type, HTTP scheme, API key name or location)")
_add("api-security-component-oauth-token-url-changed", "security", False, "an OAuth token URL changed")
_add("api-security-component-oauth-url-changed", "security", False, "an OAuth authorization URL changed")
_add("api-security-component-oauth-scope-added", "security", False, "a security scheme offers another scope")
_add("api-security-component-oauth-scope-removed", "security", False, "a security scheme offers one scope less")
_add("api-security-component-added", "security", False, "a security scheme was added")
_add("api-security-component-removed", "security", False, "a security scheme was removed")

# ------------------------------------------------------------------------------ components, info

_add("api-schema-removed", "components", False, "a schema was removed from components")
_add("webhook-removed", "components", True, "a webhook the API calls was removed")
_add("webhook-added", "components", False, "a webhook was added")
_add("api-version-changed", "info", False, "info.version changed (a new platform version)")
_add("api-version-not-bumped", "info", False, "a breaking change was found but info.version did not change")

# ------------------------------------------------------------------- schema rules, per prefix
# A schema change is named <prefix>-<suffix>: the prefix says where the schema is, the suffix what
# changed. Whether it breaks clients follows from the direction: a request schema that accepts less
# (narrows) breaks senders; a response schema that may hold more (widens) breaks readers.

SCHEMA_PREFIXES: dict[str, tuple[Kind, str]] = {
    "request-parameter": ("parameter", "request"),
    "request-body": ("request-body", "request"),
    "request-property": ("request-body", "request"),
    "response-body": ("response", "response"),
    "response-property": ("response", "response"),
    "response-header": ("response", "response"),
}
# Bound keywords: (name in rule ids, True for an upper bound).
BOUNDS: dict[str, tuple[str, bool]] = {
    "maximum": ("max", True), "minimum": ("min", False), "maxLength": ("max-length", True),
    "minLength": ("min-length", False), "maxItems": ("max-items", True), "minItems": ("min-items", False),
    # OpenAPI 3.1 numbers; the 3.0 booleans are not compared.
    "exclusiveMaximum": ("exclusive-max", True), "exclusiveMinimum": ("exclusive-min", False),
}
ZERO_BOUNDS = frozenset({"minLength", "minItems"})
SCHEMA_SUFFIXES: dict[str, tuple[Effect, str]] = {
    "type-changed": ("incomparable", "the type changed"),
    "type-generalized": ("widens", "the type was widened"),
    "type-specialized": ("narrows", "the type was narrowed"),
    "became-nullable": ("widens", "became nullable"),
    "became-not-nullable": ("narrows", "became not nullable"),
    "became-enum": ("narrows", "was restricted to a list of enum values"),
    "became-not-enum": ("widens", "is no longer restricted to a list of enum values"),
    "enum-value-added": ("widens", "an enum value was added"),
    "enum-value-removed": ("narrows", "an enum value was removed"),
    "pattern-added": ("narrows", "a pattern was added"),
    "pattern-removed": ("widens", "the pattern was removed"),
    "pattern-changed": ("incomparable", "the pattern changed"),
    "one-of-added": ("widens", "a oneOf alternative was added"),
    "one-of-removed": ("narrows", "a oneOf alternative was removed"),
    "any-of-added": ("widens", "an anyOf alternative was added"),
    "any-of-removed": ("narrows", "an anyOf alternative was removed"),
    "default-value-added": ("none", "a default value was added"),
    "default-value-removed": ("none", "the default value was removed"),
    "default-value-changed": ("none", "the default value changed"),
}
for _key, (_name, _upper) in BOUNDS.items():
    _tighter, _looser = ("decreased", "increased") if _upper else ("increased", "decreased")
    SCHEMA_SUFFIXES[f"{_name}-{_tighter}"] = ("narrows", f"{_name} tightened")
    SCHEMA_SUFFIXES[f"{_name}-{_looser}"] = ("widens", f"{_name} relaxed")
    if _key not in ZERO_BOUNDS:  # minLength/minItems: absent means 0, so only increased/decreased
        SCHEMA_SUFFIXES[f"{_name}-set"] = ("narrows", f"{_name} set")
        SCHEMA_SUFFIXES[f"{_name}-unset"] = ("widens", f"{_name} removed")


def breaks(effect: Effect, direction: str) -> bool:
    """A narrower request or a wider response breaks clients; an incomparable change breaks both."""
    if effect == "incomparable":
        return True
    return effect == ("narrows" if direction == "request" else "widens")


for _prefix, (_kind, _direction) in SCHEMA_PREFIXES.items():
    for _suffix, (_effect, _text) in SCHEMA_SUFFIXES.items():
        _add(f"{_prefix}-{_suffix}", _kind, breaks(_effect, _direction), f"{_prefix.replace('-', ' ')}: {_text}")
