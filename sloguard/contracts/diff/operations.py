"""Compare two loaded descriptions operation by operation: parameters, bodies, responses, security.

Operations are matched by method and path template with parameter names blanked out
(``/pets/{id}`` is ``/pets/{petId}``), under the first server's base path (so a Swagger 2.0
``basePath`` and an OpenAPI 3 ``servers`` URL line up). Path parameters are matched by position,
so renaming one is not a change; other parameters by location and name (headers case-insensitively).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sloguard.spec import base_path

from .model import Change
from .schemas import SchemaDiffer, deref, show
from .security import compare_requirements, compare_schemes, requirements

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TEMPLATE = re.compile(r"\{([^}/]*)\}")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})  # OpenAPI: described elsewhere


@dataclass(frozen=True)
class _Operation:
    method: str
    path: str
    op: Mapping[str, Any]
    item: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def path_names(self) -> list[str]:
        return _TEMPLATE.findall(self.path)


def operations(doc: Mapping[str, Any]) -> dict[tuple[str, str], _Operation]:
    """Every operation of a description, keyed by (method, path template with blank parameter names)."""
    base = base_path(doc)
    out: dict[tuple[str, str], _Operation] = {}
    paths = doc.get("paths")
    for path, item in (paths.items() if isinstance(paths, Mapping) else ()):
        if not isinstance(item, Mapping):
            continue
        full = f"{base}{path}" if base and not str(path).startswith(base + "/") else str(path)
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                out[(method, _TEMPLATE.sub("{}", full))] = _Operation(method, full, op, item)
    return out


def _media_type(name: Any) -> str:
    return str(name).split(";", 1)[0].strip().lower()


def _content(obj: Any) -> dict[str, Mapping[str, Any]]:
    content = obj.get("content") if isinstance(obj, Mapping) else None
    if not isinstance(content, Mapping):
        return {}
    return {_media_type(k): v if isinstance(v, Mapping) else {} for k, v in content.items()}


def _body_label(where: str, media: str) -> str:
    return where if media == "application/json" else f"{where} ({media})"


def _parameters(operation: _Operation) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Parameters by (location, key): path ones by position, headers case-insensitively."""
    names = operation.path_names
    merged: dict[tuple[str, str], Mapping[str, Any]] = {}
    for source in (operation.item.get("parameters"), operation.op.get("parameters")):
        for p in source if isinstance(source, list) else ():
            if not isinstance(p, Mapping) or not isinstance(p.get("name"), str):
                continue
            where, name = str(p.get("in", "")), p["name"]
            if where == "header" and name.lower() in _IGNORED_HEADERS:
                continue
            if where == "path":
                key = str(names.index(name)) if name in names else name
            else:
                key = name.lower() if where == "header" else name
            merged[(where, key)] = p
    return merged


def _param_schema(p: Mapping[str, Any]) -> Any:
    schema = p.get("schema")
    if schema is None:
        for media in _content(p).values():
            return media.get("schema")
    return schema


def _is_success(status: str) -> bool:
    return status.startswith("2")


class Differ:
    """Compares two loaded descriptions; `run` returns every change, unsorted."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.schemas = SchemaDiffer(old, new)
        self.changes: list[Change] = []

    def add(self, rule_id: str, operation: str, location: str, message: str) -> None:
        self.changes.append(Change.of(rule_id, operation, location, message))

    def run(self) -> list[Change]:
        old_ops, new_ops = operations(self.old), operations(self.new)
        for key, old_op in old_ops.items():
            new_op = new_ops.get(key)
            if new_op is None:
                if old_op.op.get("deprecated") is True:
                    self.add("api-removed-with-deprecation", old_op.label, "operation", "deprecated operation removed")
                else:
                    self.add("api-removed-without-deprecation", old_op.label, "operation",
                             "operation removed without being deprecated first")
            else:
                self._operation(old_op, new_op)
        for key, new_op in new_ops.items():
            if key not in old_ops:
                self.add("endpoint-added", new_op.label, "operation", "operation added")
        compare_schemes(self.add, self.old, self.new)
        self._components_and_info()
        return self.changes

    # ---------------------------------------------------------------------------------- schema

    def schema(self, old: Any, new: Any, direction: str, prefixes: tuple[str, str], label: str,
               where: str) -> None:
        root, nested = prefixes
        for f in self.schemas.diff(old if old is not None else {}, new if new is not None else {}, direction):
            rule_id = f.name if not f.suffix else f"{nested if f.path else root}-{f.name}"
            pointer = "/" + "/".join(t.replace("~", "~0").replace("/", "~1") for t in f.path) if f.path else ""
            self.add(rule_id, label, f"{where} {pointer}".rstrip(), f.message)

    # ------------------------------------------------------------------------------- operation

    def _operation(self, old: _Operation, new: _Operation) -> None:
        label = new.label
        compare_requirements(self.add, new.label, requirements(old.op, self.old), requirements(new.op, self.new))
        same = self.schemas.same
        if same(old.op, new.op) and same(old.item.get("parameters"), new.item.get("parameters")):
            return
        was_deprecated, deprecated = old.op.get("deprecated") is True, new.op.get("deprecated") is True
        if deprecated and not was_deprecated:
            self.add("endpoint-deprecated", label, "operation", "operation deprecated")
        elif was_deprecated and not deprecated:
            self.add("endpoint-reactivated", label, "operation", "operation no longer deprecated")
        old_id, new_id = old.op.get("operationId"), new.op.get("operationId")
        if old_id != new_id:
            if old_id:
                self.add("api-operation-id-removed", label, "operation",
                         f"operationId {show(old_id)} replaced by {show(new_id) if new_id else 'none'}")
            else:
                self.add("api-operation-id-added", label, "operation", f"operationId {show(new_id)} added")
        old_tags, new_tags = _strings(old.op.get("tags")), _strings(new.op.get("tags"))
        for tag in sorted(old_tags - new_tags):
            self.add("api-tag-removed", label, "operation", f"tag {show(tag)} removed")
        for tag in sorted(new_tags - old_tags):
            self.add("api-tag-added", label, "operation", f"tag {show(tag)} added")
        for key in ("summary", "description"):
            if (old.op.get(key) or "") != (new.op.get(key) or ""):
                self.add(f"api-{key}-changed", label, "operation", f"{key} changed")
        self._parameters(old, new)
        self._request_body(old.op.get("requestBody"), new.op.get("requestBody"), label)
        self._responses(old.op.get("responses"), new.op.get("responses"), label)

    def _parameters(self, old: _Operation, new: _Operation) -> None:
        label = new.label
        before, after = _parameters(old), _parameters(new)
        removed = {k: p for k, p in before.items() if k not in after}
        added = {k: p for k, p in after.items() if k not in before}
        for old_key, p in list(removed.items()):
            moved = next((k for k in added if k[0] != "path" and old_key[0] != "path" and
                          k[1].lower() == old_key[1].lower()), None)
            if moved is not None:
                self.add("request-parameter-moved", label, f"{old_key[0]} parameter {p['name']}",
                         f"parameter {p['name']!r} moved from {old_key[0]} to {moved[0]}")
                del removed[old_key], added[moved]
        for (where, _), p in removed.items():
            if p.get("deprecated") is True:
                self.add("request-parameter-removed-with-deprecation", label, f"{where} parameter {p['name']}",
                         "deprecated parameter removed")
            else:
                self.add("request-parameter-removed", label, f"{where} parameter {p['name']}",
                         "parameter removed without being deprecated first")
        for (where, _), p in added.items():
            required = where == "path" or p.get("required") is True
            self.add("new-required-request-parameter" if required else "new-optional-request-parameter", label,
                     f"{where} parameter {p['name']}", f"{'required' if required else 'optional'} parameter added")
        for key, old_p in before.items():
            new_p = after.get(key)
            if new_p is None or self.schemas.same(old_p, new_p):
                continue
            where = f"{key[0]} parameter {new_p['name']}"
            was, now = key[0] == "path" or old_p.get("required") is True, key[0] == "path" or (
                new_p.get("required") is True)
            if was != now:
                self.add("request-parameter-became-required" if now else "request-parameter-became-optional",
                         label, where, f"parameter became {'required' if now else 'optional'}")
            if new_p.get("deprecated") is True and old_p.get("deprecated") is not True:
                self.add("request-parameter-deprecated", label, where, "parameter deprecated")
            elif old_p.get("deprecated") is True and new_p.get("deprecated") is not True:
                self.add("request-parameter-reactivated", label, where, "parameter no longer deprecated")
            self.schema(_param_schema(old_p), _param_schema(new_p), "request",
                        ("request-parameter", "request-parameter"), label, where)

    def _request_body(self, old: Any, new: Any, label: str) -> None:
        old, new = deref(old, self.old), deref(new, self.new)
        has_old, has_new = isinstance(old, Mapping) and bool(old), isinstance(new, Mapping) and bool(new)
        if not has_old and not has_new:
            return
        if not has_old:
            required = new.get("required") is True
            self.add("request-body-added-required" if required else "request-body-added-optional", label,
                     "request body", f"{'required' if required else 'optional'} request body added")
            return
        if not has_new:
            self.add("request-body-removed", label, "request body", "request body removed")
            return
        was, now = old.get("required") is True, new.get("required") is True
        if was != now:
            self.add("request-body-became-required" if now else "request-body-became-optional", label,
                     "request body", f"request body became {'required' if now else 'optional'}")
        old_media, new_media = _content(old), _content(new)
        for media, obj in old_media.items():
            if media not in new_media:
                self.add("request-body-media-type-removed", label, _body_label("request body", media),
                         f"media type {media} no longer accepted")
                continue
            self.schema(obj.get("schema"), new_media[media].get("schema"), "request",
                        ("request-body", "request-property"), label, _body_label("request body", media))
        for media in new_media:
            if media not in old_media:
                self.add("request-body-media-type-added", label, _body_label("request body", media),
                         f"media type {media} added")

    def _responses(self, old: Any, new: Any, label: str) -> None:
        old_map = {str(k): deref(v, self.old) for k, v in old.items()} if isinstance(old, Mapping) else {}
        new_map = {str(k): deref(v, self.new) for k, v in new.items()} if isinstance(new, Mapping) else {}
        for status, old_r in old_map.items():
            new_r = new_map.get(status)
            if new_r is None:
                success = _is_success(status)
                self.add("response-success-status-removed" if success else "response-non-success-status-removed",
                         label, f"response {status}", f"status {status} no longer documented")
                continue
            if self.schemas.same(old_r, new_r):
                continue
            self._response(status, old_r if isinstance(old_r, Mapping) else {},
                           new_r if isinstance(new_r, Mapping) else {}, label)
        for status in new_map:
            if status not in old_map:
                self.add("response-success-status-added" if _is_success(status) else
                         "response-non-success-status-added", label, f"response {status}", f"status {status} added")

    def _response(self, status: str, old: Mapping[str, Any], new: Mapping[str, Any], label: str) -> None:
        where = f"response {status}"
        old_media, new_media = _content(old), _content(new)
        for media, obj in old_media.items():
            if media not in new_media:
                self.add("response-media-type-removed", label, _body_label(f"{where} body", media),
                         f"media type {media} no longer produced")
                continue
            self.schema(obj.get("schema"), new_media[media].get("schema"), "response",
                        ("response-body", "response-property"), label, _body_label(f"{where} body", media))
        for media in new_media:
            if media not in old_media:
                self.add("response-media-type-added", label, _body_label(f"{where} body", media),
                         f"media type {media} added")
        old_headers, new_headers = _headers(old, self.old), _headers(new, self.new)
        for key, (name, old_h) in old_headers.items():
            found = new_headers.get(key)
            header_where = f"{where} header {name}"
            if found is None:
                required = old_h.get("required") is True
                self.add("required-response-header-removed" if required else "optional-response-header-removed",
                         label, header_where, "header removed")
                continue
            new_h = found[1]
            if old_h.get("required") is True and new_h.get("required") is not True:
                self.add("response-header-became-optional", label, header_where, "header became optional")
            self.schema(_param_schema(old_h), _param_schema(new_h), "response", ("response-header", "response-header"),
                        label, header_where)
        for key, (name, _) in new_headers.items():
            if key not in old_headers:
                self.add("response-header-added", label, f"{where} header {name}", "header added")

    def _components_and_info(self) -> None:
        old_schemas, new_schemas = _component(self.old, "schemas"), _component(self.new, "schemas")
        for name in sorted(set(old_schemas) - set(new_schemas)):
            self.add("api-schema-removed", "", f"components schemas {name}", f"schema {name!r} removed")
        old_hooks, new_hooks = _webhooks(self.old), _webhooks(self.new)
        for hook in sorted(old_hooks - new_hooks):
            self.add("webhook-removed", "", f"webhooks {hook}", f"webhook {hook} removed")
        for hook in sorted(new_hooks - old_hooks):
            self.add("webhook-added", "", f"webhooks {hook}", f"webhook {hook} added")
        old_version, new_version = _info_version(self.old), _info_version(self.new)
        if old_version != new_version:
            self.add("api-version-changed", "", "info version", f"version changed from {show(old_version)} to "
                                                                 f"{show(new_version)}")
        elif any(c.breaking for c in self.changes):
            self.add("api-version-not-bumped", "", "info version",
                     f"breaking changes found but the version is still {show(old_version)}")


def diff(old_spec: Mapping[str, Any], new_spec: Mapping[str, Any]) -> list[Change]:
    """Every change from ``old_spec`` to ``new_spec`` (both as `load_spec` returns them), breaking first."""
    if old_spec is new_spec or _content_of(old_spec) == _content_of(new_spec):
        return []  # the common case of a monitor: the same description served again
    unique = dict.fromkeys(Differ(old_spec, new_spec).run())
    return sorted(unique, key=Change.sort_key)


def _content_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The description without what the loader added about where it came from."""
    return {k: v for k, v in doc.items() if k != "x-sloguard"}


def _strings(value: Any) -> set[str]:
    if isinstance(value, Mapping):
        return {str(k) for k in value}
    return {str(v) for v in value} if isinstance(value, list) else set()


def _headers(response: Mapping[str, Any], doc: Any) -> dict[str, tuple[str, Mapping[str, Any]]]:
    headers = response.get("headers")
    if not isinstance(headers, Mapping):
        return {}
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for name, header in headers.items():
        header = deref(header, doc)
        if str(name).lower() != "content-type":
            out[str(name).lower()] = (str(name), header if isinstance(header, Mapping) else {})
    return out


def _component(doc: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    components = doc.get("components")
    found = components.get(kind) if isinstance(components, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _webhooks(doc: Mapping[str, Any]) -> set[str]:
    """``name METHOD`` of every webhook (OpenAPI 3.1)."""
    hooks = doc.get("webhooks")
    if not isinstance(hooks, Mapping):
        return set()
    return {f"{name} {method.upper()}" for name, item in hooks.items() if isinstance(item, Mapping)
            for method in METHODS if isinstance(item.get(method), Mapping)}


def _info_version(doc: Mapping[str, Any]) -> str:
    info = doc.get("info")
    return str(info.get("version", "")) if isinstance(info, Mapping) else ""

