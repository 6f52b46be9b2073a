"""Request data for an operation: config overrides, then real ids, then the spec's examples, then generated."""

from __future__ import annotations

import copy
import difflib
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sloguard.catalog import Catalog, Entry, Parameter
from sloguard.errors import UsageError

from .ids import PATH_TEMPLATE, IdPool, resource_of
from .values import Resolver, SchemaValues

OVERRIDE_SECTIONS = frozenset({"path", "query", "headers", "body"})
ALL_OPERATIONS = "*"


@dataclass
class RequestData:
    """Everything needed to call one operation; ``sources`` says where each value came from."""

    url_path: str
    path_params: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # "path.id" -> override|pool|example|generated

    @property
    def ids_missing(self) -> tuple[str, ...]:
        """Path parameters that no override or earlier response provided (a call would likely 404)."""
        return tuple(key.split(".", 1)[1] for key, source in self.sources.items()
                     if key.startswith("path.") and source not in ("override", "pool"))


def _check_overrides(overrides: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    checked: dict[str, Mapping[str, Any]] = {}
    for op_id, sections in overrides.items():
        if not isinstance(sections, Mapping):
            raise UsageError(f"request data for {op_id!r} must be a mapping with path/query/headers/body")
        unknown = set(sections) - OVERRIDE_SECTIONS
        if unknown:
            raise UsageError(f"request data for {op_id!r} has {', '.join(sorted(unknown))}; use "
                             f"{', '.join(sorted(OVERRIDE_SECTIONS))}")
        for section in ("path", "query", "headers"):
            if section in sections and not isinstance(sections[section], Mapping):
                raise UsageError(f"request data for {op_id!r}: {section} must be a mapping of name: value")
        checked[str(op_id)] = sections
    return checked


class DataGenerator:
    """Builds `RequestData` for catalog entries.

    ``overrides`` maps an operationId (or ``"*"`` for every operation) to ``path``/``query``/``headers``
    mappings and a ``body``; they win over everything (a mapping body is merged over the generated one).
    """

    def __init__(self, catalog: Catalog | None = None, *, seed: int = 0,
                 overrides: Mapping[str, Mapping[str, Any]] | None = None, all_fields: bool = False,
                 max_depth: int = 4, locale: str = "en_US") -> None:
        self.catalog = catalog
        self.seed = seed
        self.overrides = _check_overrides(overrides or {})
        resolve: Resolver | None = catalog.resolve if catalog is not None else None
        self.values = SchemaValues(resolve, seed=seed, all_fields=all_fields, max_depth=max_depth,
                                   locale=locale)
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()
        if catalog is not None:
            missing = [op for op in self.overrides if op != ALL_OPERATIONS and op not in catalog]
            if missing:
                known = [e.operation_id for e in catalog.all_entries]
                close = difflib.get_close_matches(missing[0], known, n=3)
                hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
                raise UsageError(f"request data names operation {missing[0]!r}, which the description does "
                                 f"not have{hint}; fix the operationId")

    def for_entry(self, entry: Entry, ids: IdPool | None = None) -> RequestData:
        with self._lock:
            n = self._calls.get(entry.operation_id, 0)
            self._calls[entry.operation_id] = n + 1
            self.values.reseed(zlib.crc32(f"{self.seed}:{entry.operation_id}:{n}".encode()))
            return self._build(entry, ids)

    def _override(self, entry: Entry, section: str) -> tuple[bool, Any]:
        merged: dict[str, Any] = {}
        found = False
        for key in (ALL_OPERATIONS, entry.operation_id):
            sections = self.overrides.get(key)
            if sections is not None and section in sections:
                found = True
                value = sections[section]
                if section == "body" and not isinstance(value, Mapping):
                    return True, copy.deepcopy(value)
                merged.update(copy.deepcopy(dict(value)))
        return found, merged

    def _param(self, entry: Entry, p: Parameter, ids: IdPool | None, data: RequestData,
               given: Mapping[str, Any]) -> tuple[bool, Any]:
        key = f"{p.location}.{p.name}"
        if p.name in given:
            data.sources[key] = "override"
            return True, given[p.name]
        if p.location == "path" and ids is not None:
            pooled = ids.latest(entry.integration, resource_of(entry.path, p.name))
            if pooled is not None:
                data.sources[key] = "pool"
                return True, pooled
        if not p.required:
            return False, None
        if p.examples:
            data.sources[key] = "example"
            return True, copy.deepcopy(p.examples[0])
        has_example, example = self.values.example_of(p.schema) if p.schema else (False, None)
        data.sources[key] = "example" if has_example else "generated"
        if has_example:
            return True, example
        return True, self.values.value(p.schema or {"type": "string"}, name=p.name, depth=1)

    def _build(self, entry: Entry, ids: IdPool | None) -> RequestData:
        data = RequestData(url_path=entry.path)
        sections = {s: self._override(entry, s)[1] for s in ("path", "query", "headers")}
        for p in entry.parameters:
            wanted, value = self._param(entry, p, ids, data, sections.get(_section(p.location), {}))
            if not wanted:
                continue
            if p.location == "path":
                data.path_params[p.name] = value
            elif p.location == "query":
                data.query[p.name] = value
            elif p.location == "header":
                data.headers[p.name] = str(value)
        for name in PATH_TEMPLATE.findall(entry.path):  # a template the description forgot to declare
            if name not in data.path_params:
                given = sections["path"]
                pooled = ids.latest(entry.integration, resource_of(entry.path, name)) if ids else None
                data.path_params[name] = given.get(name, pooled if pooled is not None else "1")
                data.sources[f"path.{name}"] = ("override" if name in given else
                                                "pool" if pooled is not None else "generated")
        for section, target in (("query", data.query), ("headers", data.headers)):
            for name, value in sections[section].items():
                if name not in target:
                    target[name] = value if section == "query" else str(value)
                    data.sources[f"{'header' if section == 'headers' else 'query'}.{name}"] = "override"
        data.body, data.content_type = self._body(entry, data)
        data.url_path = PATH_TEMPLATE.sub(
            lambda m: quote(str(data.path_params.get(m.group(1), "")), safe=""), entry.path)
        return data

    def _body(self, entry: Entry, data: RequestData) -> tuple[Any, str | None]:
        body = entry.request_body
        has_override, override = self._override(entry, "body")
        if body is None and not has_override:
            return None, None
        content_type = body.content_type if body else "application/json"
        if has_override and not isinstance(override, Mapping):
            data.sources["body"] = "override"
            return override, content_type
        if body is None:
            value: Any = {}
        elif body.examples:
            value = copy.deepcopy(body.examples[0])
            data.sources["body"] = "example"
        else:
            value = self.values.value(body.schema) if body.schema else {}
            data.sources["body"] = "generated"
        if has_override:
            value = {**value, **override} if isinstance(value, Mapping) else override
            data.sources["body"] = "override"
        return value, content_type


def _section(location: str) -> str:
    return {"path": "path", "query": "query", "header": "headers"}.get(location, "")
