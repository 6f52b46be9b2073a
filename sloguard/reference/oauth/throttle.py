"""Failed-login throttling per username, shared by every worker through SQLite.

After ``max_failures`` failures within ``window_s`` the username is locked until the oldest of
those failures leaves the window; while locked even the right password is refused (429).
"""

from __future__ import annotations

import math
import time

from .store import Store


class LoginThrottle:
    def __init__(self, store: Store, max_failures: int, window_s: float) -> None:
        self._store = store
        self.max_failures = max_failures
        self.window_s = window_s

    @staticmethod
    def _key(username: str) -> str:
        return username.strip().lower()

    def retry_after(self, username: str) -> int | None:
        """Seconds until this username may try again, or None when it is not locked."""
        now = time.time()
        rows = self._store.all(
            "SELECT at FROM oauth_login_failures WHERE username = ? AND at > ? ORDER BY at DESC LIMIT ?",
            (self._key(username), now - self.window_s, self.max_failures),
        )
        if len(rows) < self.max_failures:
            return None
        oldest = rows[-1][0]
        return max(1, math.ceil(oldest + self.window_s - now))

    def failed(self, username: str) -> None:
        now = time.time()
        with self._store.transaction() as conn:
            conn.execute("INSERT INTO oauth_login_failures VALUES (?, ?)", (self._key(username), now))
            conn.execute("DELETE FROM oauth_login_failures WHERE at < ?", (now - self.window_s,))

    def succeeded(self, username: str) -> None:
        self._store.run("DELETE FROM oauth_login_failures WHERE username = ?", (self._key(username),))
