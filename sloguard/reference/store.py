"""SQLite persistence of the platform's records, sync jobs and integration connections.

Indexed reads (list, get: well under a millisecond, and WAL readers never wait) run inline on
the event loop's own connection: handing them to a thread cost more than the query. Writes,
which may wait for the write lock, and scans (search) run on a small pool of connections in
worker threads, so they never stall the loop and the pool's use is a real number worth alerting
on ("connection pool > 80%"). WAL mode lets every uvicorn worker share the one file. Record
counts per resource are kept in their own table, so a list's ``total`` stays O(1) however many
records a load test creates.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS atom_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    integration TEXT NOT NULL,
    resource TEXT NOT NULL,
    source_id TEXT,
    search TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS atom_records_scope ON atom_records (tenant_id, integration, resource, seq);
CREATE INDEX IF NOT EXISTS atom_records_source ON atom_records (source_id) WHERE source_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS atom_counts (
    tenant_id TEXT NOT NULL, integration TEXT NOT NULL, resource TEXT NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, integration, resource)
);
CREATE TABLE IF NOT EXISTS atom_sync_jobs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    source_integration TEXT,
    source_resource TEXT,
    source_id TEXT,
    target TEXT NOT NULL,
    due_at REAL NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    done_at REAL,
    target_id TEXT
);
CREATE INDEX IF NOT EXISTS atom_sync_jobs_status ON atom_sync_jobs (status, due_at);
CREATE TABLE IF NOT EXISTS atom_connect_states (
    state TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, integration TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS atom_connections (
    tenant_id TEXT NOT NULL, integration TEXT NOT NULL, connected_at REAL NOT NULL,
    PRIMARY KEY (tenant_id, integration)
);
"""


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=10.0, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class Pool:
    """A fixed set of connections; ``in_use`` is how many are checked out right now."""

    def __init__(self, path: str, size: int) -> None:
        self.size = size
        self.in_use = 0
        self._lock = threading.Lock()
        self._free: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        for _ in range(size):
            self._free.put(connect(path))

    @contextlib.contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._free.get(timeout=30)
        with self._lock:
            self.in_use += 1
        try:
            yield conn
        finally:
            with self._lock:
                self.in_use -= 1
            self._free.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._free.get_nowait().close()
            except queue.Empty:
                return


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE: take the write lock up front so read-modify-write cannot interleave.

    Writers of this process queue on a Python lock first. Left to SQLite, pooled threads that find
    the database locked sleep in its busy handler's growing steps (up to 100 ms each), so a burst of
    a dozen small writes took half a second; queued on a lock, each waits only for the one before.
    """
    with _WRITERS:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


_WRITERS = threading.Lock()


@dataclass(frozen=True)
class Page:
    bodies: list[bytes]
    total: int


@dataclass(frozen=True)
class SyncJob:
    id: str
    tenant_id: str
    kind: str
    source_integration: str | None
    source_resource: str | None
    source_id: str | None
    target: str
    due_at: float


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_text(record: dict[str, Any], keys: Iterable[str]) -> str:
    return " ".join(str(record[k]) for k in keys if isinstance(record.get(k), str)).lower()


class Store:
    def __init__(self, db_path: str, pool_size: int = 8) -> None:
        self.path = db_path
        setup = connect(db_path)
        try:
            setup.executescript(SCHEMA)
        finally:
            setup.close()
        self.pool = Pool(db_path, pool_size)
        self._reader = connect(db_path)  # used only from the event loop's thread
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="atom-db")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on a pooled connection in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self._call, fn, *args))

    def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run an indexed read ``fn(conn, *args)`` inline, on the event loop's connection."""
        return fn(self._reader, *args)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        with self.pool.connection() as conn:
            return fn(conn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """The same, synchronously (start-up work outside the event loop)."""
        return self._call(fn, *args)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.pool.close()
        self._reader.close()


# -- records ---------------------------------------------------------------------------------------
def list_records(
    conn: sqlite3.Connection, tenant: str, integration: str, resource: str, page: int, per_page: int,
    q: str | None = None, source_id: str | None = None,
) -> Page:
    where = "tenant_id = ? AND integration = ? AND resource = ?"
    args: list[Any] = [tenant, integration, resource]
    if source_id is not None:
        where += " AND source_id = ?"
        args.append(source_id)
    if q:
        where += " AND search LIKE ? ESCAPE '\\'"
        args.append(f"%{_escape_like(q.lower())}%")
    if len(args) == 3:
        row = conn.execute("SELECT n FROM atom_counts WHERE tenant_id = ? AND integration = ? AND resource = ?",
                           args).fetchone()
        total = row[0] if row else 0
    else:
        total = conn.execute(f"SELECT COUNT(*) FROM atom_records WHERE {where}", args).fetchone()[0]
    rows = conn.execute(
        f"SELECT body FROM atom_records WHERE {where} ORDER BY seq LIMIT ? OFFSET ?",
        [*args, per_page, (page - 1) * per_page],
    ).fetchall()
    return Page([r[0] for r in rows], int(total))


def get_record(conn: sqlite3.Connection, tenant: str, integration: str, resource: str, rid: str) -> bytes | None:
    row = conn.execute(
        "SELECT body FROM atom_records WHERE id = ? AND tenant_id = ? AND integration = ? AND resource = ?",
        (rid, tenant, integration, resource),
    ).fetchone()
    return row[0] if row else None


def insert_record(
    conn: sqlite3.Connection, integration: str, resource: str, record: dict[str, Any], search: str,
    source_id: str | None = None,
) -> bytes:
    body = orjson.dumps(record)
    conn.execute(
        "INSERT INTO atom_records (id, tenant_id, integration, resource, source_id, search, body) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (record["id"], record["tenant_id"], integration, resource, source_id, search, body),
    )
    _add_count(conn, record["tenant_id"], integration, resource, 1)
    return body


def _add_count(conn: sqlite3.Connection, tenant: str, integration: str, resource: str, delta: int) -> None:
    conn.execute(
        "INSERT INTO atom_counts (tenant_id, integration, resource, n) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (tenant_id, integration, resource) DO UPDATE SET n = n + excluded.n",
        (tenant, integration, resource, delta),
    )


def create_record(
    conn: sqlite3.Connection, integration: str, resource: str, record: dict[str, Any], search: str,
    sync_jobs: list[SyncJob],
) -> bytes:
    """Insert a record and its sync jobs atomically: a record is never saved without its jobs."""
    with transaction(conn):
        body = insert_record(conn, integration, resource, record, search)
        _insert_jobs(conn, sync_jobs)
    return body


def update_record(
    conn: sqlite3.Connection, tenant: str, integration: str, resource: str, rid: str,
    patch: Callable[[dict[str, Any]], tuple[dict[str, Any], str]],
) -> bytes | None:
    """Read-modify-write under the write lock; ``patch`` returns the new record and its search text."""
    with transaction(conn):
        body = get_record(conn, tenant, integration, resource, rid)
        if body is None:
            return None
        record, search = patch(orjson.loads(body))
        new_body = orjson.dumps(record)
        conn.execute("UPDATE atom_records SET body = ?, search = ? WHERE id = ?", (new_body, search, rid))
    return new_body


def delete_record(conn: sqlite3.Connection, tenant: str, integration: str, resource: str, rid: str) -> bool:
    with transaction(conn):
        cur = conn.execute(
            "DELETE FROM atom_records WHERE id = ? AND tenant_id = ? AND integration = ? AND resource = ?",
            (rid, tenant, integration, resource),
        )
        if cur.rowcount > 0:
            _add_count(conn, tenant, integration, resource, -1)
    return cur.rowcount > 0


def count_records(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM atom_records").fetchone()[0])


def seed_records(conn: sqlite3.Connection, rows: list[tuple[str, str, dict[str, Any], str]]) -> int:
    """INSERT OR IGNORE (ids are deterministic), so workers seeding at once do not duplicate."""
    added = 0
    with transaction(conn):
        for integ, res, rec, search in rows:
            cur = conn.execute(
                "INSERT OR IGNORE INTO atom_records (id, tenant_id, integration, resource, source_id, search, body) "
                "VALUES (?, ?, ?, ?, NULL, ?, ?)",
                (rec["id"], rec["tenant_id"], integ, res, search, orjson.dumps(rec)),
            )
            if cur.rowcount > 0:
                _add_count(conn, rec["tenant_id"], integ, res, 1)
                added += 1
    return added


def ping(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1").fetchone()[0] == 1


# -- sync jobs -------------------------------------------------------------------------------------
def _insert_jobs(conn: sqlite3.Connection, jobs: list[SyncJob]) -> None:
    now = time.time()
    conn.executemany(
        "INSERT INTO atom_sync_jobs (id, tenant_id, kind, source_integration, source_resource, source_id, target, "
        "due_at, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
        [(j.id, j.tenant_id, j.kind, j.source_integration, j.source_resource, j.source_id, j.target, j.due_at, now)
         for j in jobs],
    )


def insert_jobs(conn: sqlite3.Connection, jobs: list[SyncJob]) -> None:
    with transaction(conn):
        _insert_jobs(conn, jobs)


def pending_jobs(conn: sqlite3.Connection, due_before: float, limit: int = 500) -> list[SyncJob]:
    rows = conn.execute(
        "SELECT id, tenant_id, kind, source_integration, source_resource, source_id, target, due_at "
        "FROM atom_sync_jobs WHERE status = 'pending' AND due_at <= ? ORDER BY due_at LIMIT ?",
        (due_before, limit),
    ).fetchall()
    return [SyncJob(*r) for r in rows]


def finish_job(
    conn: sqlite3.Connection, job_id: str, status: str,
    make_record: Callable[[sqlite3.Connection], tuple[str, str, dict[str, Any], str, str] | None] | None = None,
) -> bool:
    """Claim a pending job and finish it in one transaction; False if another worker already did.

    ``make_record`` builds (integration, resource, record, search, source_id) to insert, or None.
    """
    with transaction(conn):
        row = conn.execute("SELECT status FROM atom_sync_jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None or row[0] != "pending":
            return False
        target_id = None
        if make_record is not None:
            made = make_record(conn)
            if made is not None:
                integration, resource, record, search, source_id = made
                insert_record(conn, integration, resource, record, search, source_id)
                target_id = record["id"]
        conn.execute(
            "UPDATE atom_sync_jobs SET status = ?, done_at = ?, target_id = ? WHERE id = ?",
            (status, time.time(), target_id, job_id),
        )
    return True


def job_counts(conn: sqlite3.Connection, tenant: str, integration: str) -> dict[str, Any]:
    """Pending/done counts of jobs to or from ``integration``. Dropped jobs count as done: the
    platform believes it delivered them, which is exactly what makes the data loss silent."""
    rows = conn.execute(
        "SELECT status, COUNT(*), MAX(done_at) FROM atom_sync_jobs WHERE tenant_id = ? AND "
        "(target = ? OR source_integration = ?) GROUP BY status",
        (tenant, integration, integration),
    ).fetchall()
    counts = {"pending": 0, "done": 0}
    last: float | None = None
    for status, count, done_at in rows:
        counts["pending" if status == "pending" else "done"] += int(count)
        if done_at is not None:
            last = max(last or 0.0, float(done_at))
    return {**counts, "last_sync_at": last}


def pending_total(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM atom_sync_jobs WHERE status = 'pending'").fetchone()[0])


# -- integration connections (the OAuth connect/callback dance with each provider) ---------------
def save_connect_state(conn: sqlite3.Connection, state: str, tenant: str, integration: str) -> None:
    with transaction(conn):
        conn.execute("INSERT INTO atom_connect_states VALUES (?, ?, ?, ?)",
                     (state, tenant, integration, time.time()))


_CONNECT_STATE = "SELECT tenant_id, created_at FROM atom_connect_states WHERE state = ? AND integration = ?"


def connect_state_known(conn: sqlite3.Connection, state: str, integration: str) -> bool:
    """An indexed read: a forged or reused state is refused without queueing behind the writers."""
    return conn.execute(_CONNECT_STATE, (state, integration)).fetchone() is not None


def complete_connection(conn: sqlite3.Connection, state: str, integration: str, max_age_s: float) -> str | None:
    """The tenant the state was issued to, if it is valid (once only); None otherwise."""
    with transaction(conn):
        row = conn.execute(_CONNECT_STATE, (state, integration)).fetchone()
        if row is None:
            return None
        conn.execute("DELETE FROM atom_connect_states WHERE state = ?", (state,))
        if time.time() - float(row[1]) > max_age_s:
            return None
        conn.execute(
            "INSERT OR REPLACE INTO atom_connections VALUES (?, ?, ?)", (row[0], integration, time.time())
        )
        return str(row[0])
