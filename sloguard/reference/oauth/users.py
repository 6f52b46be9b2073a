"""The test tenants and users, and checking a user's password."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .passwords import dummy_password_hash, hash_password, is_current, verify_password
from .store import Store

SEED_TENANTS = {"acme": "Acme Corporation", "globex": "Globex Corporation"}
# (id, email, name, tenant, password)
SEED_USERS = [
    ("usr_alice", "alice@acme.test", "Alice Anderson", "acme", "alice-password"),
    ("usr_bob", "bob@globex.test", "Bob Brown", "globex", "bob-password"),
]


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str
    tenant: str
    created_at: str
    password_hash: str

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "tenant": self.tenant,
            "created_at": self.created_at,
        }


class UserDirectory:
    """Users are seeded once and never change at run time, so they are read into memory."""

    def __init__(self, store: Store) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        have_users = {row[0]: row[1] for row in store.all("SELECT id, password_hash FROM oauth_users")}
        # Hash outside the write transaction: hashing is slow and other workers wait on the lock.
        new_users = [
            (uid, email, name, tenant, hash_password(pw), now)
            for uid, email, name, tenant, pw in SEED_USERS
            if uid not in have_users
        ]
        # A database from an older version may hold hashes of another kind: re-hash the seed password.
        rehash = [
            (hash_password(pw), uid)
            for uid, _, _, _, pw in SEED_USERS
            if uid in have_users and not is_current(have_users[uid])
        ]
        with store.transaction() as conn:
            for tid, tname in SEED_TENANTS.items():
                conn.execute("INSERT OR IGNORE INTO oauth_tenants VALUES (?, ?, ?)", (tid, tname, now))
            conn.executemany("INSERT OR IGNORE INTO oauth_users VALUES (?, ?, ?, ?, ?, ?)", new_users)
            conn.executemany("UPDATE oauth_users SET password_hash = ? WHERE id = ?", rehash)
        rows = store.all("SELECT id, email, name, tenant, created_at, password_hash FROM oauth_users ORDER BY id")
        self._by_id = {r[0]: User(*r) for r in rows}
        self._by_email = {u.email.lower(): u for u in self._by_id.values()}
        self.tenants = {r[0] for r in store.all("SELECT id FROM oauth_tenants")}

    def get(self, user_id: str) -> User | None:
        return self._by_id.get(user_id)

    def in_tenant(self, tenant: str) -> list[User]:
        return [u for u in self._by_id.values() if u.tenant == tenant]

    def check_password(self, username: str, password: str) -> User | None:
        """The user, if the password is right; an unknown name costs as much as a wrong password."""
        user = self._by_email.get(username.strip().lower())
        ok = verify_password(password, user.password_hash if user else dummy_password_hash())
        return user if ok and user is not None else None
