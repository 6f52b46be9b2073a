"""Fault injection for the reference platform.

Faults are how the project proves that the suite catches what it claims to catch: each one breaks
the platform in the way a real incident would, and clearing it restores normal behaviour.
They are set with ``--fault NAME=VALUE`` at start or through the admin API at run time, and are
shared by all worker processes through the platform's SQLite file.
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .integrations import INTEGRATIONS

GLOBAL = "*"


class FaultError(ValueError):
    """A fault name or value that cannot be applied; the message names the fix."""


@dataclass(frozen=True)
class FaultSpec:
    name: str
    syntax: str
    help: str
    runtime: bool = True  # False: can only be set at start (e.g. TLS)


FAULTS: dict[str, FaultSpec] = {
    spec.name: spec
    for spec in [
        FaultSpec(
            "latency_ms",
            "[<integration>:]<ms>[/fixed|/longtail]",
            "add latency to API calls, for all or one integration; /longtail: median <ms>, 5% of calls 10x",
        ),
        FaultSpec(
            "error_rate",
            "[<integration>:]<fraction 0..1>",
            "answer this fraction of API calls with a 500, for all or one integration",
        ),
        FaultSpec(
            "integration_down",
            "<integration>[,<integration>...]",
            "these integrations answer 503 on every route and report 'down' in health",
        ),
        FaultSpec("db_down", "true|false", "database unavailable: /api/health/db fails, data operations answer 503"),
        FaultSpec("auth_down", "true|false", "authorization server broken: the token endpoints answer 503"),
        FaultSpec("sync_lag_s", "<seconds>", "delay cross-integration sync by this many seconds"),
        FaultSpec("sync_drop", "<fraction 0..1>|true", "drop this fraction of sync records (data loss)"),
        FaultSpec(
            "schema_drift",
            "<integration>[,<integration>...]",
            "responses of these integrations miss a required field",
        ),
        FaultSpec("accept_expired_tokens", "true|false", "the API accepts access tokens past their exp"),
        FaultSpec("accept_alg_none", "true|false", "the API accepts unsigned JWTs (alg: none)"),
        FaultSpec(
            "open_endpoint",
            "<operationId>[,<operationId>...]",
            "these operations stop checking auth (a security breach)",
        ),
        FaultSpec("rate_limit", "<requests per minute>", "shrink the per-client rate limit to this many requests"),
        FaultSpec("leak_kb_per_request", "<KiB>", "keep this much memory per request, forever (for soak tests)"),
        FaultSpec(
            "compression",
            "gzip|deflate|br|off",
            "compress every answer whose request accepts the coding, as a compressing proxy in front of it would",
        ),
        FaultSpec(
            "tls_days_left",
            "<days>",
            "serve HTTPS with a self-signed certificate that expires in this many days (start only)",
            runtime=False,
        ),
    ]
}

_TRUE = {"1", "true", "yes", "on", ""}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Latency:
    ms: float
    longtail: bool = False

    def sample_s(self, rng: random.Random = random._inst) -> float:
        if not self.longtail:
            return self.ms / 1000.0
        # 95% of calls near the median, 5% ten times slower: a long tail that moves p99, not p50.
        factor = 10.0 if rng.random() < 0.05 else rng.uniform(0.8, 1.2)
        return self.ms * factor / 1000.0


@dataclass
class FaultSet:
    """The parsed, active faults. Raw values are kept so the set can be listed and persisted."""

    raw: dict[str, str] = field(default_factory=dict)
    latency: dict[str, Latency] = field(default_factory=dict)
    error_rate: dict[str, float] = field(default_factory=dict)
    integrations_down: frozenset[str] = frozenset()
    db_down: bool = False
    auth_down: bool = False
    sync_lag_s: float = 0.0
    sync_drop: float = 0.0
    schema_drift: frozenset[str] = frozenset()
    accept_expired_tokens: bool = False
    accept_alg_none: bool = False
    open_endpoints: frozenset[str] = frozenset()
    rate_limit: int | None = None
    leak_kb_per_request: int = 0
    compression: str | None = None  # gzip, deflate or br
    tls_days_left: int | None = None

    # -- lookups used on the hot path -------------------------------------------------------
    def latency_for(self, integration: str | None) -> Latency | None:
        if not self.latency:
            return None
        return self.latency.get(integration or GLOBAL) or self.latency.get(GLOBAL)

    def error_rate_for(self, integration: str | None) -> float:
        if not self.error_rate:
            return 0.0
        return self.error_rate.get(integration or GLOBAL, self.error_rate.get(GLOBAL, 0.0))

    def is_down(self, integration: str | None) -> bool:
        return integration is not None and integration in self.integrations_down

    @property
    def active(self) -> bool:
        return bool(self.raw)


OperationIdCheck = Callable[[str], bool]


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise FaultError(f"fault {name}: {value!r} is not a boolean; use {name}=true or {name}=false")


def _number(name: str, value: str, *, lo: float = 0.0, hi: float | None = None, integer: bool = False) -> float:
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise FaultError(f"fault {name}: {value!r} is not {kind}; syntax: {name}={FAULTS[name].syntax}") from None
    if number < lo or (hi is not None and number > hi):
        bound = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise FaultError(f"fault {name}: {value} is out of range; it must be {bound}")
    return number


def _integrations(name: str, value: str) -> frozenset[str]:
    names = [v.strip() for v in value.split(",") if v.strip()]
    if not names:
        raise FaultError(f"fault {name}: give at least one integration, e.g. {name}=slack")
    unknown = [n for n in names if n not in INTEGRATIONS]
    if unknown:
        raise FaultError(
            f"fault {name}: unknown integration {', '.join(unknown)}; known: {', '.join(sorted(INTEGRATIONS))}"
        )
    return frozenset(names)


def _scoped(name: str, value: str) -> tuple[str, str]:
    if ":" in value:
        scope, rest = value.split(":", 1)
        scope = scope.strip()
        if scope not in INTEGRATIONS and scope != GLOBAL:
            raise FaultError(
                f"fault {name}: unknown integration {scope!r}; known: {', '.join(sorted(INTEGRATIONS))}"
            )
        return scope, rest.strip()
    return GLOBAL, value.strip()


def split_assignment(text: str) -> tuple[str, str]:
    """``NAME=VALUE`` (or a bare ``NAME`` for a boolean fault) into its two halves."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if name not in FAULTS:
        raise FaultError(
            f"unknown fault {name!r}; known faults: {', '.join(FAULTS)} (see `sloguard platform serve --list-faults`)"
        )
    if not sep and FAULTS[name].syntax != "true|false":
        raise FaultError(f"fault {name} needs a value: {name}={FAULTS[name].syntax}")
    return name, value.strip()


def apply(faults: FaultSet, name: str, value: str, *, check_operation: OperationIdCheck | None = None) -> FaultSet:
    """Return a new FaultSet with ``name`` set to ``value``; raises FaultError with a one-line fix."""
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    raw = dict(faults.raw)
    fs = _parse_all({**raw, name: _merge_raw(raw.get(name), name, value)}, check_operation)
    return fs


def _merge_raw(old: str | None, name: str, value: str) -> str:
    # Per-integration latency/error settings accumulate (latency_ms=slack:300 then latency_ms=jira:50).
    if name in ("latency_ms", "error_rate") and old:
        parts = {(_scoped(name, p)[0]): p for p in old.split(";")}
        parts[_scoped(name, value)[0]] = value
        return ";".join(parts.values())
    return value


def clear(faults: FaultSet, name: str | None = None) -> FaultSet:
    if name is None:
        return FaultSet()
    if name not in FAULTS:
        raise FaultError(f"unknown fault {name!r}; known faults: {', '.join(FAULTS)}")
    raw = {k: v for k, v in faults.raw.items() if k != name}
    return _parse_all(raw, None)


def parse(assignments: Iterable[str], *, check_operation: OperationIdCheck | None = None) -> FaultSet:
    """Parse ``--fault`` options; later ones override or (for per-integration faults) add to earlier ones."""
    faults = FaultSet()
    for text in assignments:
        name, value = split_assignment(text)
        faults = apply(faults, name, value, check_operation=check_operation)
    return faults


def _parse_all(raw: dict[str, str], check_operation: OperationIdCheck | None) -> FaultSet:
    fs = FaultSet(raw=dict(raw))
    for name, value in raw.items():
        if name == "latency_ms":
            for part in value.split(";"):
                scope, rest = _scoped(name, part)
                ms_text, _, dist = rest.partition("/")
                if dist not in ("", "fixed", "longtail"):
                    raise FaultError(f"fault latency_ms: unknown distribution {dist!r}; use /fixed or /longtail")
                fs.latency[scope] = Latency(_number(name, ms_text, hi=600_000), longtail=dist == "longtail")
        elif name == "error_rate":
            for part in value.split(";"):
                scope, rest = _scoped(name, part)
                fs.error_rate[scope] = _number(name, rest, hi=1.0)
        elif name == "integration_down":
            fs.integrations_down = _integrations(name, value)
        elif name == "schema_drift":
            fs.schema_drift = _integrations(name, value)
        elif name in ("db_down", "auth_down", "accept_expired_tokens", "accept_alg_none"):
            setattr(fs, name, _bool(name, value))
        elif name == "sync_lag_s":
            fs.sync_lag_s = _number(name, value, hi=86_400)
        elif name == "sync_drop":
            lowered = value.lower()
            fs.sync_drop = 1.0 if lowered in _TRUE - {""} else 0.0 if lowered in _FALSE else _number(name, value, hi=1)
        elif name == "open_endpoint":
            ops = frozenset(v.strip() for v in value.split(",") if v.strip())
            if not ops:
                raise FaultError("fault open_endpoint: give an operationId, e.g. open_endpoint=slack_list_messages")
            if check_operation is not None:
                unknown = sorted(op for op in ops if not check_operation(op))
                if unknown:
                    raise FaultError(
                        f"fault open_endpoint: unknown operationId {', '.join(unknown)}; "
                        "see the operationIds in /api/v1/openapi.json"
                    )
            fs.open_endpoints = ops
        elif name == "rate_limit":
            fs.rate_limit = int(_number(name, value, lo=1, integer=True))
        elif name == "leak_kb_per_request":
            fs.leak_kb_per_request = int(_number(name, value, hi=10_240, integer=True))
        elif name == "compression":
            coding = value.strip().lower()
            if coding not in ("gzip", "deflate", "br", "off"):
                raise FaultError(f"fault compression: {value!r} is not a coding; use gzip, deflate, br or off")
            fs.compression = None if coding == "off" else coding
        elif name == "tls_days_left":
            fs.tls_days_left = int(_number(name, value, lo=-3650, hi=3650, integer=True))
    # A fault set to its "off" value is not active: keep `raw` honest for listing.
    fs.raw = {k: v for k, v in fs.raw.items() if not _is_off(fs, k)}
    return fs


def _is_off(fs: FaultSet, name: str) -> bool:
    if name in ("db_down", "auth_down", "accept_expired_tokens", "accept_alg_none"):
        return not getattr(fs, name)
    if name == "sync_drop":
        return fs.sync_drop == 0.0
    if name == "compression":
        return fs.compression is None
    return False


def describe() -> list[tuple[str, str, str]]:
    """(name, syntax, one-line help) for ``--list-faults`` and the admin API."""
    return [(s.name, s.syntax, s.help) for s in FAULTS.values()]


class SharedFaults:
    """The active FaultSet, shared by every worker process through one SQLite table.

    Readers call :meth:`get` on the hot path; it re-reads the table at most every ``refresh_s``
    seconds, so a fault set through the admin API reaches all workers within that time.
    """

    def __init__(
        self, db_path: str, initial: FaultSet | None = None, *, refresh_s: float = 0.2,
        check_operation: OperationIdCheck | None = None,
    ) -> None:
        self._db_path = db_path
        self._refresh_s = refresh_s
        self._check_operation = check_operation
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(db_path, check_same_thread=False, timeout=5.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("CREATE TABLE IF NOT EXISTS faults (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT)")
        self._conn.commit()
        self._current = FaultSet()
        self._body = ""
        self._checked_at = 0.0
        if initial is not None:
            self._store(initial)
        else:
            self._reload()

    def set_operation_check(self, check: OperationIdCheck) -> None:
        self._check_operation = check

    def get(self) -> FaultSet:
        now = time.monotonic()
        if now - self._checked_at >= self._refresh_s:
            self._reload()
            self._checked_at = now
        return self._current

    def set(self, name: str, value: str) -> FaultSet:
        if name in FAULTS and not FAULTS[name].runtime:
            raise FaultError(f"fault {name} can only be set at start: sloguard platform serve --fault {name}=...")
        with self._lock:
            self._reload()
            return self._store(apply(self._current, name, value, check_operation=self._check_operation))

    def clear(self, name: str | None = None) -> FaultSet:
        if name is not None and name in FAULTS and not FAULTS[name].runtime:
            raise FaultError(f"fault {name} can only be changed at start")
        with self._lock:
            self._reload()
            kept = {k: v for k, v in self._current.raw.items() if not FAULTS[k].runtime} if name is None else None
            fs = clear(self._current, name) if kept is None else _parse_all(kept, None)
            return self._store(fs)

    def _store(self, fs: FaultSet) -> FaultSet:
        body = json.dumps(fs.raw, sort_keys=True)
        self._conn.execute("INSERT OR REPLACE INTO faults (id, body) VALUES (1, ?)", (body,))
        self._conn.commit()
        self._current, self._body = fs, body
        self._checked_at = time.monotonic()
        return fs

    def _reload(self) -> None:
        row = self._conn.execute("SELECT body FROM faults WHERE id = 1").fetchone()
        body = row[0] if row else "{}"
        if body != self._body:
            self._current = _parse_all(json.loads(body), None)
            self._body = body
