"""Ids for path parameters: learnt from create and list responses, so get/update/delete address real records."""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from sloguard.catalog import Entry

_ID_KEYS = ("id", "uuid", "_id", "key", "ID", "Id")
_LIST_FIELDS = ("items", "data", "results", "records", "entries", "values", "list", "content", "rows")
PATH_TEMPLATE = re.compile(r"\{([^}/]+)\}")


def resource_of(path: str, param: str | None = None) -> str:
    """The resource a path (or one of its path parameters) is about: the static segment before it.

    ``/api/slack/messages/{id}`` -> ``messages``; ``/users/{uid}/posts`` with ``uid`` -> ``users``.
    """
    segments = [s for s in path.split("/") if s]
    if param is not None:
        marker = "{" + param + "}"
        if marker in segments:
            segments = segments[: segments.index(marker)]
    statics = [s for s in segments if not s.startswith("{")]
    return statics[-1].lower() if statics else ""


def id_of(record: Any, pointer: str = "/id") -> Any:
    """The id in a created or listed record: at ``pointer``, else under a usual id key."""
    if not isinstance(record, Mapping):
        return None
    node: Any = record
    for token in [t.replace("~1", "/").replace("~0", "~") for t in pointer.strip("/").split("/") if t]:
        node = node.get(token) if isinstance(node, Mapping) else None
    if node is not None and not isinstance(node, (dict, list)):
        return node
    for key in _ID_KEYS:
        value = record.get(key)
        if value is not None and not isinstance(value, (dict, list)):
            return value
    return None


def _items_of(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        for name in _LIST_FIELDS:
            if isinstance(body.get(name), list):
                return list(body[name])
    return []


class IdPool:
    """Ids seen in create and list responses, per (integration, resource), newest last; thread-safe."""

    def __init__(self, per_resource: int = 200) -> None:
        self._ids: dict[tuple[str, str], deque[Any]] = {}
        self._per_resource = per_resource
        self._lock = threading.Lock()

    def add(self, integration: str, resource: str, value: Any) -> None:
        if value is None:
            return
        with self._lock:
            ids = self._ids.setdefault((integration, resource), deque(maxlen=self._per_resource))
            if value in ids:
                ids.remove(value)
            ids.append(value)

    def latest(self, integration: str, resource: str) -> Any:
        with self._lock:
            ids = self._ids.get((integration, resource))
            return ids[-1] if ids else None

    def pop(self, integration: str, resource: str) -> Any:
        """Take the newest id out of the pool (for a delete, so no other call uses it)."""
        with self._lock:
            ids = self._ids.get((integration, resource))
            return ids.pop() if ids else None

    def discard(self, integration: str, resource: str, value: Any) -> None:
        with self._lock:
            ids = self._ids.get((integration, resource))
            if ids and value in ids:
                ids.remove(value)

    def ids(self, integration: str, resource: str) -> tuple[Any, ...]:
        with self._lock:
            return tuple(self._ids.get((integration, resource), ()))

    def __len__(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self._ids.values())

    def record(self, entry: Entry, body: Any, path_params: Mapping[str, Any] | None = None, *,
               id_pointer: str = "/id") -> list[Any]:
        """Learn from a successful response: ids from creates and lists; a delete forgets its id."""
        if entry.kind == "delete" and path_params:
            names = PATH_TEMPLATE.findall(entry.path)
            if names and names[-1] in path_params:
                self.discard(entry.integration, resource_of(entry.path, names[-1]), path_params[names[-1]])
            return []
        if entry.kind == "create":
            found = [id_of(body, id_pointer)]
            resource = resource_of(entry.path)
        elif entry.kind in ("list", "search"):
            found = [id_of(item) for item in _items_of(body)]
            resource = resource_of(entry.path if entry.kind == "list" else entry.path.rsplit("/", 1)[0])
        else:
            return []
        found = [v for v in found if v is not None]
        for value in found:
            self.add(entry.integration, resource, value)
        return found
