"""OpenAPI 3.0 schemas as JSON Schema, for the validators that check answers and examples against them.

OpenAPI 3.0's dialect differs from JSON Schema draft 7 in ``nullable`` and a few annotation keywords;
3.1 is JSON Schema already. Shared sub-schemas (the loader resolves ``$ref`` by sharing objects) are
converted once, through the ``memo`` the caller keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def to_json_schema(node: Any, memo: dict[int, Any]) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes a "null" alternative."""
    if isinstance(node, list):
        return [to_json_schema(item, memo) for item in node]
    if not isinstance(node, Mapping):
        return node
    key = id(node)
    if key in memo:
        return memo[key]
    out: dict[str, Any] = {}
    memo[key] = out
    for name, value in node.items():
        if name in ("example", "examples", "xml", "externalDocs", "discriminator", "nullable"):
            continue
        out[name] = to_json_schema(value, memo)
    if node.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        elif "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
            inner = {k: out.pop(k) for k in list(out) if k in ("$ref", "allOf", "oneOf", "anyOf")}
            out["anyOf"] = [inner, {"type": "null"}]
    return out


def has_ref(node: Any, seen: set[int] | None = None) -> bool:
    """Whether a (cyclic) ``$ref`` is left in the schema: then it needs the components beside it."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return False
    seen.add(id(node))
    if isinstance(node, Mapping):
        return "$ref" in node or any(has_ref(v, seen) for v in node.values())
    if isinstance(node, list):
        return any(has_ref(v, seen) for v in node)
    return False
