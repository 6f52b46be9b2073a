"""The authorization server's SQLite tables (prefix ``oauth_``), shared by every worker process.

One connection per process, guarded by a lock: statements are short, and write transactions use
``BEGIN IMMEDIATE`` so that concurrent workers serialize instead of failing with a deadlock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_users (
    id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, tenant TEXT NOT NULL,
    password_hash TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id TEXT PRIMARY KEY, name TEXT NOT NULL, secret_hash TEXT, public INTEGER NOT NULL,
    grants TEXT NOT NULL, scopes TEXT NOT NULL, tenant TEXT, redirect_uris TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_keys (
    kid TEXT PRIMARY KEY, private_pem TEXT NOT NULL, created_at REAL NOT NULL, retired_at REAL);
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
    redirect_given INTEGER NOT NULL, scope TEXT NOT NULL, challenge TEXT, nonce TEXT,
    auth_time INTEGER NOT NULL, expires_at REAL NOT NULL, used_at REAL, family_id TEXT);
CREATE TABLE IF NOT EXISTS oauth_families (
    family_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at REAL NOT NULL,
    revoked_at REAL);
CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
    token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
    scope TEXT NOT NULL, auth_time INTEGER NOT NULL, issued_at REAL NOT NULL, expires_at REAL NOT NULL,
    used_at REAL, revoked_at REAL);
CREATE INDEX IF NOT EXISTS oauth_refresh_family ON oauth_refresh_tokens (family_id);
CREATE TABLE IF NOT EXISTS oauth_family_tokens (
    jti TEXT PRIMARY KEY, family_id TEXT NOT NULL, exp REAL NOT NULL);
CREATE INDEX IF NOT EXISTS oauth_family_tokens_family ON oauth_family_tokens (family_id);
CREATE TABLE IF NOT EXISTS oauth_revoked (
    id INTEGER PRIMARY KEY AUTOINCREMENT, jti TEXT NOT NULL UNIQUE, exp REAL NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_login_failures (username TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS oauth_login_failures_user ON oauth_login_failures (username, at);
"""


class Store:
    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(str(db_path), check_same_thread=False, timeout=10.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._conn.executescript(SCHEMA)  # idempotent; several workers may run it at once

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the database's write lock from its start."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._conn.execute(sql, params).fetchone()
            return row

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement in its own (autocommit) transaction; returns the number of changed rows."""
        with self._lock:
            return self._conn.execute(sql, params).rowcount

    def bump(self, conn: sqlite3.Connection, key: str) -> None:
        """Advance a change counter that other worker processes poll (inside a transaction)."""
        conn.execute(
            "INSERT INTO oauth_meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
            (key,),
        )

    def counter(self, key: str) -> int:
        row = self.one("SELECT value FROM oauth_meta WHERE key = ?", (key,))
        return int(row[0]) if row else 0
