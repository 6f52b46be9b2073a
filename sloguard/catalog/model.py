"""What runners read: the catalog of a description's operations, its entries and their parts.

Entries say which integration an operation belongs to, what kind of operation it is (list, create, ...),
whether calling it changes state, how it authenticates, and what its request and success response look
like. Schemas in entries are the shared objects of the loaded description: read them, never mutate them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sloguard.spec import resolve_pointer

from .naming import suggest

OperationKind = Literal["list", "get", "create", "update", "delete", "search", "health", "action"]
KINDS: tuple[str, ...] = get_args(OperationKind)
PLATFORM = "platform"


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path, query, header or cookie
    required: bool
    schema: Mapping[str, Any] = field(hash=False, repr=False)
    examples: tuple[Any, ...] = field(default=(), hash=False, repr=False)
    description: str = field(default="", repr=False)


@dataclass(frozen=True)
class Body:
    """A request body or a success response: the chosen content type, its schema and its examples."""

    content_type: str
    schema: Mapping[str, Any] = field(hash=False, repr=False)
    examples: tuple[Any, ...] = field(default=(), hash=False, repr=False)
    required: bool = False
    content_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Security:
    """Security of an operation: ``alternatives`` lists each accepted combination (scheme -> scopes)."""

    required: bool
    schemes: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    alternatives: tuple[Mapping[str, tuple[str, ...]], ...] = field(default=(), hash=False)
    scheme_types: Mapping[str, str] = field(default_factory=dict, hash=False, repr=False)


@dataclass(frozen=True)
class Link:
    name: str
    operation_id: str
    parameters: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Entry:
    operation_id: str
    method: str
    path: str
    integration: str
    group: str
    kind: OperationKind
    summary: str = ""
    tags: tuple[str, ...] = ()
    auth: Security = Security(required=False)
    parameters: tuple[Parameter, ...] = ()
    request_body: Body | None = None
    success_status: int = 200
    response: Body | None = None
    side_effects: bool = False
    links: tuple[Link, ...] = ()
    deprecated: bool = False
    declared_operation_id: bool = True
    extensions: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def params_in(self, location: str) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.location == location)


@dataclass(frozen=True)
class CrudChain:
    """Operations on one resource that can run create -> get -> update -> delete with a real id."""

    integration: str
    resource: str
    collection_path: str
    item_path: str | None
    create: str
    list: str | None = None
    get: str | None = None
    update: str | None = None
    delete: str | None = None
    id_param: str | None = None
    id_pointer: str = "/id"  # where the new id is in the create response body (JSON pointer)

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(op for op in (self.create, self.list, self.get, self.update, self.delete) if op)


@dataclass(frozen=True)
class CatalogCoverage:
    total: int
    checked: int
    unchecked: Mapping[str, str]  # operationId -> why it was not checked
    by_integration: Mapping[str, tuple[int, int]]  # integration -> (checked, total)
    unknown: tuple[str, ...] = ()  # checked ids the description does not have

    @property
    def percent(self) -> float:
        return 100.0 * self.checked / self.total if self.total else 100.0


# --------------------------------------------------------------------------------------------- catalog


class Catalog:
    """The entries that runners use (after include/exclude), plus everything the description declares."""

    def __init__(self, entries: tuple[Entry, ...], *, all_entries: tuple[Entry, ...],
                 excluded: Mapping[str, str], spec: Mapping[str, Any], base_path: str = "",
                 warnings: tuple[str, ...] = ()) -> None:
        self.entries = entries
        self.all_entries = all_entries
        self.excluded = dict(excluded)
        self.spec = spec
        self.base_path = base_path
        self.warnings = warnings
        self._by_id = {e.operation_id: e for e in all_entries}
        self._by_route = {(e.method, e.path): e for e in all_entries}

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __contains__(self, operation_id: object) -> bool:
        return operation_id in self._by_id

    def __getitem__(self, operation_id: str) -> Entry:
        try:
            return self._by_id[operation_id]
        except KeyError:
            raise KeyError(f"no operation {operation_id!r}{suggest(operation_id, self._by_id)}") from None

    def __repr__(self) -> str:
        return f"<Catalog {len(self.entries)} operations, {len(self.integrations)} integrations>"

    def get(self, operation_id: str) -> Entry | None:
        return self._by_id.get(operation_id)

    def by_route(self, method: str, path: str) -> Entry | None:
        return self._by_route.get((method.upper(), path))

    @property
    def title(self) -> str:
        info = self.spec.get("info")
        return str(info.get("title", "")) if isinstance(info, Mapping) else ""

    @property
    def version(self) -> str:
        info = self.spec.get("info")
        return str(info.get("version", "")) if isinstance(info, Mapping) else ""

    @property
    def integrations(self) -> tuple[str, ...]:
        return tuple(self.by_integration())

    def by_integration(self) -> dict[str, tuple[Entry, ...]]:
        groups: dict[str, list[Entry]] = {}
        for entry in self.entries:
            groups.setdefault(entry.integration, []).append(entry)
        return {name: tuple(items) for name, items in sorted(groups.items())}

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow a kept (cyclic) ``$ref`` to its schema; other schemas come back unchanged."""
        hops = 0
        while isinstance(schema.get("$ref"), str) and hops < 32:
            target = resolve_pointer(self.spec, schema["$ref"])
            if not isinstance(target, Mapping):
                break
            schema, hops = target, hops + 1
        return schema

    def crud_chains(self) -> tuple[CrudChain, ...]:
        from .chains import crud_chains  # chains builds this module's types

        return crud_chains(self.entries, self._by_id)

    def coverage(self, checked: Collection[str], reasons: Mapping[str, str] | None = None) -> CatalogCoverage:
        """How much of the description ``checked`` covers; ``reasons`` say why the others were not run."""
        reasons = reasons or {}
        done = set(checked)
        unchecked: dict[str, str] = {}
        per: dict[str, list[int]] = {}
        for entry in self.all_entries:
            counts = per.setdefault(entry.integration, [0, 0])
            counts[1] += 1
            if entry.operation_id in done:
                counts[0] += 1
            else:
                unchecked[entry.operation_id] = (
                    reasons.get(entry.operation_id) or self.excluded.get(entry.operation_id) or "no check ran"
                )
        unknown = tuple(sorted(done - self._by_id.keys()))
        return CatalogCoverage(
            total=len(self.all_entries),
            checked=len(self.all_entries) - len(unchecked),
            unchecked=unchecked,
            by_integration={k: (v[0], v[1]) for k, v in sorted(per.items())},
            unknown=unknown,
        )
