"""Revoked access tokens (by jti), shared between worker processes through SQLite.

Each process keeps the revoked jtis in a dict for O(1) checks on the hot path and loads only the
rows added since its last look (the table's ids only grow).
"""

from __future__ import annotations

import sqlite3
import threading
import time

from .store import Store

# A revoked token is remembered this long past its exp (it is expired by then; the margin covers
# the accept_expired_tokens fault for recently expired tokens).
KEEP_AFTER_EXP_S = 86_400.0


class RevocationList:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._jtis: dict[str, float] = {}
        self._last_id = 0
        self.reload()

    def __contains__(self, jti: str) -> bool:
        return jti in self._jtis

    def reload(self) -> None:
        rows = self._store.all("SELECT id, jti, exp FROM oauth_revoked WHERE id > ? ORDER BY id", (self._last_id,))
        if rows:
            with self._lock:
                for row_id, jti, exp in rows:
                    self._jtis[jti] = exp
                    self._last_id = max(self._last_id, row_id)

    def revoke(self, conn: sqlite3.Connection, jti: str, exp: float) -> None:
        """Record a revocation inside the caller's transaction; call reload() after it commits."""
        conn.execute("INSERT OR IGNORE INTO oauth_revoked (jti, exp) VALUES (?, ?)", (jti, exp))

    def revoke_now(self, jti: str, exp: float) -> None:
        with self._store.transaction() as conn:
            self.revoke(conn, jti, exp)
        self.reload()

    def prune(self) -> None:
        cutoff = time.time() - KEEP_AFTER_EXP_S
        with self._lock:
            self._jtis = {j: e for j, e in self._jtis.items() if e >= cutoff}
        self._store.run("DELETE FROM oauth_revoked WHERE exp < ?", (cutoff,))
