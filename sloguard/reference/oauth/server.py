"""The authorization server of the reference platform, and the bearer check the API calls.

State that several worker processes share (keys, revocations, codes, refresh tokens, failed logins)
lives in SQLite; each process re-reads keys and revocations at most every 0.2 s, like SharedFaults.
"""

from __future__ import annotations

import time
from typing import Any

from ..faults import SharedFaults
from ..settings import PlatformSettings
from .clients import ClientRegistry
from .codes import Codes
from .errors import AuthError
from .families import Families
from .grants import TokenEndpoint
from .keys import KeyRing
from .revocation import RevocationList
from .routes import build_router
from .store import Store
from .throttle import LoginThrottle
from .tokens import AccessTokens, Principal
from .users import UserDirectory

SYNC_EVERY_S = 0.2
HOUSEKEEPING_EVERY_S = 60.0

__all__ = ["AuthError", "AuthServer", "Principal"]


class AuthServer:
    def __init__(self, settings: PlatformSettings, faults: SharedFaults) -> None:
        self.settings = settings
        self.faults = faults
        self.store = Store(settings.db_path)
        self.clients = ClientRegistry(self.store)
        self.users = UserDirectory(self.store)
        self.keys = KeyRing(self.store, lambda: max(settings.access_token_ttl_s, settings.short_token_ttl_s))
        self.revocations = RevocationList(self.store)
        self.tokens = AccessTokens(self.keys, settings)
        self.families = Families(self.store, self.revocations, settings.refresh_token_ttl_s)
        self.codes = Codes(self.store, self.families)
        self.throttle = LoginThrottle(self.store, settings.login_max_failures, settings.login_window_s)
        self.endpoint = TokenEndpoint(
            settings,
            self.clients,
            self.users,
            self.tokens,
            self.families,
            self.codes,
            self.throttle,
            self.revocations,
        )
        self._synced_at = time.monotonic()
        self._housekept_at = time.monotonic()
        self.router = build_router(self)

    def sync(self) -> None:
        """Pick up keys and revocations other workers changed (at most every 0.2 s)."""
        now = time.monotonic()
        if now - self._synced_at >= SYNC_EVERY_S:
            self._synced_at = now
            self.keys.reload()
            self.revocations.reload()

    def housekeeping(self) -> None:
        """Drop expired rows now and then, so soak runs do not grow the tables without bound."""
        now = time.monotonic()
        if now - self._housekept_at >= HOUSEKEEPING_EVERY_S:
            self._housekept_at = now
            self.revocations.prune()
            self.families.prune()
            self.codes.prune()

    def authenticate(self, authorization: str | None, scope: str | None) -> Principal:
        """The principal of a bearer token; AuthError 401 (bad token) or 403 (scope missing)."""
        faults = self.faults.get()
        now = time.monotonic()
        if now - self._synced_at >= SYNC_EVERY_S:
            self.sync()
        if not authorization:
            raise AuthError.unauthorized("missing bearer token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise AuthError.unauthorized("the Authorization header must be 'Bearer <token>'")
        entry = self.tokens.cache.get(token)
        if entry is None:
            entry = self.tokens.verify(
                token, accept_expired=faults.accept_expired_tokens, accept_alg_none=faults.accept_alg_none
            )
        principal, exp = entry
        if exp <= time.time() and not faults.accept_expired_tokens:
            raise AuthError.unauthorized("token expired")
        if principal.jti in self.revocations:
            raise AuthError.unauthorized("token revoked")
        if scope is not None and scope not in principal.scopes:
            raise AuthError.forbidden(scope)
        return principal

    def list_users(self, tenant: str) -> list[dict[str, Any]]:
        return [u.public() for u in self.users.in_tenant(tenant)]

    def get_user(self, user_id: str) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return user.public() if user is not None else None
