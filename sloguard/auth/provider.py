"""The token provider: every grant the checks need, with a per-(grant, client, scope, user) cache."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.errors import MismatchingStateException, MissingCodeException
from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ._protocol import one_line, status_error, transport_reason
from .discovery import Discovery
from .errors import AuthConfigError, TokenError
from .settings import GRANTS, AuthSettings, Grant, OAuthClient
from .tokens import AuthorizationCode, Token
from .verify import JWTVerifier

log = logging.getLogger(__name__)


def _unverified_exp(access_token: str) -> float | None:
    """The JWT's ``exp`` if the access token is a JWT, so the cache never outlives it."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


_CacheKey = tuple[str, str, str, str]


class TokenProvider:
    """Tokens for the checks: cached per (grant, client, scope, user), renewed shortly before expiry.

    ``get_token`` is the cached path: concurrent callers for one key wait on one lock, so 300 checks
    starting together cause one token request. The other public methods are the raw protocol steps,
    uncached, so negative checks (wrong verifier, reused code or refresh token, wrong redirect URI) can
    be built on them.
    """

    def __init__(
        self,
        settings: AuthSettings,
        http: httpx.AsyncClient | None = None,
        *,
        refresh_margin_s: float = 30.0,
        refresh_fraction: float = 0.1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(verify=settings.verify_tls, timeout=settings.timeout_s)
        self.refresh_margin_s = refresh_margin_s
        self.refresh_fraction = refresh_fraction
        self._clock = clock
        self._discovery: Discovery | None = None
        self._discovery_lock = asyncio.Lock()
        self._cache: dict[_CacheKey, Token] = {}
        self._locks: dict[_CacheKey, asyncio.Lock] = {}
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
        if self._discovery is None:
            async with self._discovery_lock:
                if self._discovery is None:
                    self._discovery = await Discovery.fetch(
                        self.settings.issuer, self.http, timeout_s=self.settings.timeout_s
                    )
        return self._discovery

    async def verifier(self, audience: str | None = None) -> JWTVerifier:
        """A JWT verifier for this issuer's JWKS, sharing the HTTP client."""
        audience = audience or self.settings.audience
        if not audience:
            raise AuthConfigError("auth.audience is not set; JWT verification needs the API's audience")
        disc = await self.discovery()
        return JWTVerifier(
            disc.endpoint("jwks_uri"),
            issuer=disc.issuer,
            audience=audience,
            http=self.http,
            timeout_s=self.settings.timeout_s,
        )

    # ------------------------------------------------------------------------------- cached path

    def client(
        self,
        grant: str = "client_credentials",
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> OAuthClient:
        """The client identity for ``grant``: explicit, else the PKCE client for the code grant, else
        the main client."""
        method = self.settings.token_endpoint_auth_method
        if client_id is not None:
            return OAuthClient(client_id, client_secret, method)
        if grant == "authorization_code" and self.settings.pkce_client_id:
            return OAuthClient(self.settings.pkce_client_id, self.settings.pkce_client_secret, method)
        if not self.settings.client_id:
            raise AuthConfigError("auth.client_id is not set; the token endpoint needs a client")
        return OAuthClient(self.settings.client_id, self.settings.client_secret, method)

    def is_fresh(self, token: Token) -> bool:
        """Still good to hand out: more than min(margin, fraction of lifetime) left."""
        if token.expires_at is None:
            return True
        lifetime = max(token.lifetime_s or 0.0, 0.0)
        margin = min(self.refresh_margin_s, self.refresh_fraction * lifetime)
        return token.expires_at - self._clock() > margin

    async def get_token(
        self,
        grant: Grant | None = None,
        *,
        scope: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Token:
        """A fresh token for (grant, client, scope), from the cache or one request shared by all waiters."""
        grant = grant or self.settings.grant
        if grant not in GRANTS:
            raise AuthConfigError(f"grant {grant!r} is not supported; use one of {', '.join(GRANTS)}")
        creds = self.client(grant, client_id, client_secret)
        scope = self.settings.scope if scope is None else scope
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

    async def _renew(
        self, grant: str, creds: OAuthClient, scope: str | None, old: Token | None
    ) -> Token:
        if old is not None and old.refresh_token:
            try:
                token = await self.refresh(old.refresh_token, scope=scope, client=creds)
                log.debug("renewed %s token for client %s by refresh", grant, creds.client_id)
                return token
            except TokenError as exc:
                if exc.status is None or exc.status >= 500:
                    raise
                log.info(
                    "refresh for client %s refused (%s); starting the %s grant again",
                    creds.client_id,
                    exc.error or exc.status,
                    grant,
                )
        if grant == "client_credentials":
            return await self.client_credentials(scope=scope, client=creds)
        if grant == "password":
            return await self.password(scope=scope, client=creds)
        return await self.authorization_code_flow(scope=scope, client=creds)

    # ---------------------------------------------------------------------------- grants (uncached)

    async def client_credentials(
        self, *, scope: str | None = None, client: OAuthClient | None = None
    ) -> Token:
        creds = client or self.client("client_credentials")
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        return await self._token_call(data, creds, "client_credentials")

    async def password(
        self,
        username: str | None = None,
        password: str | None = None,
        *,
        scope: str | None = None,
        client: OAuthClient | None = None,
    ) -> Token:
        username = username or self.settings.username
        password = password if password is not None else self.settings.password
        if not username or password is None:
            raise AuthConfigError(
                "auth.user (username and password) is not set; the password grant needs a test user"
            )
        creds = client or self.client("password")
        data = {"grant_type": "password", "username": username, "password": password}
        if scope:
            data["scope"] = scope
        return await self._token_call(data, creds, "password", secrets=(password,))

    async def authorization_code_flow(
        self, *, scope: str | None = None, client: OAuthClient | None = None
    ) -> Token:
        """Consent for the test user, then the code exchange with the PKCE verifier."""
        creds = client or self.client("authorization_code")
        grant = await self.authorize_code(client=creds, scope=scope)
        return await self.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri, client=creds)

    async def raw_authorize(self, form: Mapping[str, str]) -> httpx.Response:
        """POST the non-interactive consent form; the 302 is returned, not followed."""
        url = (await self.discovery()).endpoint("authorization_endpoint")
        try:
            return await self.http.post(
                url, data=dict(form), follow_redirects=False, timeout=self.settings.timeout_s
            )
        except httpx.TransportError as exc:
            raise TokenError(
                f"authorization request to {url} failed: {transport_reason(exc)}", url=url
            ) from None

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
            raise AuthConfigError("auth.redirect_uri is not set; the authorization code grant needs it")
        username = username or self.settings.username
        password = password if password is not None else self.settings.password
        if not username or password is None:
            raise AuthConfigError("auth.user (username and password) is not set; consent needs a test user")
        scope = self.settings.scope if scope is None else scope
        verifier = code_verifier or generate_token(64)
        state = state or generate_token(32)
        form = {
            "response_type": "code",
            "client_id": creds.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "username": username,
            "password": password,
            "consent": "approve",
        }
        if scope:
            form["scope"] = scope
        response = await self.raw_authorize(form)
        what = f"authorization request (client {creds.client_id})"
        if response.status_code not in (301, 302, 303, 307, 308):
            raise status_error(what, response, (password,))
        url = str(response.request.url)
        location = response.headers.get("location")
        if not location:
            raise TokenError(
                f"{what} to {url}: HTTP {response.status_code} without a Location header",
                url=url,
                status=response.status_code,
            )
        got, want = urlsplit(location), urlsplit(redirect_uri)
        if (got.scheme, got.netloc, got.path) != (want.scheme, want.netloc, want.path):
            raise TokenError(
                f"{what} to {url} redirected to {got.scheme}://{got.netloc}{got.path}, "
                f"not the registered redirect URI {redirect_uri}",
                url=url,
                status=response.status_code,
                error="unexpected_redirect",
            )
        params = dict(parse_qsl(got.query))
        if "error" in params:
            description = params.get("error_description")
            raise TokenError(
                f"{what} to {url} was denied: {one_line(params['error'], 60)}"
                + (f": {one_line(description)}" if description else ""),
                url=url,
                status=response.status_code,
                error=params["error"],
            )
        try:
            parsed = parse_authorization_code_response(location, state=state)
        except MismatchingStateException:
            raise TokenError(
                f"{what} to {url}: the redirect's state does not match the request (CSRF check)",
                url=url,
                status=response.status_code,
                error="mismatching_state",
            ) from None
        except MissingCodeException:
            raise TokenError(
                f"{what} to {url}: the redirect carries no code",
                url=url,
                status=response.status_code,
                error="missing_code",
            ) from None
        issuer = params.get("iss")
        if issuer is not None and issuer.rstrip("/") != (await self.discovery()).issuer.rstrip("/"):
            raise TokenError(
                f"{what} to {url}: the redirect names issuer {issuer!r} (RFC 9207 mix-up check)",
                url=url,
                status=response.status_code,
                error="mismatching_issuer",
            )
        return AuthorizationCode(parsed["code"], verifier, state, redirect_uri, creds.client_id, scope)

    async def exchange_code(
        self,
        code: str,
        code_verifier: str | None,
        redirect_uri: str,
        *,
        client: OAuthClient | None = None,
    ) -> Token:
        creds = client or self.client("authorization_code")
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            data["code_verifier"] = code_verifier
        return await self._token_call(data, creds, "authorization_code", secrets=(code, code_verifier))

    async def refresh(
        self, refresh_token: str, *, scope: str | None = None, client: OAuthClient | None = None
    ) -> Token:
        """Refresh grant; keeps the newest refresh token (the old one when the server does not rotate)."""
        creds = client or self.client(self.settings.grant)
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if scope:
            data["scope"] = scope
        token = await self._token_call(data, creds, "refresh_token", secrets=(refresh_token,))
        if token.refresh_token is None:
            token = replace(token, refresh_token=refresh_token)
        return token

    async def revoke(
        self, token: str, token_type_hint: str | None = None, *, client: OAuthClient | None = None
    ) -> None:
        """RFC 7009: 200 means revoked (or already invalid); anything else is a TokenError."""
        creds = client or self.client(self.settings.grant)
        url = (await self.discovery()).endpoint("revocation_endpoint")
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        response = await self._post(url, data, creds.httpx_auth(), "revocation request")
        if response.status_code != 200:
            raise status_error(f"revocation request (client {creds.client_id})", response, (token,))

    async def introspect(
        self, token: str, token_type_hint: str | None = None, *, client: OAuthClient | None = None
    ) -> dict[str, Any]:
        """RFC 7662: the introspection response; ``active`` is always present."""
        creds = client or self.client(self.settings.grant)
        url = (await self.discovery()).endpoint("introspection_endpoint")
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        what = f"introspection request (client {creds.client_id})"
        response = await self._post(url, data, creds.httpx_auth(), "introspection request")
        if response.status_code != 200:
            raise status_error(what, response, (token,))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
            raise TokenError(
                f"{what} to {url}: the answer is not an RFC 7662 JSON object with 'active'",
                url=url,
                status=response.status_code,
            )
        return body

    async def raw_token_request(
        self, data: Mapping[str, str], auth: httpx.Auth | None = None
    ) -> httpx.Response:
        """POST ``data`` to the token endpoint as is; ``auth`` e.g. ``OAuthClient(...).httpx_auth()``.

        No status check: negative checks assert on the response themselves.
        """
        url = (await self.discovery()).token_endpoint
        self.token_requests += 1
        return await self._post(url, dict(data), auth, "token request")

    # ------------------------------------------------------------------------------------- internals

    async def _post(
        self, url: str, data: dict[str, str], auth: httpx.Auth | None, what: str
    ) -> httpx.Response:
        try:
            if auth is None:
                return await self.http.post(
                    url, data=data, timeout=self.settings.timeout_s, headers={"Accept": "application/json"}
                )
            return await self.http.post(
                url,
                data=data,
                auth=auth,
                timeout=self.settings.timeout_s,
                headers={"Accept": "application/json"},
            )
        except httpx.TransportError as exc:
            raise TokenError(f"{what} to {url} failed: {transport_reason(exc)}", url=url) from None

    async def _token_call(
        self, data: dict[str, str], creds: OAuthClient, grant: str, secrets: tuple[str | None, ...] = ()
    ) -> Token:
        what = f"token request (grant {grant}, client {creds.client_id})"
        sent_at = self._clock()
        response = await self.raw_token_request(data, creds.httpx_auth())
        url = str(response.request.url)
        secrets = (*secrets, creds.client_secret)
        if response.status_code != 200:
            raise status_error(what, response, secrets)
        try:
            body = response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "no content-type")
            raise TokenError(
                f"{what} to {url}: HTTP 200 with a body that is not JSON ({ctype})", url=url, status=200
            ) from None
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise TokenError(f"{what} to {url}: HTTP 200 without an access_token", url=url, status=200)
        token_type = str(body.get("token_type", ""))
        if token_type.lower() != "bearer":
            raise TokenError(
                f"{what} to {url}: token_type {token_type!r}, expected Bearer", url=url, status=200
            )
        expires_at: float | None = None
        expires_in = body.get("expires_in")
        try:
            if expires_in is not None:
                expires_at = sent_at + float(expires_in)
        except (TypeError, ValueError):
            raise TokenError(
                f"{what} to {url}: expires_in {expires_in!r} is not a number", url=url, status=200
            ) from None
        jwt_exp = _unverified_exp(body["access_token"])
        if jwt_exp is not None and jwt_exp > sent_at:
            # exp is whole seconds on the server's clock and may end up to 1 s before sent_at + expires_in:
            # the earlier one wins so a short-lived token is never handed out after it expired.
            expires_at = jwt_exp if expires_at is None else min(expires_at, jwt_exp)
        elif jwt_exp is not None:
            log.warning("the access token's exp is already past on this clock: is the clock skewed?")
        refresh_token = body.get("refresh_token")
        token = Token(
            access_token=body["access_token"],
            token_type=token_type,
            issued_at=sent_at,
            expires_at=expires_at,
            grant=grant,
            client_id=creds.client_id,
            scope=str(body["scope"]) if body.get("scope") is not None else data.get("scope"),
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            id_token=body.get("id_token") if isinstance(body.get("id_token"), str) else None,
            raw={k: v for k, v in body.items() if k not in ("access_token", "refresh_token", "id_token")},
        )
        log.debug("issued %r", token)
        return token
