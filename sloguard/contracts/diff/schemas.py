"""Compare two JSON Schemas of one request or response, walking both in parallel.

Schemas come from `sloguard.spec.load_spec`: `$ref`s are resolved into shared objects, so a schema
used by 300 operations is one object in each description, and the pair is compared once (a memo
keyed by the two objects). A reference that would close a cycle is kept as ``{"$ref": "#/..."}``;
it is resolved against its own description here, and a pair already being compared higher up the
walk is not entered again, so recursive schemas end.

Each schema is first read into a `_View` that makes equivalent spellings equal: ``nullable: true``
(3.0), ``x-nullable`` (Swagger 2.0), ``type: [T, "null"]`` and ``anyOf: [T, {type: null}]`` (3.1)
all mean "T or null"; ``allOf`` parts are merged; ``const`` is a one-value enum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson

from .rules import BOUNDS, ZERO_BOUNDS, Effect

MAX_DEPTH = 64
_LITERALS = frozenset({"example", "default", "enum", "const", "value"})
_ANY: dict[str, Any] = {}  # what an unresolvable ref stands for: one object, so memo keys stay unique


@dataclass(frozen=True)
class Finding:
    """A change found at ``path`` below the compared schema. ``suffix`` findings become
    ``<prefix>-<name>`` (the prefix depends on where the schema sits); the others are full rule ids."""

    name: str
    path: tuple[str, ...]
    message: str
    suffix: bool = True

    def under(self, token: str) -> Finding:
        return Finding(self.name, (token, *self.path), self.message, self.suffix)


def resolve_ref(doc: Any, ref: str) -> Any:
    """The node a local ``#/...`` pointer names, following chained refs; None when it names nothing."""
    node = doc
    hops = 0
    while True:
        if not ref.startswith("#"):
            return None
        pointer = unquote(ref[1:])
        tokens = [] if pointer in ("", "/") else [
            t.replace("~1", "/").replace("~0", "~") for t in pointer.lstrip("/").split("/")]
        node = doc
        for token in tokens:
            if isinstance(node, dict):
                if token in node:
                    node = node[token]
                elif token.isdigit() and int(token) in node:
                    node = node[int(token)]
                else:
                    return None
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        hops += 1
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < MAX_DEPTH:
            ref = node["$ref"]
            continue
        return node


def deref(node: Any, doc: Any) -> Any:
    """``node`` itself, or what a kept cyclic ``$ref`` in it points to."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target = resolve_ref(doc, node["$ref"])
        return target if target is not None else _ANY
    return node


_NOTHING: frozenset[str] = frozenset()


class RefReach:
    """For every node of a loaded description, the kept ``$ref`` pointers reachable from it.

    ``==`` sees a kept cyclic ref as its pointer string, so it is exact for a subtree unless the subtree
    reaches a ref whose target differs between the two sides (directly or through further refs).
    One post-order walk; nodes reaching no ref share one empty set.
    """

    def __init__(self, doc: Any) -> None:
        self.doc = doc
        self.reach: dict[int, frozenset[str]] = {}
        self.targets: dict[str, Any] = {}
        self._walk(doc)

    def _walk(self, node: Any) -> frozenset[str]:
        key = id(node)
        found = self.reach.get(key)
        if found is not None:
            return found
        self.reach[key] = _NOTHING  # a DAG: nothing below can lead back here
        acc: set[str] | None = None
        if type(node) is dict:
            ref = node.get("$ref")
            if type(ref) is str:
                acc = {ref}
                if ref not in self.targets:
                    self.targets[ref] = resolve_ref(self.doc, ref)
            for k, v in node.items():
                if (type(v) is dict or type(v) is list) and k not in _LITERALS and not (
                        type(k) is str and k.startswith("x-")):
                    below = self._walk(v)
                    if below:
                        acc = set(below) if acc is None else acc | below
        else:
            for v in node:
                if type(v) is dict or type(v) is list:
                    below = self._walk(v)
                    if below:
                        acc = set(below) if acc is None else acc | below
        result = frozenset(acc) if acc else _NOTHING
        self.reach[key] = result
        return result


def dirty_refs(old: RefReach, new: RefReach) -> set[str]:
    """Pointers whose targets differ between the sides, or reach such a pointer."""
    dirty = {p for p in old.targets.keys() | new.targets.keys()
             if p not in old.targets or p not in new.targets or old.targets[p] != new.targets[p]}
    while dirty:
        more = {p for p, target in old.targets.items()
                if p not in dirty and old.reach.get(id(target), _NOTHING) & dirty}
        if not more:
            break
        dirty |= more
    return dirty


def show(value: Any) -> str:
    """A value as a message shows it: JSON, shortened."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(value).encode()


@dataclass
class _View:
    """What a schema allows, with equivalent spellings made equal."""

    types: frozenset[str] | None = None  # None: any type
    nullable: bool = False
    fmt: str | None = None
    enum: dict[bytes, Any] | None = None
    props: dict[str, Any] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    items: Any = None
    additional: Any = None
    bounds: dict[str, float] = field(default_factory=dict)
    pattern: str | None = None
    default: tuple[bool, Any] = (False, None)
    alternatives: tuple[str, list[Any]] | None = None


def _is_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return kind == "null" or kind == ["null"] or schema.get("enum") == [None]


def _absorb(view: _View, schema: Any, doc: Any, depth: int) -> None:
    schema = deref(schema, doc)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return
    parts = schema.get("allOf")
    for part in parts if isinstance(parts, list) else ():
        _absorb(view, part, doc, depth + 1)
    kind = schema.get("type")
    names = {kind} if isinstance(kind, str) else {str(t) for t in kind} if isinstance(kind, list) else None
    if names is not None:
        if "null" in names and len(names) > 1:
            view.nullable = True
            names.discard("null")
        view.types = frozenset(names) if view.types is None else view.types & names or frozenset(names)
    if schema.get("nullable") is True or schema.get("x-nullable") is True:
        view.nullable = True
    if isinstance(schema.get("format"), str):
        view.fmt = schema["format"]
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if isinstance(values, list):
        if None in values and len(values) > 1:
            view.nullable = True
        view.enum = {_key(v): v for v in values if v is not None} or {_key(None): None}
    if isinstance(schema.get("properties"), dict):
        view.props.update(schema["properties"])
    if isinstance(schema.get("required"), list):
        view.required.update(str(r) for r in schema["required"])
    if isinstance(schema.get("items"), dict):
        view.items = schema["items"]
    if isinstance(schema.get("additionalProperties"), dict):
        view.additional = schema["additionalProperties"]
    for bound in BOUNDS:
        value = schema.get(bound)
        if isinstance(value, int | float) and not isinstance(value, bool):
            view.bounds[bound] = value
    if isinstance(schema.get("pattern"), str):
        view.pattern = schema["pattern"]
    if "default" in schema:
        view.default = (True, schema["default"])
    for keyword, name in (("oneOf", "one-of"), ("anyOf", "any-of")):
        branches = schema.get(keyword)
        if not isinstance(branches, list):
            continue
        rest = [b for b in branches if not _is_null(deref(b, doc))]
        if len(rest) < len(branches):
            view.nullable = True
        if len(rest) == 1:
            _absorb(view, rest[0], doc, depth + 1)
        elif rest:
            view.alternatives = (name, rest)


def view_of(schema: Any, doc: Any) -> _View:
    view = _View()
    _absorb(view, schema, doc, 0)
    return view


def flag(schema: Any, doc: Any, key: str, depth: int = 0) -> bool:
    """True when ``key`` (readOnly, writeOnly, deprecated) is set on the schema or one of its allOf parts."""
    schema = deref(schema, doc)
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return False
    if schema.get(key) is True:
        return True
    parts = schema.get("allOf")
    return isinstance(parts, list) and any(flag(part, doc, key, depth + 1) for part in parts)


def _type_effect(old: frozenset[str] | None, new: frozenset[str] | None) -> Effect:
    if old == new:
        return "none"
    if old is None:
        return "narrows"
    if new is None:
        return "widens"
    wide_old = old | {"integer"} if "number" in old else old
    wide_new = new | {"integer"} if "number" in new else new
    if wide_old == wide_new:
        return "none"
    if wide_old <= wide_new:
        return "widens"
    if wide_new <= wide_old:
        return "narrows"
    return "incomparable"


_TYPE_SUFFIX = {"widens": "type-generalized", "narrows": "type-specialized", "incomparable": "type-changed"}


def _types(types: frozenset[str] | None) -> str:
    return "/".join(sorted(types)) if types else "any"


class SchemaDiffer:
    """Compares schemas of two loaded descriptions; one instance per pair of descriptions."""

    def __init__(self, old_doc: Any, new_doc: Any) -> None:
        self.docs = (old_doc, new_doc)
        self.reach: dict[int, frozenset[str]] = {}
        self.dirty: set[str] = set()
        self.trust_equal = True  # False: `==` may hide a change anywhere (the walk was too deep to index)
        if old_doc is not new_doc:
            try:
                old_refs, new_refs = RefReach(old_doc), RefReach(new_doc)
            except RecursionError:
                self.trust_equal = False
            else:
                self.reach, self.dirty = old_refs.reach, dirty_refs(old_refs, new_refs)
        self.memo: dict[tuple[int, int, str], list[Finding]] = {}
        self.active: set[tuple[int, int]] = set()

    def diff(self, old: Any, new: Any, direction: str, depth: int = 0) -> list[Finding]:
        """What changed from ``old`` to ``new``, for a ``direction`` of "request" or "response"."""
        old, new = deref(old, self.docs[0]), deref(new, self.docs[1])
        if self.same(old, new):
            return []
        key = (id(old), id(new), direction)
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        pair = key[:2]
        if pair in self.active or depth > MAX_DEPTH:
            return []
        self.active.add(pair)
        try:
            found = self._compare(view_of(old, self.docs[0]), view_of(new, self.docs[1]), direction, depth)
        finally:
            self.active.discard(pair)
        self.memo[key] = found
        return found

    def same(self, old: Any, new: Any) -> bool:
        """True when ``old`` and ``new`` are known to mean the same (identical, or equal without hidden refs)."""
        if old is new:
            return True
        if not self.trust_equal or old != new:
            return False
        return not (self.dirty and self.reach.get(id(old), _NOTHING) & self.dirty)

    def _compare(self, o: _View, n: _View, direction: str, depth: int) -> list[Finding]:
        out: list[Finding] = []
        effect = _type_effect(o.types, n.types)
        if effect != "none":
            out.append(Finding(_TYPE_SUFFIX[effect], (), f"type changed from {_types(o.types)} to {_types(n.types)}"))
        elif o.fmt != n.fmt:
            fmt_effect = "narrows" if o.fmt is None else "widens" if n.fmt is None else "incomparable"
            out.append(Finding(_TYPE_SUFFIX[fmt_effect], (), f"format changed from {o.fmt or 'none'} to "
                                                              f"{n.fmt or 'none'}"))
        if o.nullable != n.nullable:
            out.append(Finding("became-nullable" if n.nullable else "became-not-nullable", (),
                               "became nullable" if n.nullable else "is no longer nullable"))
        self._enum(o, n, out)
        self._bounds(o, n, out)
        if o.pattern != n.pattern:
            name = ("pattern-added" if o.pattern is None else "pattern-removed" if n.pattern is None
                    else "pattern-changed")
            out.append(Finding(name, (), f"pattern changed from {show(o.pattern)} to {show(n.pattern)}"))
        if o.default != n.default:
            name = ("default-value-added" if not o.default[0] else "default-value-removed" if not n.default[0]
                    else "default-value-changed")
            was = show(o.default[1]) if o.default[0] else "none"
            now = show(n.default[1]) if n.default[0] else "none"
            out.append(Finding(name, (), f"default changed from {was} to {now}"))
        if effect == "incomparable":
            return out  # an object that became a string: what was inside it no longer matters
        self._properties(o, n, direction, depth, out)
        for token, old_child, new_child in (("0", o.items, n.items), ("*", o.additional, n.additional)):
            if old_child is not None and new_child is not None:
                out.extend(f.under(token) for f in self.diff(old_child, new_child, direction, depth + 1))
        self._alternatives(o, n, direction, depth, out)
        return out

    def _enum(self, o: _View, n: _View, out: list[Finding]) -> None:
        if o.enum == n.enum:
            return
        if o.enum is None:
            out.append(Finding("became-enum", (), f"restricted to {show(list((n.enum or {}).values()))}"))
        elif n.enum is None:
            out.append(Finding("became-not-enum", (), f"no longer restricted to {show(list(o.enum.values()))}"))
        else:
            for key, value in o.enum.items():
                if key not in n.enum:
                    out.append(Finding("enum-value-removed", (), f"enum value {show(value)} removed"))
            for key, value in n.enum.items():
                if key not in o.enum:
                    out.append(Finding("enum-value-added", (), f"enum value {show(value)} added"))

    def _bounds(self, o: _View, n: _View, out: list[Finding]) -> None:
        for bound, (name, _) in BOUNDS.items():
            default = 0 if bound in ZERO_BOUNDS else None
            was, now = o.bounds.get(bound, default), n.bounds.get(bound, default)
            if was == now:
                continue
            if was is None:
                verb = "set"
            elif now is None:
                verb = "unset"
            else:
                verb = "decreased" if now < was else "increased"
            out.append(Finding(f"{name}-{verb}", (), f"{bound} changed from {show(was)} to {show(now)}"
                               if was is not None and now is not None else
                               f"{bound} set to {show(now)}" if was is None else f"{bound} {show(was)} removed"))

    def _properties(self, o: _View, n: _View, direction: str, depth: int, out: list[Finding]) -> None:
        old_doc, new_doc = self.docs
        request = direction == "request"
        # A read-only property is never sent, a write-only one never returned: neither binds that side.
        hidden = "readOnly" if request else "writeOnly"
        for name, old_prop in o.props.items():
            new_prop = n.props.get(name)
            if new_prop is None:
                if flag(old_prop, old_doc, hidden):
                    continue
                if request:
                    rid = "request-property-removed"
                else:
                    rid = "response-required-property-removed" if name in o.required else (
                        "response-optional-property-removed")
                out.append(Finding(rid, (name,), f"property {name!r} removed", suffix=False))
                continue
            if not flag(new_prop, new_doc, hidden):
                was, now = name in o.required, name in n.required
                if was != now:
                    if request:
                        rid = "request-property-became-required" if now else "request-property-became-optional"
                    else:
                        rid = "response-property-became-required" if now else "response-property-became-optional"
                    out.append(Finding(rid, (name,), f"property {name!r} became {'required' if now else 'optional'}",
                                       suffix=False))
                if flag(new_prop, new_doc, "deprecated") and not flag(old_prop, old_doc, "deprecated"):
                    out.append(Finding(f"{direction}-property-deprecated", (name,), f"property {name!r} deprecated",
                                       suffix=False))
            out.extend(f.under(name) for f in self.diff(old_prop, new_prop, direction, depth + 1))
        for name, new_prop in n.props.items():
            if name in o.props or flag(new_prop, new_doc, hidden):
                continue
            required = name in n.required
            if request:
                rid = "new-required-request-property" if required else "new-optional-request-property"
            else:
                rid = "response-required-property-added" if required else "response-optional-property-added"
            out.append(Finding(rid, (name,), f"{'required' if required else 'optional'} property {name!r} added",
                               suffix=False))

    def _alternatives(self, o: _View, n: _View, direction: str, depth: int, out: list[Finding]) -> None:
        if o.alternatives is None or n.alternatives is None or o.alternatives[0] != n.alternatives[0]:
            return
        keyword, old_list = o.alternatives
        new_list = n.alternatives[1]
        old_doc, new_doc = self.docs

        def label(branch: Any, doc: Any, index: int) -> str:
            branch = deref(branch, doc)
            title = branch.get("title") if isinstance(branch, dict) else None
            return str(title) if isinstance(title, str) and title else f"#{index}"

        old_named = {label(b, old_doc, i): b for i, b in enumerate(old_list)}
        new_named = {label(b, new_doc, i): b for i, b in enumerate(new_list)}
        for name, branch in old_named.items():
            if name in new_named:
                out.extend(self.diff(branch, new_named[name], direction, depth + 1))
            else:
                out.append(Finding(f"{keyword}-removed", (), f"{keyword} alternative {name} removed"))
        for name in new_named:
            if name not in old_named:
                out.append(Finding(f"{keyword}-added", (), f"{keyword} alternative {name} added"))
