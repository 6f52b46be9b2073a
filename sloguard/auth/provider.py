"""The OAuth client of the OAuth checks: every grant, the raw protocol steps, a per-identity cache.

Requests are :class:`~sloguard.auth.transport.HttpCall` s sent over one httpx.AsyncClient (whose event
hooks record them as the checks' evidence, with the client authentication actually sent). The
provider's metadata is fetched once; a discovery that failed is remembered, not retried per check.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sloguard.tls import client_tls

from ._protocol import answer_error, one_line
from .answers import read_token
from .discovery import Discovery, discovery_flow
from .errors import AuthConfigError, DiscoveryError, TokenError
from .settings import GRANTS, AuthSettings, Grant
from .styles import OAuthClient
from .tokens import AuthorizationCode, Token
from .transport import HttpAnswer, HttpCall, drive_async, httpx_async_sender
from .verify import JWTVerifier
from .walker import LoginRequest, call_hook, load_hook, walk

log = logging.getLogger(__name__)

_CacheKey = tuple[str, str, str, str]


class TokenProvider:
    """Tokens for the checks: cached per (grant, client, scope, user), renewed shortly before expiry.

    ``get_token`` is the cached path: concurrent callers for one key wait on one lock, so 300 checks
    starting together cause one token request. The other public methods are the raw protocol steps,
    uncached, so negative checks (wrong verifier, reused code or refresh token, wrong redirect URI) can
    be built on them. ``discovery`` may be given to share the login session's memoized metadata.
    """

    def __init__(
        self,
        settings: AuthSettings,
        http: httpx.AsyncClient | None = None,
        *,
        refresh_margin_s: float = 30.0,
        refresh_fraction: float = 0.1,
        clock: Callable[[], float] = time.time,
        discovery: Callable[[], Awaitable[Discovery]] | None = None,
    ) -> None:
        self.settings = settings
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(verify=client_tls(settings.verify_tls), timeout=settings.timeout_s)
        self._send = httpx_async_sender(self.http, timeout_s=settings.timeout_s)
        self.refresh_margin_s = refresh_margin_s
        self.refresh_fraction = refresh_fraction
        self._clock = clock
        self._shared_discovery = discovery
        self._discovery: Discovery | DiscoveryError | None = None
        self._discovery_lock = asyncio.Lock()
        self._cache: dict[_CacheKey, Token] = {}
        self._locks: dict[_CacheKey, asyncio.Lock] = {}
        self._clients: dict[str, OAuthClient] = {}
        self.token_requests = 0

    def __repr__(self) -> str:
        return f"TokenProvider(settings={self.settings!r}, cached_tokens={len(self._cache)})"

    async def __aenter__(self) -> TokenProvider:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    # ---------------------------------------------------------------- discovery and verification

    async def discovery(self) -> Discovery:
        """The provider's metadata (RFC 8414 / OIDC, or ``auth.discovery_url``); a failure is remembered."""
        async with self._discovery_lock:
            if self._discovery is None:
                try:
                    if self._shared_discovery is not None:
                        self._discovery = await self._shared_discovery()
                    else:
                        issuer = self.settings.issuer if self.settings.issuer_pinned else None
                        flow = discovery_flow(issuer, self.settings.discovery_url)
                        self._discovery = await drive_async(flow, self._send)
                except DiscoveryError as exc:
                    self._discovery = exc
        if isinstance(self._discovery, DiscoveryError):
            raise self._discovery
        return self._discovery

    async def metadata(self) -> Discovery:
        """The metadata with the configured endpoints over it (auth.revocation_url, ...); without a
        discovery document, just those endpoints (when auth.token_url is set)."""
        urls = {"revocation_endpoint": self.settings.revocation_url,
                "introspection_endpoint": self.settings.introspection_url}
        try:
            return (await self.discovery()).with_endpoints(**urls)
        except DiscoveryError:
            if not self.settings.token_url:
                raise
        return Discovery(issuer=self.settings.issuer, token_endpoint=self.settings.token_url,
                         source_url="auth.token_url").with_endpoints(**urls)

    async def verifier(self, audience: str | None = None) -> JWTVerifier:
        """A JWT verifier for this issuer's JWKS, sharing the HTTP client."""
        audience = audience or self.settings.audience
        if not audience:
            raise AuthConfigError("auth.audience is not set; JWT verification needs the API's audience")
        disc = await self.discovery()
        return JWTVerifier(disc.endpoint("jwks_uri"), issuer=disc.issuer, audience=audience, http=self.http,
                           timeout_s=self.settings.timeout_s)

    # ------------------------------------------------------------------------------- clients

    def client(self, grant: str = "client_credentials", client_id: str | None = None,
               client_secret: str | None = None) -> OAuthClient:
        """The client identity for ``grant``: explicit, else the PKCE client for the code grant, the
        password client for the password grant, else the main client."""
        method = self.settings.token_endpoint_auth_method
        s = self.settings
        if client_id is not None:
            found = OAuthClient(client_id, client_secret, method)
        elif grant == "authorization_code" and s.pkce_client_id:
            found = OAuthClient(s.pkce_client_id, s.pkce_client_secret, method)
        elif grant == "password" and s.password_client_id:
            found = OAuthClient(s.password_client_id, s.password_client_secret, method)
        elif not s.client_id:
            raise AuthConfigError(f"no client for the {grant.replace('_', ' ')} grant: set auth.client_id")
        else:
            found = OAuthClient(s.client_id, s.client_secret, method)
        self._clients.setdefault(found.client_id, found)
        return found

    def owner(self, token: Token) -> OAuthClient:
        """The client a token was issued to: the one that may refresh, revoke or introspect it."""
        known = self._clients.get(token.client_id)
        if known is not None:
            return known
        return self.client(token.grant if token.grant in GRANTS else "client_credentials")

    def is_fresh(self, token: Token) -> bool:
        """Still good to hand out: more than min(margin, fraction of lifetime) left."""
        if token.expires_at is None:
            return True
        lifetime = max(token.lifetime_s or 0.0, 0.0)
        margin = min(self.refresh_margin_s, self.refresh_fraction * lifetime)
        return token.expires_at - self._clock() > margin

    # ------------------------------------------------------------------------------- cached path

    async def get_token(self, grant: Grant | None = None, *, scope: str | None = None, client_id: str | None = None,
                        client_secret: str | None = None) -> Token:
        """A fresh token for (grant, client, scope), from the cache or one request shared by all waiters."""
        grant = grant or self.settings.grant
        if grant not in GRANTS:
            raise AuthConfigError(f"grant {grant!r} is not supported; use one of {', '.join(GRANTS)}")
        creds = self.client(grant, client_id, client_secret)
        scope = self._scope(grant) if scope is None else scope
        user = (self.settings.username or "") if grant != "client_credentials" else ""
        key: _CacheKey = (grant, creds.client_id, scope or "", user)
        cached = self._cache.get(key)
        if cached is not None and self.is_fresh(cached):
            return cached
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._cache.get(key)
            if cached is not None and self.is_fresh(cached):
                return cached
            token = await self._renew(grant, creds, scope, cached)
            self._cache[key] = token
            return token

    async def access_token(self, grant: Grant | None = None, *, scope: str | None = None) -> str:
        return (await self.get_token(grant, scope=scope)).access_token

    async def auth_headers(self, grant: Grant | None = None, *, scope: str | None = None) -> dict[str, str]:
        return (await self.get_token(grant, scope=scope)).headers()

    def forget(self) -> None:
        """Drop every cached token (e.g. after the server revoked them)."""
        self._cache.clear()

    def _scope(self, grant: str) -> str | None:
        if grant == "authorization_code" and self.settings.pkce_scope:
            return self.settings.pkce_scope
        return self.settings.scope

    async def _renew(self, grant: str, creds: OAuthClient, scope: str | None, old: Token | None) -> Token:
        if old is not None and old.refresh_token:
            try:
                return await self.refresh(old, scope=scope)
            except TokenError as exc:
                if exc.status is None or exc.status >= 500:
                    raise
                log.info("refresh for client %s refused (%s); starting the %s grant again", creds.client_id,
                         exc.error or exc.status, grant)
        if grant == "client_credentials":
            return await self.client_credentials(scope=scope, client=creds)
        if grant == "password":
            return await self.password(scope=scope, client=creds)
        return await self.authorization_code_flow(scope=scope, client=creds)

    # ---------------------------------------------------------------------------- grants (uncached)

    def _audience(self, data: dict[str, str]) -> dict[str, str]:
        audience, how = self.settings.audience, self.settings.audience_param
        if audience and how in ("resource", "both"):
            data.setdefault("resource", audience)
        if audience and how in ("audience", "both"):
            data.setdefault("audience", audience)
        for name, value in self.settings.extra_params.items():
            data.setdefault(name, value)
        return data

    async def client_credentials(self, *, scope: str | None = None, client: OAuthClient | None = None) -> Token:
        creds = client or self.client("client_credentials")
        data = {"grant_type": "client_credentials"}
        if scope is None and client is None:
            scope = self.settings.scope  # the configured scope is the main client's; another client asks for its own
        if scope:
            data["scope"] = scope
        return await self._token_call(self._audience(data), creds, "client_credentials")

    async def password(self, username: str | None = None, password: str | None = None, *, scope: str | None = None,
                       client: OAuthClient | None = None) -> Token:
        username = username or self.settings.username
        password = password if password is not None else self.settings.password
        if not username or password is None:
            raise AuthConfigError("auth.user (username and password) is not set; the password grant needs a test user")
        creds = client or self.client("password")
        data = {"grant_type": "password", "username": username, "password": password}
        if scope is None and client is None:
            scope = self.settings.scope
        if scope:
            data["scope"] = scope
        return await self._token_call(self._audience(data), creds, "password", secrets=(password,))

    async def authorization_code_flow(self, *, scope: str | None = None, client: OAuthClient | None = None) -> Token:
        """The test user's login and consent, then the code exchange with the PKCE verifier."""
        creds = client or self.client("authorization_code")
        grant = await self.authorize_code(client=creds, scope=scope)
        return await self.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri, client=creds)

    async def authorization_url(self, *, client: OAuthClient, redirect_uri: str, scope: str | None, state: str,
                                code_verifier: str | None) -> str:
        """The authorization request (RFC 6749 4.1.1, RFC 7636 S256) as the URL a browser opens."""
        endpoint = (await self.discovery()).endpoint("authorization_endpoint")
        params = {"response_type": "code", "client_id": client.client_id, "redirect_uri": redirect_uri,
                  "state": state}
        if code_verifier is not None:
            params |= {"code_challenge": create_s256_code_challenge(code_verifier), "code_challenge_method": "S256"}
        if scope:
            params["scope"] = scope
        self._audience(params)
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    async def login_redirect(self, authorize_url: str, redirect_uri: str, *, username: str, password: str,
                             also_stop: tuple[str, ...] = ()) -> str:
        """The test user's way through the provider's pages (the walker, or the auth.pkce.login hook):
        the URL the provider finally redirected to (``redirect_uri``, or one of ``also_stop``)."""
        s = self.settings
        if s.pkce_login:
            hook = load_hook(s.pkce_login, s.config_dir)
            return await call_hook(hook, LoginRequest(authorize_url, redirect_uri, username, password, s.verify_tls,
                                                      s.timeout_s))
        async with httpx.AsyncClient(verify=client_tls(s.verify_tls), timeout=s.timeout_s, headers=self.http.headers,
                                     event_hooks=self.http.event_hooks) as browser:  # its own cookie jar
            end = await walk(authorize_url, redirect_uri, username=username, password=password, http=browser,
                             also_stop=also_stop)
        return end.location

    async def authorize_code(
        self,
        *,
        client: OAuthClient | None = None,
        redirect_uri: str | None = None,
        scope: str | None = None,
        username: str | None = None,
        password: str | None = None,
        state: str | None = None,
        code_verifier: str | None = None,
    ) -> AuthorizationCode:
        """Authorization request with PKCE S256 and the test user's consent; returns code and verifier."""
        creds = client or self.client("authorization_code")
        redirect_uri = redirect_uri or self.settings.redirect_uri
        if not redirect_uri:
            raise AuthConfigError("auth.pkce.redirect_uri is not set; the authorization code grant needs it")
        username = username or self.settings.username
        password = password if password is not None else self.settings.password
        if not username or password is None:
            raise AuthConfigError("auth.user (username and password) is not set; consent needs a test user")
        scope = self._scope("authorization_code") if scope is None else scope
        verifier = code_verifier or secrets.token_urlsafe(48)
        state = state or secrets.token_urlsafe(24)
        url = await self.authorization_url(client=creds, redirect_uri=redirect_uri, scope=scope, state=state,
                                           code_verifier=verifier)
        endpoint = url.split("?", 1)[0]
        what = f"authorization request (client {creds.client_id})"
        location = await self.login_redirect(url, redirect_uri, username=username, password=password)
        params = dict(parse_qsl(urlsplit(location).query))
        if "error" in params:
            description = params.get("error_description")
            raise TokenError(f"{what} to {endpoint} was denied: {one_line(params['error'], 60)}"
                             + (f": {one_line(description)}" if description else ""),
                             url=endpoint, status=302, error=params["error"])
        if params.get("state") != state:
            raise TokenError(f"{what} to {endpoint}: the redirect's state does not match the request (CSRF check)",
                             url=endpoint, status=302, error="mismatching_state")
        if not params.get("code"):
            raise TokenError(f"{what} to {endpoint}: the redirect carries no code", url=endpoint, status=302,
                             error="missing_code")
        issuer = params.get("iss")
        if issuer is not None and issuer.rstrip("/") != (await self.discovery()).issuer.rstrip("/"):
            raise TokenError(f"{what} to {endpoint}: the redirect names issuer {issuer!r} (RFC 9207 mix-up check)",
                             url=endpoint, status=302, error="mismatching_issuer")
        return AuthorizationCode(params["code"], verifier, state, redirect_uri, creds.client_id, scope)

    async def exchange_code(self, code: str, code_verifier: str | None, redirect_uri: str, *,
                            client: OAuthClient | None = None) -> Token:
        creds = client or self.client("authorization_code")
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            data["code_verifier"] = code_verifier
        return await self._token_call(self._audience(data), creds, "authorization_code",
                                      secrets=(code, code_verifier))

    async def refresh(self, token: Token | str, *, scope: str | None = None,
                      client: OAuthClient | None = None) -> Token:
        """Refresh grant with the client that owns the token; keeps the newest refresh token (the old
        one when the server does not rotate). A bare refresh token string uses ``client`` or the main one."""
        if isinstance(token, Token):
            if not token.refresh_token:
                raise AuthConfigError("the token has no refresh token")
            creds, refresh_token, grant = client or self.owner(token), token.refresh_token, token.grant
        else:
            creds, refresh_token, grant = client or self.client(self.settings.grant), token, "refresh_token"
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            data["scope"] = scope
        fresh = await self._token_call(data, creds, "refresh_token", secrets=(refresh_token,))
        fresh = replace(fresh, grant=grant if grant in GRANTS else fresh.grant)
        return fresh if fresh.refresh_token else replace(fresh, refresh_token=refresh_token)

    async def revoke(self, token: str, token_type_hint: str | None = None, *,
                     client: OAuthClient | None = None) -> None:
        """RFC 7009: 200 means revoked (or already invalid); anything else is a TokenError."""
        creds = client or self.client(self.settings.grant)
        url = (await self.metadata()).endpoint("revocation_endpoint")
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        answer = await self._call(url, data, creds, f"revocation request (client {creds.client_id})", (token,))
        if answer.status != 200:
            raise answer_error(f"revocation request (client {creds.client_id})", answer, (token, creds.client_secret))

    async def introspect(self, token: str, token_type_hint: str | None = None, *,
                         client: OAuthClient | None = None) -> dict[str, Any]:
        """RFC 7662: the introspection response; ``active`` is always present."""
        creds = client or self.client(self.settings.grant)
        url = (await self.metadata()).endpoint("introspection_endpoint")
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        what = f"introspection request (client {creds.client_id})"
        answer = await self._call(url, data, creds, what, (token,))
        if answer.status != 200:
            raise answer_error(what, answer, (token, creds.client_secret))
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise TokenError(f"{what} to {url}: the answer is not an RFC 7662 JSON object with 'active'", url=url,
                             status=answer.status)
        return body

    async def raw_token_request(self, data: Mapping[str, str], client: OAuthClient | None = None) -> HttpAnswer:
        """POST ``data`` to the token endpoint as is, authenticated as ``client`` (None: unauthenticated).

        No status check: negative checks assert on the answer themselves.
        """
        url = (await self.metadata()).token_endpoint
        self.token_requests += 1
        return await self._call(url, dict(data), client, "token request")

    # ------------------------------------------------------------------------------------- internals

    async def _call(self, url: str, data: dict[str, str], client: OAuthClient | None, what: str,
                    secrets: tuple[str | None, ...] = ()) -> HttpAnswer:
        headers = client.apply(data) if client is not None else {}
        call = HttpCall.form(url, data, what=what, headers=headers,
                             secrets=(*secrets, client.client_secret if client else None))
        return await self._send(call)

    async def _token_call(self, data: dict[str, str], creds: OAuthClient, grant: str,
                          secrets: tuple[str | None, ...] = ()) -> Token:
        what = f"token request (grant {grant}, client {creds.client_id})"
        url = (await self.metadata()).token_endpoint
        self.token_requests += 1
        headers = creds.apply(data)
        call = HttpCall.form(url, data, what=what, headers=headers, secrets=(*secrets, creds.client_secret))
        sent_at = self._clock()
        answer = await self._send(call)
        token = read_token(call, answer, grant=grant, client_id=creds.client_id, sent_at=sent_at,
                           requested_scope=data.get("scope"))
        self._clients.setdefault(creds.client_id, creds)
        log.debug("issued %r", token)
        return token
