"""The last description a target served, kept under the reports folder, so drift is seen unannounced.

A live run calls `check_drift` with the description it just loaded: the first time there is nothing
to compare with (no changes, the snapshot is written); after that the changes since the last run
are returned and the snapshot moves on, so each drift is reported once.

A loaded description shares objects (a schema used by 300 operations is one object); written
naively it would be copied 300 times. The snapshot writes each shared object once, under
``x-sloguard-shared``, and refers to it with a local ``$ref`` that `prepare_spec` resolves back
into one shared object. The file is redacted (`sloguard.redact`) and written atomically.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from sloguard.errors import UsageError
from sloguard.redact import redact_text, redact_url
from sloguard.results import write_atomic
from sloguard.spec import prepare_spec, spec_digest

from .diff import Change, diff

SNAPSHOT_FOLDER = "contracts"
SHARED_KEY = "x-sloguard-shared"
META_KEY = "x-sloguard-snapshot"
_LITERALS = frozenset({"example", "default", "enum", "const", "value"})
# Keys whose values map names to objects (as the ref resolver reads a description).
_NAME_MAPS = frozenset({
    "properties", "patternProperties", "$defs", "definitions", "schemas", "responses", "parameters",
    "examples", "requestBodies", "headers", "securitySchemes", "links", "callbacks", "pathItems", "content",
    "encoding", "paths", "webhooks", "variables", "dependentSchemas",
})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Drift:
    """What changed since the last description seen for a target."""

    changes: tuple[Change, ...]
    snapshot: Path
    previous_seen: bool  # False on the first run (nothing to compare with)
    note: str = ""  # why a previous snapshot was not used (unreadable), if it was not
    previous: Mapping[str, Any] | None = field(default=None, repr=False, compare=False)  # what was seen last

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]


def snapshot_path(reports_dir: str | Path, target: str) -> Path:
    """``<reports>/contracts/<host>[-<port>]-last.json`` for a target URL (or a file's name)."""
    parts = urlsplit(target) if "://" in target else None
    if parts is not None and parts.hostname:
        name = parts.hostname + (f"-{parts.port}" if parts.port else "")
    else:
        name = Path(target).stem or "target"
    return Path(reports_dir) / SNAPSHOT_FOLDER / f"{_UNSAFE.sub('_', name)}-last.json"


def _is_literal(key: Any, value: Any) -> bool:
    """Values the ref resolver leaves alone (examples, extensions): written inline, never as a $ref."""
    return key in _LITERALS or (key == "examples" and type(value) is list) or (
        type(key) is str and key.startswith("x-"))


def pack(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-ready copy of a loaded description that writes each shared object once.

    Maps of names (``properties``, ``responses``, ...) stay in place: there a ``$ref`` key would be a
    name, not a reference (the resolver reads them so too), so only the objects inside them are shared.
    """
    seen: dict[int, int] = {}
    stack: list[Any] = [spec]
    while stack:
        node = stack.pop()
        count = seen.get(id(node), 0)
        seen[id(node)] = count + 1
        if count:
            continue
        if type(node) is dict:
            stack.extend(v for k, v in node.items() if (type(v) is dict or type(v) is list) and not _is_literal(k, v))
        else:
            stack.extend(v for v in node if type(v) is dict or type(v) is list)
    shared = {key for key, count in seen.items() if count > 1}
    table: list[Any] = []
    index: dict[int, int] = {}

    def emit(node: Any, names: bool) -> Any:
        if type(node) is not dict and type(node) is not list:
            return node
        if names or id(node) not in shared:
            return build(node, names)
        slot = index.get(id(node))
        if slot is None:
            slot = index[id(node)] = len(table)
            table.append(None)
            table[slot] = build(node, False)
        return {"$ref": f"#/{SHARED_KEY}/{slot}"}

    def build(node: Any, names: bool) -> Any:
        if type(node) is dict:
            return {k: v if not names and _is_literal(k, v) else emit(v, not names and k in _NAME_MAPS)
                    for k, v in node.items()}
        return [emit(v, False) for v in node]

    packed = build(spec, False)
    packed[SHARED_KEY] = table
    return dict(packed)


def save_snapshot(path: str | Path, spec: Mapping[str, Any], target: str = "") -> Path:
    """Write ``spec`` as the last description seen (redacted, atomically)."""
    packed = pack(spec)
    meta = spec.get("x-sloguard")
    packed[META_KEY] = {"target": redact_url(target), "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "version": meta.get("version") if isinstance(meta, Mapping) else None,
                        "digest": spec_digest(spec)}
    text = orjson.dumps(packed, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return write_atomic(path, redact_text(text))


def load_snapshot(path: str | Path) -> dict[str, Any] | None:
    """The description a snapshot holds, loaded as `load_spec` would; None when there is none."""
    data = _read_snapshot(Path(path))
    return prepare_spec(data, source=str(path)) if data is not None else None


def _read_snapshot(file: Path) -> dict[str, Any] | None:
    try:
        data = orjson.loads(file.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise UsageError(f"{file}: unreadable contract snapshot ({exc}); delete it to start over") from None
    if not isinstance(data, dict) or SHARED_KEY not in data:
        raise UsageError(f"{file}: not a sloguard contract snapshot; delete it to start over")
    return data


def check_drift(spec: Mapping[str, Any], target: str, reports_dir: str | Path) -> Drift:
    """Compare a freshly served description with the last one seen for ``target``, then keep the new one."""
    path = snapshot_path(reports_dir, target)
    note = ""
    try:
        data = _read_snapshot(path)
    except UsageError as exc:
        data, note = None, f"{exc} (replaced by the description just served)"
    digest = spec_digest(spec)
    meta = data.get(META_KEY) if data is not None else None
    if digest is not None and isinstance(meta, dict) and meta.get("digest") == digest:
        # The very bytes seen last time: nothing can have changed, and the snapshot stays as it is.
        return Drift((), path, True)
    previous = prepare_spec(data, source=str(path)) if data is not None else None
    changes = tuple(diff(previous, spec)) if previous is not None else ()
    save_snapshot(path, spec, target)
    return Drift(changes, path, previous is not None, note, previous)
