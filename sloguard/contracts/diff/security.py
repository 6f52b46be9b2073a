"""Compare who may call an operation: its security requirements, and the schemes they name.

Requirements are compared per operation on the list that applies to it (its own ``security``, else
the document's), so a change to the top-level list is reported on every operation that inherits it.
A requirement is matched by the set of scheme names it combines; within it, scopes are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .schemas import show

Add = Callable[[str, str, str, str], None]  # (rule id, operation, location, message)
Requirements = list[dict[str, frozenset[str]]]


def requirements(op: Mapping[str, Any], doc: Mapping[str, Any]) -> Requirements | None:
    """The requirement alternatives that apply (the operation's, else the document's); None: public."""
    raw = op["security"] if "security" in op else doc.get("security")
    alternatives: Requirements = []
    for requirement in raw if isinstance(raw, list) else ():
        if not isinstance(requirement, Mapping):
            continue
        if not requirement:
            return None  # an empty requirement: anonymous callers are allowed
        alternatives.append({str(k): frozenset(str(s) for s in v or ()) for k, v in requirement.items()})
    return alternatives or None


def _label(alternative: Mapping[str, frozenset[str]]) -> str:
    return " + ".join(f"{name}{' [' + ', '.join(sorted(s)) + ']' if s else ''}" for name, s in
                      sorted(alternative.items()))


def compare_requirements(add: Add, label: str, before: Requirements | None, after: Requirements | None) -> None:
    if before == after:
        return
    if before is None or after is None:
        if after is not None:
            add("api-security-now-required", label, "security",
                f"credentials now required ({' or '.join(_label(a) for a in after)})")
        elif before is not None:
            add("api-security-no-longer-required", label, "security",
                f"no credentials required any more (was {' or '.join(_label(a) for a in before)})")
        return
    old_alts = {frozenset(a): a for a in before}
    new_alts = {frozenset(a): a for a in after}
    for names, alt in old_alts.items():
        now = new_alts.get(names)
        if now is None:
            add("api-security-removed", label, "security", f"{_label(alt)} no longer accepted")
            continue
        for scheme in sorted(names):
            for scope in sorted(now[scheme] - alt[scheme]):
                add("api-security-scope-added", label, "security", f"{scheme} now needs scope {scope!r}")
            for scope in sorted(alt[scheme] - now[scheme]):
                add("api-security-scope-removed", label, "security", f"{scheme} no longer needs scope {scope!r}")
    for names, alt in new_alts.items():
        if names not in old_alts:
            add("api-security-added", label, "security", f"{_label(alt)} now accepted too")


def compare_schemes(add: Add, old_doc: Mapping[str, Any], new_doc: Mapping[str, Any]) -> None:
    """Security schemes in components: how credentials are sent, OAuth URLs and scopes."""
    before, after = _schemes(old_doc), _schemes(new_doc)
    for name, old in before.items():
        where = f"components securitySchemes {name}"
        new = after.get(name)
        if new is None:
            add("api-security-component-removed", "", where, f"security scheme {name!r} removed")
            continue
        for key in ("type", "scheme", "in", "name", "openIdConnectUrl"):
            if str(old.get(key, "")).lower() != str(new.get(key, "")).lower():
                add("api-security-component-type-changed", "", where,
                    f"{key} changed from {show(old.get(key))} to {show(new.get(key))}")
        for flow, old_flow, new_flow in _flows(old, new):
            for key, rule_id in (("tokenUrl", "api-security-component-oauth-token-url-changed"),
                                 ("authorizationUrl", "api-security-component-oauth-url-changed")):
                if old_flow.get(key) != new_flow.get(key):
                    add(rule_id, "", where,
                        f"{flow} {key} changed from {show(old_flow.get(key))} to {show(new_flow.get(key))}")
            old_scopes, new_scopes = _names(old_flow.get("scopes")), _names(new_flow.get("scopes"))
            for scope in sorted(new_scopes - old_scopes):
                add("api-security-component-oauth-scope-added", "", where, f"{flow} scope {scope!r} added")
            for scope in sorted(old_scopes - new_scopes):
                add("api-security-component-oauth-scope-removed", "", where, f"{flow} scope {scope!r} removed")
    for name in after:
        if name not in before:
            add("api-security-component-added", "", f"components securitySchemes {name}",
                f"security scheme {name!r} added")


def _names(value: Any) -> set[str]:
    return {str(k) for k in value} if isinstance(value, Mapping) else set()


def _schemes(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    components = doc.get("components")
    schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
    if not isinstance(schemes, Mapping):
        return {}
    return {str(k): v for k, v in schemes.items() if isinstance(v, Mapping)}


def _flows(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any],
                                                                              Mapping[str, Any]]]:
    old_flows, new_flows = old.get("flows"), new.get("flows")
    if not isinstance(old_flows, Mapping) or not isinstance(new_flows, Mapping):
        return
    for name, flow in old_flows.items():
        other = new_flows.get(name)
        if isinstance(flow, Mapping) and isinstance(other, Mapping):
            yield str(name), flow, other
