"""Sessions: a login style's token, cached, renewed before it expires, and its failure remembered.

:class:`Session` is the async driver (httpx.AsyncClient: the synthetic checks), :class:`SyncSession`
the sync one (httpx.Client, requests, or a Locust user's own client). Both cache one token per
session (make one session per identity: a Locust virtual user makes its own), renew it shortly
before it expires (refresh grant when the style has one, else a new login), and remember a failed
login for ``retry_failed_after_s`` (None: for the session's life, which is what a one-shot run
wants: one failure, one finding, not one per check).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from sloguard.redact import redact_text, register_secret
from sloguard.tls import client_tls

from .discovery import Discovery, discovery_flow
from .errors import AuthError, DiscoveryError, LoginFailed, TokenError
from .styles import Credentials, LoginStyle, OAuth2Login
from .tokens import Token
from .transport import (
    AsyncSender,
    Flow,
    SyncSender,
    drive_async,
    drive_sync,
    httpx_async_sender,
    httpx_sync_sender,
    requests_sender,
)

log = logging.getLogger(__name__)


class _Policy:
    """When a token is still good, and how long a failure is remembered (shared by both drivers)."""

    def __init__(self, style: LoginStyle, refresh_margin_s: float, refresh_fraction: float,
                 retry_failed_after_s: float | None, clock: Callable[[], float]) -> None:
        self.style = style
        self.refresh_margin_s = refresh_margin_s
        self.refresh_fraction = refresh_fraction
        self.retry_failed_after_s = retry_failed_after_s
        self.clock = clock
        self.token: Token | None = None
        self.failure: LoginFailed | None = None
        self.failed_at = 0.0
        self.discovered: Discovery | DiscoveryError | None = None
        self.logins = 0

    def fresh(self, token: Token) -> bool:
        if token.expires_at is None:
            return True
        lifetime = max(token.lifetime_s or 0.0, 0.0)
        return token.expires_at - self.clock() > min(self.refresh_margin_s, self.refresh_fraction * lifetime)

    def remembered(self) -> LoginFailed | None:
        if self.failure is None:
            return None
        if self.retry_failed_after_s is not None and self.clock() - self.failed_at >= self.retry_failed_after_s:
            self.failure = None
            if isinstance(self.discovered, DiscoveryError):
                self.discovered = None
            return None
        return self.failure

    def fail(self, exc: AuthError) -> LoginFailed:
        failure = exc if isinstance(exc, LoginFailed) else LoginFailed(redact_text(str(exc)), exc)
        self.failure, self.failed_at = failure, self.clock()
        return failure

    def keep(self, token: Token) -> Token:
        register_secret(token.access_token, token=True)
        register_secret(token.refresh_token, token=True)
        self.token, self.failure = token, None
        self.logins += 1
        return token


class _SessionState:
    """What both sessions show of their policy: the style, the remembered failure, the login count."""

    _policy: _Policy

    @property
    def style(self) -> LoginStyle:
        return self._policy.style

    @property
    def failure(self) -> LoginFailed | None:
        """Why the last login failed, while that is remembered."""
        return self._policy.remembered()

    @property
    def logins(self) -> int:
        """Tokens obtained so far (logins and refreshes)."""
        return self._policy.logins


class Session(_SessionState):
    """The async login session: ``await session.authorization()`` is ``"Bearer <token>"``.

    ``http`` is the httpx.AsyncClient the login requests go over (its event hooks see them, which is
    how the synthetic checks record the login as evidence); ``send`` replaces it with any async
    sender. Concurrent callers share one login.
    """

    def __init__(
        self,
        style: LoginStyle,
        http: httpx.AsyncClient | None = None,
        *,
        send: AsyncSender | None = None,
        timeout_s: float = 10.0,
        verify_tls: bool = True,
        refresh_margin_s: float = 30.0,
        refresh_fraction: float = 0.1,
        retry_failed_after_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._own_http = http is None and send is None
        self.http = http if http is not None or send is not None else httpx.AsyncClient(
            verify=client_tls(verify_tls), timeout=timeout_s)
        self._send = send or httpx_async_sender(self.http, timeout_s=timeout_s)  # type: ignore[arg-type]
        self._policy = _Policy(style, refresh_margin_s, refresh_fraction, retry_failed_after_s, clock)
        self._lock = asyncio.Lock()
        self._discovery_lock = asyncio.Lock()

    # ------------------------------------------------------------------ what callers use
    async def token(self) -> Token | None:
        """A fresh token; None for styles without one (API key, no auth). LoginFailed when it fails."""
        policy = self._policy
        if not policy.style.needs_token:
            return None
        if policy.token is not None and policy.fresh(policy.token):
            return policy.token
        failure = policy.remembered()
        if failure is not None:
            raise failure
        async with self._lock:
            if policy.token is not None and policy.fresh(policy.token):
                return policy.token
            failure = policy.remembered()
            if failure is not None:
                raise failure
            try:
                return policy.keep(await self._renew(policy.token))
            except AuthError as exc:
                raise policy.fail(exc) from None

    async def credentials(self) -> Credentials:
        return self.style.credentials(await self.token())

    async def headers(self) -> dict[str, str]:
        return dict((await self.credentials()).headers)

    async def authorization(self) -> str | None:
        """The ``Authorization`` header value, or None when the style sends none."""
        return (await self.credentials()).headers.get("Authorization")

    def forget(self) -> None:
        """Drop the cached token and any remembered failure (e.g. after the server revoked it)."""
        self._policy.token = None
        self._policy.failure = None

    async def discovery(self) -> Discovery:
        """The provider's metadata for this login (fetched once; a failure is remembered too)."""
        policy = self._policy
        style = policy.style
        if not isinstance(style, OAuth2Login) or not (style.issuer or style.discovery_url):
            raise DiscoveryError(f"{style.describe()} uses no discovery")
        async with self._discovery_lock:
            if policy.discovered is None:
                try:
                    policy.discovered = await drive_async(discovery_flow(style.issuer, style.discovery_url),
                                                          self._send)
                except DiscoveryError as exc:
                    policy.discovered = exc
        if isinstance(policy.discovered, DiscoveryError):
            raise policy.discovered
        return policy.discovered

    async def aclose(self) -> None:
        if self._own_http and self.http is not None:
            await self.http.aclose()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ internals
    async def _renew(self, old: Token | None) -> Token:
        style = self._policy.style
        if old is not None:
            refresh = style.refresh_flow(old)
            if refresh is not None:
                try:
                    return await drive_async(refresh, self._send)
                except TokenError as exc:
                    if exc.status is None or exc.status >= 500:
                        raise
                    log.info("refresh refused (%s); logging in again", exc.error or exc.status)
        if isinstance(style, OAuth2Login) and style.token_url is None:
            style = self._policy.style = style.at((await self.discovery()).token_endpoint)
        return await drive_async(style.login_flow(), self._send)


class SyncSession(_SessionState):
    """The sync login session, for Schemathesis hooks and Locust users.

    ``client`` may be an httpx.Client, a requests.Session or a Locust user's ``self.client``
    (HttpUser or FastHttpUser): the login then goes through that client, so it shows in Locust's
    statistics under ``name``. Thread-safe; not for sharing between gevent greenlets of different
    virtual users (give each user its own session).
    """

    def __init__(
        self,
        style: LoginStyle,
        client: Any = None,
        *,
        send: SyncSender | None = None,
        name: str | None = "auth · login",
        timeout_s: float = 10.0,
        verify_tls: bool = True,
        refresh_margin_s: float = 30.0,
        refresh_fraction: float = 0.1,
        retry_failed_after_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._own: httpx.Client | None = None
        if send is None:
            if client is None:
                self._own = client = httpx.Client(verify=client_tls(verify_tls), timeout=timeout_s)
            if isinstance(client, httpx.Client):
                send = httpx_sync_sender(client, timeout_s=timeout_s)
            else:
                send = requests_sender(client, name=name, timeout_s=timeout_s)
        self._send = send
        self._policy = _Policy(style, refresh_margin_s, refresh_fraction, retry_failed_after_s, clock)
        self._lock = threading.Lock()

    def token(self) -> Token | None:
        policy = self._policy
        if not policy.style.needs_token:
            return None
        with self._lock:
            if policy.token is not None and policy.fresh(policy.token):
                return policy.token
            failure = policy.remembered()
            if failure is not None:
                raise failure
            try:
                return policy.keep(self._renew(policy.token))
            except AuthError as exc:
                raise policy.fail(exc) from None

    def credentials(self) -> Credentials:
        return self.style.credentials(self.token())

    def headers(self) -> dict[str, str]:
        return dict(self.credentials().headers)

    def authorization(self) -> str | None:
        return self.credentials().headers.get("Authorization")

    def forget(self) -> None:
        self._policy.token = None
        self._policy.failure = None

    def discovery(self) -> Discovery:
        policy = self._policy
        style = policy.style
        if not isinstance(style, OAuth2Login) or not (style.issuer or style.discovery_url):
            raise DiscoveryError(f"{style.describe()} uses no discovery")
        if policy.discovered is None:
            try:
                policy.discovered = drive_sync(discovery_flow(style.issuer, style.discovery_url), self._send)
            except DiscoveryError as exc:
                policy.discovered = exc
        if isinstance(policy.discovered, DiscoveryError):
            raise policy.discovered
        return policy.discovered

    def close(self) -> None:
        if self._own is not None:
            self._own.close()

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _renew(self, old: Token | None) -> Token:
        style = self._policy.style
        if old is not None:
            refresh: Flow[Token] | None = style.refresh_flow(old)
            if refresh is not None:
                try:
                    return drive_sync(refresh, self._send)
                except TokenError as exc:
                    if exc.status is None or exc.status >= 500:
                        raise
        if isinstance(style, OAuth2Login) and style.token_url is None:
            style = self._policy.style = style.at(self.discovery().token_endpoint)
        return drive_sync(style.login_flow(), self._send)
