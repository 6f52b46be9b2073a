"""What the config selects: overrides of inferred fields, and include/exclude filters over the entries."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from fnmatch import fnmatchcase
from typing import Any

from sloguard.errors import UsageError

from .model import KINDS, PLATFORM, Entry
from .naming import slugify, suggest

OVERRIDABLE = frozenset({"integration", "group", "kind", "side_effects", "success_status", "summary"})
FIELD_PATTERNS = frozenset({"integration", "kind", "group", "method", "tag"})


class CatalogError(UsageError):
    """The catalog options (filters, overrides, patterns) do not fit the description."""


def apply_overrides(entries: list[Entry], overrides: Mapping[str, Mapping[str, Any]]) -> list[Entry]:
    index = {e.operation_id: i for i, e in enumerate(entries)}
    index.update({e.label: i for i, e in enumerate(entries) if e.label not in index})
    out = list(entries)
    for key, changes in overrides.items():
        if key not in index:
            raise CatalogError(f"overrides name operation {key!r}, which the description does not have"
                               f"{suggest(key, [e.operation_id for e in entries])}; fix the operationId")
        if not isinstance(changes, Mapping):
            raise CatalogError(f"overrides for {key!r} must be a mapping of field: value")
        unknown = set(changes) - OVERRIDABLE
        if unknown:
            raise CatalogError(f"overrides for {key!r} set {', '.join(sorted(unknown))}; only "
                               f"{', '.join(sorted(OVERRIDABLE))} can be overridden")
        values = dict(changes)
        if "kind" in values and values["kind"] not in KINDS:
            raise CatalogError(f"overrides for {key!r}: kind {values['kind']!r} is not one of "
                               f"{', '.join(KINDS)}")
        if "integration" in values:
            values["integration"] = slugify(str(values["integration"])) or PLATFORM
        if "success_status" in values:
            try:
                values["success_status"] = int(values["success_status"])
            except (TypeError, ValueError):
                raise CatalogError(f"overrides for {key!r}: success_status must be a number") from None
        if "side_effects" in values:
            values["side_effects"] = bool(values["side_effects"])
        out[index[key]] = dataclasses.replace(out[index[key]], **values)
    return out


def _matches(entry: Entry, pattern: str) -> bool:
    prefix, sep, glob = pattern.partition(":")
    if sep and prefix in FIELD_PATTERNS:
        if prefix == "tag":
            return any(fnmatchcase(t, glob) or fnmatchcase(slugify(t), glob) for t in entry.tags)
        value = {"integration": entry.integration, "kind": entry.kind, "group": entry.group,
                 "method": entry.method}[prefix]
        return fnmatchcase(value, glob.upper() if prefix == "method" else glob)
    return any(fnmatchcase(candidate, pattern) for candidate in (entry.operation_id, entry.path, entry.label))


def filter_entries(entries: list[Entry], include: Collection[str],
            exclude: Collection[str]) -> tuple[list[Entry], dict[str, str]]:
    included: list[Entry] = []
    excluded: dict[str, str] = {}
    for entry in entries:
        if include and not any(_matches(entry, p) for p in include):
            excluded[entry.operation_id] = "excluded by config (not in include)"
            continue
        hit = next((p for p in exclude if _matches(entry, p)), None)
        if hit is not None:
            excluded[entry.operation_id] = f"excluded by config (exclude {hit!r})"
            continue
        included.append(entry)
    return included, excluded
