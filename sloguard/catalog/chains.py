"""CRUD chains: the operations on one resource that can run create -> get -> update -> delete."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .model import CrudChain, Entry, Link
from .naming import is_template, segments


def _json_pointer_of(expression: Any) -> str | None:
    if isinstance(expression, str) and expression.startswith("$response.body#"):
        return expression[len("$response.body#"):] or "/"
    return None


def _resource(collection: str, fallback: str) -> str:
    statics = [s for s in segments(collection) if not is_template(s)]
    return statics[-1].lower() if statics else fallback


def _item_paths(collection: str, paths: Collection[str]) -> list[str]:
    depth = len(segments(collection)) + 1
    return sorted(p for p in paths if p.startswith(collection.rstrip("/") + "/")
                  and len(segments(p)) == depth and is_template(segments(p)[-1]))


def _pick(kind: str, methods: tuple[str, ...], item: Mapping[str, Entry],
          linked: Mapping[str, tuple[Entry, Link]]) -> str | None:
    if kind in linked:
        return linked[kind][0].operation_id
    return next((item[m].operation_id for m in methods if m in item and item[m].kind == kind), None)


def crud_chains(entries: tuple[Entry, ...], by_id: Mapping[str, Entry]) -> tuple[CrudChain, ...]:
    routes: dict[str, dict[str, Entry]] = {}
    for e in entries:
        routes.setdefault(e.path, {})[e.method] = e
    chains: list[CrudChain] = []
    for create in entries:
        if create.kind != "create":
            continue
        linked: dict[str, tuple[Entry, Link]] = {
            by_id[link.operation_id].kind: (by_id[link.operation_id], link)
            for link in create.links if link.operation_id in by_id
        }
        item_path: str | None = None
        for kind in ("get", "update", "delete"):
            if kind in linked:
                item_path = linked[kind][0].path
                break
        if item_path is None:
            candidates = _item_paths(create.path, routes)
            item_path = candidates[0] if candidates else None
        item = routes.get(item_path or "", {})
        get = _pick("get", ("GET",), item, linked)
        update = _pick("update", ("PATCH", "PUT"), item, linked)
        delete = _pick("delete", ("DELETE",), item, linked)
        if not (get or update or delete):
            continue
        collection_list = routes.get(create.path, {}).get("GET")
        id_param = None
        if item_path:
            last = segments(item_path)[-1]
            id_param = last[1:-1] if is_template(last) else None
        pointer = "/id"
        for _target, link in linked.values():
            for name, expression in link.parameters.items():
                found = _json_pointer_of(expression)
                if found and (id_param is None or name == id_param or name.endswith(id_param)):
                    pointer = found
                    break
        chains.append(CrudChain(
            integration=create.integration, resource=_resource(create.path, create.group),
            collection_path=create.path,
            item_path=item_path, create=create.operation_id,
            list=collection_list.operation_id if collection_list and collection_list.kind == "list" else None,
            get=get, update=update, delete=delete, id_param=id_param, id_pointer=pointer,
        ))
    return tuple(chains)
