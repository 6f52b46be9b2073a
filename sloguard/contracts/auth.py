"""Schemathesis' auth provider on sloguard's own auth layer: one login, for every suite the same.

The contract run logs in the way the synthetic suite does (today: `sloguard.auth.TokenProvider`, the
config's client credentials; the issuer may be on another host than the API). Schemathesis calls
`TargetAuth.get` only when its cached token is due — after ``refresh_s`` (the token's lifetime less a
margin) or after a 401, when it invalidates the cache, calls `get` once and replays the request once
(`schemathesis.auths.reauth_and_replay`). So `get` always logs in afresh.

Switching to the Session API of `sloguard.auth` (login styles: token endpoint, JSON login, static
bearer or API key, none) changes `_fetch` and `open_auth` only.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sloguard import redact
from sloguard.auth import AuthError, AuthSettings, Token, TokenProvider
from sloguard.errors import UsageError

if TYPE_CHECKING:
    from schemathesis import AuthContext, Case
    from schemathesis.schemas import BaseSchema

MIN_REFRESH_S = 5
REFRESH_MARGIN_S = 30.0


@dataclass(frozen=True)
class Credential:
    """What goes on each request: header name and value (the value is a registered secret)."""

    header: str
    value: str
    lifetime_s: float | None = None


class TargetAuth:
    """Logs in through sloguard's auth layer; thread-safe (Schemathesis workers are threads)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.logins = 0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TargetAuth(settings={self.settings!r}, logins={self.logins})"

    def login(self) -> Credential:
        """A fresh credential (a login, not the cache); its value is registered for redaction."""
        with self._lock:
            token = asyncio.run(self._fetch())
            self.logins += 1
        redact.register_secret(token.access_token, token=True)
        if token.refresh_token:
            redact.register_secret(token.refresh_token, token=True)
        header, value = next(iter(token.headers().items()))
        return Credential(header, value, token.lifetime_s)

    async def _fetch(self) -> Token:
        # One event loop per login: logins are rare (once per token lifetime and after a 401), and the
        # engine's worker threads have no loop of their own.
        async with TokenProvider(self.settings) as provider:
            return await provider.get_token()

    # --- schemathesis.AuthProvider ---------------------------------------------------------------

    def get(self, case: Case, ctx: AuthContext) -> Credential:
        return self.login()

    def set(self, case: Case, data: Credential, ctx: AuthContext) -> None:
        case.headers[data.header] = data.value


def refresh_interval(first: Credential) -> int:
    """How long Schemathesis may reuse a token: its lifetime less a margin (10% of it, at most 30 s)."""
    if first.lifetime_s is None:
        return 300
    margin = min(REFRESH_MARGIN_S, 0.1 * first.lifetime_s)
    return max(MIN_REFRESH_S, int(first.lifetime_s - margin))


def open_auth(settings: AuthSettings | None) -> tuple[TargetAuth | None, Credential | None]:
    """Log in once before the run: a broken login is one clear error now, not hundreds of 401s later.

    None, None: the target needs no login (no client configured).
    """
    if settings is None or not settings.client_id:
        return None, None
    auth = TargetAuth(settings)
    try:
        first = auth.login()
    except AuthError as exc:
        raise UsageError(f"login failed before the contract run: {redact.redact_text(str(exc))}; check auth: in "
                         "the config (client_id, client_secret, issuer)") from None
    return auth, first


def install(schema: BaseSchema, auth: TargetAuth, first: Credential) -> None:
    """Register the provider on this schema (not globally), with a 401 refreshing once and replaying."""

    class Provider(_Primed):
        def __init__(self) -> None:
            super().__init__(auth, first)

    schema.auth(refresh_interval=refresh_interval(first), retry_on=[401])(Provider)


class _Primed:
    """Hands out the credential of the pre-run login first, then logs in afresh on each call."""

    def __init__(self, auth: TargetAuth, first: Credential) -> None:
        self.auth = auth
        self._first: Credential | None = first

    def get(self, case: Any, ctx: Any) -> Credential:
        first, self._first = self._first, None
        return first if first is not None else self.auth.login()

    def set(self, case: Any, data: Credential, ctx: Any) -> None:
        self.auth.set(case, data, ctx)
