"""The request mix: which catalog operations a virtual user calls, how often, and with what data.

Weights: each integration gets its share (``load.mix.integrations``, default 1 each), split among
its operations by ``load.mix.operations`` (operationId or "METHOD /path", globs) or else by kind
(read-heavy by default). An operation is left out, with the reason, when it needs a scope the
client lacks, writes data on a target that is not the reference platform or a sandbox, needs a
value no one can supply, or addresses ids that no list or create operation gives out.
"""

from __future__ import annotations

import bisect
import dataclasses
import fnmatch
import itertools
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from sloguard.catalog import Catalog, Entry
from sloguard.config import Config, integration_key
from sloguard.datagen import DataGenerator, resource_of

_TEMPLATE = re.compile(r"\{([^}/]+)\}")
AUTH_OPERATION = "auth · token"  # a virtual user's first token (its login)
AUTH_RENEWAL = "auth · token renewal"  # ... and each renewal before expiry


def load_target_catalog(config: Config) -> Catalog:
    """The catalog from the target's description (the one place load reads it from)."""
    from sloguard.target import load_catalog

    return load_catalog(config)


@dataclass(frozen=True)
class Operation:
    """One catalog operation as the load user calls it."""

    key: str  # operationId
    name: str  # the name in Locust's statistics: "slack · GET /api/slack/messages/{id}"
    method: str
    path: str  # template, below the description's server path
    integration: str
    kind: str
    weight: float
    expected: frozenset[int]
    id_params: tuple[tuple[str, str], ...] = ()  # (path parameter, resource it names)
    query: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    writes: bool = False
    provider: str | None = None  # the list operation that gives ids to this one
    entry: Entry | None = field(default=None, compare=False, repr=False)

    @property
    def checked(self) -> bool:
        """Whether Locust's own success rule (below 400) could disagree with the expected statuses."""
        return self.expected != frozenset({200})

    def url(self, ids: Mapping[str, Any]) -> str:
        path = _TEMPLATE.sub(lambda m: str(ids[m.group(1)]), self.path) if ids else self.path
        return path + self.query


@dataclass
class Mix:
    operations: tuple[Operation, ...]
    excluded: dict[str, str]
    data: DataGenerator
    by_key: dict[str, Operation] = field(default_factory=dict)
    _cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_key = {op.key: op for op in self.operations}
        self._cum = list(itertools.accumulate(op.weight for op in self.operations))

    def pick(self, rng: random.Random) -> Operation:
        return self.operations[bisect.bisect_left(self._cum, rng.random() * self._cum[-1])]

    def share(self, key: str) -> float:
        total = self._cum[-1] if self._cum else 0.0
        op = self.by_key.get(key)
        return op.weight / total if op is not None and total else 0.0

    def body(self, op: Operation) -> tuple[bytes | None, str | None]:
        """A fresh request body for a write (the generator's n-th value for this operation)."""
        if op.entry is None or op.entry.request_body is None:
            return None, None
        import orjson

        data = self.data.for_entry(op.entry)
        return orjson.dumps(data.body), data.content_type or "application/json"


def _weight(patterns: Mapping[str, float], entry: Entry) -> float | None:
    forms = (entry.operation_id, f"{entry.method} {entry.path}")
    for key, value in patterns.items():
        if key in forms:
            return value
    for key, value in patterns.items():
        if any(fnmatch.fnmatchcase(f, key) for f in forms):
            return value
    return None


def _json_response(entry: Entry) -> bool:
    body = entry.response
    return body is None or "json" in body.content_type


def _request_overrides(config: Config) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, o in config.catalog.overrides.items():
        sections = {name: value for name, value in (("path", o.path_params), ("query", o.query),
                                                    ("headers", o.headers), ("body", o.body)) if value}
        if sections and " " not in key and "*" not in key:
            out[key] = sections
    return out


def build_mix(config: Config, catalog: Catalog, *, writes: bool, seed: int = 0) -> Mix:
    """The weighted operations of ``catalog`` under ``config``'s load.mix, and why the rest are out."""
    mix_cfg = config.load.mix
    integration_weights = {integration_key(k): v for k, v in mix_cfg.integrations.items()}
    granted = set((config.auth.scope or "").split())
    spec_path = urlsplit(config.spec_location().url or "").path if config.spec_location().kind == "url" else ""
    base_path = urlsplit(config.target.base_url).path.rstrip("/")
    prefix = catalog.base_path if catalog.base_path and not base_path.endswith(catalog.base_path) else ""
    data = DataGenerator(catalog, overrides=_request_overrides(config), seed=seed)
    # Resources whose ids someone hands out: a list (ids of existing records) or a create (new ones).
    providers: dict[tuple[str, str], str] = {}
    creates: set[tuple[str, str]] = set()
    for entry in catalog:
        if entry.kind == "list":
            providers.setdefault((entry.integration, resource_of(entry.path)), entry.operation_id)
        elif entry.kind == "create" and writes:
            creates.add((entry.integration, resource_of(entry.path)))

    excluded: dict[str, str] = {}
    candidates: list[tuple[Entry, float, tuple[tuple[str, str], ...], str]] = []
    for entry in catalog:
        reason, id_params, query = _fit(config, entry, granted, spec_path, writes, providers, creates, data)
        weight = _weight(mix_cfg.operations, entry)
        if weight is None:
            weight = mix_cfg.kinds.get(entry.kind, 0.0)
        if reason is None and weight <= 0:
            reason = f"weight 0 (load.mix: kind {entry.kind} or the operation's own weight)"
        if reason is None and integration_weights.get(integration_key(entry.integration), 1.0) <= 0:
            reason = f"integration {entry.integration} has weight 0 in load.mix.integrations"
        if reason is not None:
            excluded[entry.operation_id] = reason
            continue
        candidates.append((entry, weight, id_params, query))

    per_integration: dict[str, float] = {}
    for entry, weight, _, _ in candidates:
        per_integration[entry.integration] = per_integration.get(entry.integration, 0.0) + weight
    operations: list[Operation] = []
    for entry, weight, id_params, query in candidates:
        share = integration_weights.get(integration_key(entry.integration), 1.0)
        override = config.catalog.override_for(entry.operation_id, entry.method, entry.path)
        expected = frozenset(override.expected_status) if override and override.expected_status else frozenset(
            {entry.success_status})
        provider = providers.get((entry.integration, id_params[-1][1])) if id_params else None
        operations.append(Operation(
            key=entry.operation_id, name=f"{entry.integration} · {entry.method} {entry.path}",
            method=entry.method, path=prefix + entry.path, integration=entry.integration, kind=entry.kind,
            weight=share * weight / per_integration[entry.integration], expected=expected,
            id_params=id_params, query=query, headers=dict(data.for_entry(entry).headers),
            writes=entry.side_effects, provider=provider, entry=entry,
        ))
    return Mix(tuple(_sourced(operations, excluded)), excluded, data)


def _sourced(operations: list[Operation], excluded: dict[str, str]) -> list[Operation]:
    """Operations whose path ids some operation in the mix hands out (a list, or a create)."""
    keys = {op.key for op in operations}
    created = {(op.integration, resource_of(op.entry.path)) for op in operations if op.kind == "create" and op.entry}
    out: list[Operation] = []
    for op in operations:
        if op.id_params:
            listed = op.provider in keys
            made = (op.integration, op.id_params[-1][1]) in created
            if not listed and not made:
                excluded[op.key] = (f"its ids come from {op.provider or 'a list or create'}, which is not in the mix "
                                    "(weight 0 or left out)")
                continue
            if not listed and op.provider:
                op = dataclasses.replace(op, provider=None)
        out.append(op)
    return out


def _fit(
    config: Config, entry: Entry, granted: set[str], spec_path: str, writes: bool,
    providers: Mapping[tuple[str, str], str], creates: set[tuple[str, str]], data: DataGenerator,
) -> tuple[str | None, tuple[tuple[str, str], ...], str]:
    """(why the operation is left out or None, its id parameters, its fixed query string)."""
    override = config.catalog.override_for(entry.operation_id, entry.method, entry.path)
    if override is not None and override.skip:
        return override.reason or "skipped by catalog.overrides", (), ""
    lacking = sorted(set(entry.auth.scopes) - granted) if entry.auth.required else []
    if lacking:
        return f"needs scope {' '.join(lacking)}, which the load client is not given (auth.scope)", (), ""
    if entry.side_effects and not writes:
        return ("writes data: load writes only against the reference platform or a sandbox "
                "(target.environment), and not with --read-only"), (), ""
    if spec_path and entry.path == spec_path:
        return "the API description itself, not user traffic", (), ""
    if not _json_response(entry):
        return f"answers {entry.response.content_type if entry.response else '?'}, not an API response", (), ""
    given = override.path_params if override is not None else {}
    id_params: list[tuple[str, str]] = []
    for name in _TEMPLATE.findall(entry.path):
        if name in given:
            continue
        resource = resource_of(entry.path, name)
        if (entry.integration, resource) not in providers and (entry.integration, resource) not in creates:
            return f"no list or create operation gives ids for path parameter {name}", (), ""
        id_params.append((name, resource))
    request = data.for_entry(entry)
    for p in entry.parameters:
        if p.required and p.location in ("query", "header") and request.sources.get(
                f"{p.location}.{p.name}") == "generated":
            return (f"needs a value for required {p.location} parameter {p.name} (no example): give one in "
                    "catalog.overrides"), (), ""
    query = ("?" + urlencode(request.query, doseq=True)) if request.query else ""
    return None, tuple(id_params), query
