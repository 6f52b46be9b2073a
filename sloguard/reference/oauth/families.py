"""Refresh tokens: opaque, stored hashed, rotated on every use, grouped in families.

A family is everything issued from one grant (a password login or an authorization code). Using a
refresh token twice means it leaked: the whole family, refresh and access tokens, is revoked.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from .errors import OAuthError
from .passwords import token_digest
from .revocation import RevocationList
from .store import Store
from .tokens import Minted


@dataclass(frozen=True)
class RefreshGrant:
    family_id: str
    client_id: str
    user_id: str
    scope: str
    auth_time: int
    expires_at: float


class Families:
    def __init__(self, store: Store, revocations: RevocationList, refresh_ttl_s: int) -> None:
        self._store = store
        self._revocations = revocations
        self._ttl = refresh_ttl_s

    def start(self, client_id: str, user_id: str) -> str:
        family_id = secrets.token_urlsafe(12)
        self._store.run(
            "INSERT INTO oauth_families VALUES (?, ?, ?, ?, NULL)",
            (family_id, client_id, user_id, time.time()),
        )
        return family_id

    def issue(
        self,
        family_id: str,
        access: Minted,
        *,
        client_id: str,
        user_id: str,
        scope: str,
        auth_time: int,
        with_refresh: bool = True,
    ) -> str | None:
        """Record the access token in its family and return a new refresh token for it."""
        token = secrets.token_urlsafe(32) if with_refresh else None
        now = time.time()
        with self._store.transaction() as conn:
            row = conn.execute("SELECT revoked_at FROM oauth_families WHERE family_id = ?", (family_id,)).fetchone()
            if row is None or row[0] is not None:
                raise OAuthError("invalid_grant", "the grant was revoked")
            conn.execute("INSERT INTO oauth_family_tokens VALUES (?, ?, ?)", (access.jti, family_id, access.exp))
            if token is not None:
                conn.execute(
                    "INSERT INTO oauth_refresh_tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    (
                        token_digest(token),
                        family_id,
                        client_id,
                        user_id,
                        scope,
                        auth_time,
                        now,
                        now + self._ttl,
                    ),
                )
        return token

    def lookup(self, token: str) -> tuple[RefreshGrant, bool] | None:
        """(grant, usable) for a refresh token this server issued; None if unknown."""
        row = self._store.one(
            "SELECT r.family_id, r.client_id, r.user_id, r.scope, r.auth_time, r.expires_at, r.used_at, "
            "r.revoked_at, f.revoked_at FROM oauth_refresh_tokens r JOIN oauth_families f USING (family_id) "
            "WHERE r.token_hash = ?",
            (token_digest(token),),
        )
        if row is None:
            return None
        grant = RefreshGrant(*row[:6])
        usable = row[6] is None and row[7] is None and row[8] is None and grant.expires_at > time.time()
        return grant, usable

    def use(self, token: str, client_id: str) -> RefreshGrant:
        """Spend a refresh token (rotation); a second use revokes its whole family."""
        found = self.lookup(token)
        if found is None:
            raise OAuthError("invalid_grant", "unknown refresh token")
        grant, _ = found
        if grant.client_id != client_id:
            raise OAuthError("invalid_grant", "the refresh token was issued to another client")
        now = time.time()
        with self._store.transaction() as conn:
            row = conn.execute(
                "SELECT r.used_at, r.revoked_at, f.revoked_at FROM oauth_refresh_tokens r "
                "JOIN oauth_families f USING (family_id) WHERE r.token_hash = ?",
                (token_digest(token),),
            ).fetchone()
            if row is None:
                raise OAuthError("invalid_grant", "unknown refresh token")
            used_at, revoked_at, family_revoked = row
            if used_at is None and revoked_at is None and family_revoked is None:
                conn.execute(
                    "UPDATE oauth_refresh_tokens SET used_at = ? WHERE token_hash = ?",
                    (now, token_digest(token)),
                )
        if family_revoked is not None or revoked_at is not None:
            raise OAuthError("invalid_grant", "the refresh token was revoked")
        if used_at is not None:
            self.revoke(grant.family_id)
            raise OAuthError("invalid_grant", "refresh token reused: every token of this grant is now revoked")
        if grant.expires_at <= now:
            raise OAuthError("invalid_grant", "the refresh token expired")
        return grant

    def revoke(self, family_id: str) -> None:
        """Revoke a family's refresh tokens and every access token issued in it (RFC 6749 §4.1.2, §10.4)."""
        now = time.time()
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE oauth_families SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
                (now, family_id),
            )
            conn.execute(
                "UPDATE oauth_refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
                (now, family_id),
            )
            for jti, exp in conn.execute(
                "SELECT jti, exp FROM oauth_family_tokens WHERE family_id = ?", (family_id,)
            ).fetchall():
                self._revocations.revoke(conn, jti, exp)
        self._revocations.reload()

    def prune(self) -> None:
        """Forget what can no longer be used (bounded tables for long soak runs)."""
        now = time.time()
        with self._store.transaction() as conn:
            conn.execute("DELETE FROM oauth_refresh_tokens WHERE expires_at < ?", (now - 86_400,))
            conn.execute("DELETE FROM oauth_family_tokens WHERE exp < ?", (now - 86_400,))
            conn.execute(
                "DELETE FROM oauth_families WHERE family_id NOT IN "
                "(SELECT family_id FROM oauth_refresh_tokens) AND created_at < ?",
                (now - 86_400,),
            )
