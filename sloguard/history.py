"""The kept history of runs (SQLite, ``reports/history.sqlite3`` or ``reports.history_db``).

Each run leaves one row per scope — the platform as a whole and each integration — with its p95
latency, error rate and sample counts, read from its ``summary.json``. Baselines
(`sloguard.reports.baseline`) are computed from these rows, so a run is compared with earlier runs
of the same target and suite without keeping their result files.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard.alerts import target_key
from sloguard.errors import UsageError

PLATFORM = "platform"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    target TEXT NOT NULL,
    suite TEXT NOT NULL,
    started_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    population TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_target ON runs (target, suite, started_at);
CREATE TABLE IF NOT EXISTS scopes (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    p95_ms REAL,
    latency_samples INTEGER NOT NULL,
    error_rate REAL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (run_id, scope)
);
"""


@dataclass(frozen=True)
class ScopePoint:
    """One scope of one run: ``platform`` or ``integration:<name>``."""

    scope: str
    p95_ms: float | None
    latency_samples: int
    error_rate: float | None
    requests: int


@dataclass(frozen=True)
class RunRecord:
    """What the history keeps of one run. ``population`` names which integrations it measured, so the
    platform-wide numbers of a run of every check are not compared with those of a ``-k github`` run."""

    run_id: str
    target: str
    suite: str
    started_at: str
    verdict: str
    points: tuple[ScopePoint, ...] = field(default_factory=tuple)
    population: str = ""

    def point(self, scope: str) -> ScopePoint | None:
        return next((p for p in self.points if p.scope == scope), None)

    @classmethod
    def from_summary(cls, summary: Mapping[str, Any]) -> RunRecord:
        """The run's scopes from ``summary.json`` (its overall and per-integration SLO results)."""
        started = _utc(summary.get("started_at"))
        points = [_point(PLATFORM, summary.get("slos") or [])]
        integrations = summary.get("integration_slos") or {}
        points += [_point(f"integration:{name}", slos) for name, slos in sorted(integrations.items())]
        run_id = str(summary.get("run_id") or f"{started}-{summary.get('suite', '')}")
        population = hashlib.sha256("\x1f".join(sorted(integrations)).encode()).hexdigest()[:16]
        return cls(run_id=run_id, target=target_key(str(summary.get("target", ""))),
                   suite=str(summary.get("suite", "")), started_at=started,
                   verdict=str(summary.get("verdict", "")), points=tuple(points), population=population)


def _utc(value: Any) -> str:
    """ISO-8601 in UTC, so that rows sort by time as text."""
    try:
        moment = datetime.fromisoformat(str(value)) if value else datetime.now(UTC)
    except ValueError:
        raise UsageError(f"summary.json: started_at {value!r} is not an ISO-8601 time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _point(scope: str, slos: Sequence[Mapping[str, Any]]) -> ScopePoint:
    by_name = {str(s.get("name")): s for s in slos if isinstance(s, Mapping)}
    latency = by_name.get("latency_p95_ms", {})
    errors = by_name.get("error_rate", {})

    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return ScopePoint(scope=scope, p95_ms=number(latency.get("measured")),
                      latency_samples=int(latency.get("samples") or 0),
                      error_rate=number(errors.get("measured")), requests=int(errors.get("samples") or 0))


class RunHistory:
    """The SQLite file of kept runs. Every write is one transaction: a crash keeps the old state."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=10.0)
        except sqlite3.Error as exc:
            raise UsageError(f"cannot open the run history {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(_SCHEMA)
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                conn.commit()
            elif row[0] != str(SCHEMA_VERSION):
                raise UsageError(f"{self.path} is a run history of schema {row[0]}, this sloguard reads "
                                 f"{SCHEMA_VERSION}: move the file away to start a new history")
            yield conn
        except sqlite3.DatabaseError as exc:
            raise UsageError(f"{self.path} is not a sloguard run history ({exc}): move it away or set "
                             "reports.history_db to another file") from None
        finally:
            conn.close()

    def record(self, run: RunRecord) -> None:
        """Keep ``run`` (recording the same run again replaces it)."""
        with self._connect() as conn, conn:
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run.run_id,))
            conn.execute("INSERT INTO runs (run_id, target, suite, started_at, verdict, population) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (run.run_id, run.target, run.suite, run.started_at, run.verdict, run.population))
            conn.executemany(
                "INSERT INTO scopes (run_id, scope, p95_ms, latency_samples, error_rate, requests) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(run.run_id, p.scope, p.p95_ms, p.latency_samples, p.error_rate, p.requests) for p in run.points])

    def previous(self, run: RunRecord, limit: int) -> list[RunRecord]:
        """Up to ``limit`` runs of the same target and suite that started before ``run``, newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT run_id, target, suite, started_at, verdict, population FROM runs "
                "WHERE target = ? AND suite = ? AND started_at < ? AND run_id != ? "
                "ORDER BY started_at DESC LIMIT ?",
                (run.target, run.suite, run.started_at, run.run_id, int(limit))).fetchall()
            out = []
            for run_id, target, suite, started_at, verdict, population in rows:
                points = tuple(ScopePoint(*r) for r in conn.execute(
                    "SELECT scope, p95_ms, latency_samples, error_rate, requests FROM scopes WHERE run_id = ?",
                    (run_id,)))
                out.append(RunRecord(run_id, target, suite, started_at, verdict, points, population))
            return out

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
