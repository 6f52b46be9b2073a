"""Which operations a contract run tries first, and the wall-clock budget it must fit in.

Order of criticality: authentication, health, what changed since the last run (the served
description's per-operation digests are kept under the reports folder), then the rest in the
description's order. Under a budget every operation is reached once (round 1: its examples and one
generated case) before any gets a second round (coverage, fuzzing, stateful) — so a short CI window
still touches every operation, and the important ones get the deep tests first.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sloguard.config import parse_duration
from sloguard.errors import UsageError
from sloguard.results import write_atomic

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DIGESTS_FILE = "contracts/operations.json"
AUTH, HEALTH, CHANGED, REST = 0, 1, 2, 3
# Of a budget, kept for what follows the engine (results, reports) and came before it (start-up, loading).
RESERVE_MIN_S, RESERVE_MAX_S, RESERVE_FRACTION = 2.0, 10.0, 0.1
RANK_NAMES = {AUTH: "auth", HEALTH: "health", CHANGED: "changed", REST: "rest"}


def parse_budget(text: str | None) -> float | None:
    """'2m', '90s', '1h30m' → seconds; anything else is a usage error (exit 2) naming the fix."""
    if text is None:
        return None
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--budget: {exc}") from None


@dataclass(frozen=True)
class OperationRef:
    """One operation of the served description, as the planner sees it."""

    key: str  # "GET /api/slack/messages"
    operation_id: str | None
    method: str
    path: str
    tags: tuple[str, ...]
    digest: str
    security: bool  # needs credentials
    is_auth: bool = False
    is_health: bool = False


def operations_of(doc: Mapping[str, Any]) -> list[OperationRef]:
    """Every operation of a raw OpenAPI/Swagger document, in document order."""
    out: list[OperationRef] = []
    default_security = bool(doc.get("security"))
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            text = json.dumps(op, sort_keys=True, default=str)
            op_id = op.get("operationId")
            tags = tuple(str(t) for t in op.get("tags") or ())
            words = f"{path} {op_id or ''} {' '.join(tags)}".lower()
            security = op.get("security", None)
            out.append(OperationRef(
                key=f"{method.upper()} {path}", operation_id=op_id, method=method.upper(), path=path, tags=tags,
                digest=hashlib.sha256(text.encode()).hexdigest()[:16],
                security=bool(security) if security is not None else default_security,
                is_auth=any(w in words for w in ("/auth/", "login", "token", "oauth")) and "callback" not in words,
                is_health="health" in words or path.rstrip("/").endswith(("/ping", "/ready", "/live")),
            ))
    return out


def rank(op: OperationRef, previous: Mapping[str, str] | None) -> int:
    if op.is_auth:
        return AUTH
    if op.is_health:
        return HEALTH
    if previous is not None and previous.get(op.key) != op.digest:
        return CHANGED
    return REST


def order(ops: Iterable[OperationRef], previous: Mapping[str, str] | None) -> list[OperationRef]:
    """Operations by criticality, stable within a rank (the description's order)."""
    return sorted(ops, key=lambda op: rank(op, previous))


def load_digests(reports_dir: Path) -> dict[str, str] | None:
    """The per-operation digests of the description served at the last run (None: no last run)."""
    path = reports_dir / DIGESTS_FILE
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return {str(k): str(v) for k, v in data.get("operations", {}).items()} if isinstance(data, dict) else None


def save_digests(reports_dir: Path, ops: Iterable[OperationRef], source: str) -> Path:
    doc = {"source": source, "saved_at": time.time(), "operations": {op.key: op.digest for op in ops}}
    return write_atomic(reports_dir / DIGESTS_FILE, json.dumps(doc, indent=1, sort_keys=True) + "\n")


@dataclass
class Clock:
    """The run's wall-clock budget (None: no budget)."""

    budget_s: float | None
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    @property
    def remaining_s(self) -> float | None:
        return None if self.budget_s is None else self.budget_s - self.elapsed_s

    @property
    def spent(self) -> bool:
        """True once only the reserve is left: writing the reports must fit in the budget too."""
        remaining = self.remaining_s
        if remaining is None or self.budget_s is None:
            return False
        reserve = max(RESERVE_MIN_S, min(RESERVE_MAX_S, RESERVE_FRACTION * self.budget_s))
        return remaining <= min(reserve, self.budget_s / 2)
