"""Per-client rate limiting: a fixed 60-second window per (client_id, sub).

Windows are aligned to the wall-clock minute so that every worker agrees on when one resets.
With one worker the counters live in memory (the hot path stays fast); with several they live
in the shared SQLite file, so the limit is per client, not per client and worker.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from dataclasses import dataclass

WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class Decision:
    limit: int
    remaining: int
    reset_s: int
    allowed: bool

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_s),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.reset_s)
        return out


class RateLimiter:
    def __init__(self, db_path: str | None = None) -> None:
        """``db_path``: share counters through this SQLite file (several workers); None: in memory."""
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}
        self._conn: sqlite3.Connection | None = None
        if db_path is not None:
            self._conn = sqlite3.connect(db_path, timeout=5.0, check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS atom_rate_limits "
                "(key TEXT PRIMARY KEY, window INTEGER NOT NULL, count INTEGER NOT NULL)"
            )

    def hit(self, client_id: str, sub: str, limit: int, now: float | None = None) -> Decision:
        """Count one request and decide; the request that exceeds the limit is not served."""
        now = time.time() if now is None else now
        window = int(now // WINDOW_S)
        reset_s = max(1, math.ceil((window + 1) * WINDOW_S - now))
        count = self._count_shared(f"{client_id}\x1f{sub}", window) if self._conn else self._count(
            (client_id, sub), window)
        allowed = count <= limit
        return Decision(limit, max(0, limit - count), reset_s, allowed)

    def _count(self, key: tuple[str, str], window: int) -> int:
        with self._lock:
            old = self._counts.get(key)
            count = old[1] + 1 if old is not None and old[0] == window else 1
            self._counts[key] = (window, count)
            if len(self._counts) > 100_000:  # forget idle clients of past windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
            return count

    def _count_shared(self, key: str, window: int) -> int:
        assert self._conn is not None
        with self._lock:
            row = self._conn.execute(
                "INSERT INTO atom_rate_limits (key, window, count) VALUES (?, ?, 1) "
                "ON CONFLICT(key) DO UPDATE SET "
                "count = CASE WHEN window = excluded.window THEN count + 1 ELSE 1 END, window = excluded.window "
                "RETURNING count",
                (key, window),
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
