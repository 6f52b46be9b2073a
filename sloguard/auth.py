"""The engine's OAuth2 client: discovery, every grant the checks need, and JWT verification.

The suite knows the authorization server only over HTTP (RFC 8414 discovery, RFC 6749 grants, RFC 7636
PKCE, RFC 7009 revocation, RFC 7662 introspection, a JWKS), so the same code works against the reference
platform and a real ATOM deployment. Protocol pieces come from authlib (client authentication, PKCE
challenge, state and authorization-response parsing) and JWT/JWKS work from PyJWT; the requests go over
one shared ``httpx.AsyncClient``. Authlib's stateful ``AsyncOAuth2Client`` is not the base: it holds one
token per client (the checks need one per grant, client and scope), refuses plain requests without a
token (so it cannot be the checks' shared client), drops the HTTP status from errors, and its httpx
binding is deprecated in favour of httpx2 (whose ``Auth`` objects httpx would refuse).

Secrets (client secrets, passwords, access/refresh tokens, codes, verifiers) never appear in a repr, an
exception message or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt
from authlib.common.security import generate_token
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.errors import MismatchingStateException, MissingCodeException
from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sloguard.errors import UsageError
from sloguard.redact import MASK, redact_secrets

__all__ = [
    "AuthConfigError",
    "AuthError",
    "AuthSettings",
    "AuthorizationCode",
    "ClientCredentials",
    "Discovery",
    "Grant",
    "JWTVerifier",
    "Token",
    "TokenError",
    "TokenInvalid",
    "TokenProvider",
]

log = logging.getLogger(__name__)

Grant = Literal["client_credentials", "password", "authorization_code"]
GRANTS: tuple[str, ...] = ("client_credentials", "password", "authorization_code")
RFC8414_PATH = "/.well-known/oauth-authorization-server"
OIDC_PATH = "/.well-known/openid-configuration"
ALLOWED_JWT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")


# --------------------------------------------------------------------------------------------- errors


class AuthConfigError(UsageError):
    """The auth configuration cannot work (issuer unreachable, bad discovery document, missing setting)."""


class AuthError(Exception):
    """An auth step failed at run time: a check failure, not a usage problem."""


class TokenError(AuthError):
    """An endpoint of the authorization server refused or failed a request.

    The message names the endpoint URL, the HTTP status and the OAuth error code; never a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.error = error
        self.retry_after = retry_after


class TokenInvalid(AuthError):
    """A JWT failed verification; ``reason`` is a short stable code a check can assert on."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"JWT rejected ({reason}): {detail}")
        self.reason = reason
        self.detail = detail


# ------------------------------------------------------------------------------------------- settings


def _mask(value: str | None) -> str | None:
    return None if value is None else MASK


@dataclass(frozen=True, repr=False)
class AuthSettings:
    """Plain auth inputs; sloguard/config.py builds this from the ``auth:`` section."""

    issuer: str
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    pkce_client_id: str | None = None
    pkce_client_secret: str | None = None
    redirect_uri: str | None = None
    audience: str | None = None
    verify_tls: bool = True
    timeout_s: float = 10.0
    grant: Grant = "client_credentials"
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    def __post_init__(self) -> None:
        if self.grant not in GRANTS:
            raise AuthConfigError(
                f"auth.grant {self.grant!r} is not supported; use one of {', '.join(GRANTS)}"
            )
        if self.timeout_s <= 0:
            raise AuthConfigError(f"auth.timeout_s must be > 0 (got {self.timeout_s})")

    def __repr__(self) -> str:
        return (
            f"AuthSettings(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"client_secret={_mask(self.client_secret)!r}, scope={self.scope!r}, username={self.username!r}, "
            f"password={_mask(self.password)!r}, pkce_client_id={self.pkce_client_id!r}, "
            f"pkce_client_secret={_mask(self.pkce_client_secret)!r}, redirect_uri={self.redirect_uri!r}, "
            f"audience={self.audience!r}, verify_tls={self.verify_tls!r}, timeout_s={self.timeout_s!r}, "
            f"grant={self.grant!r})"
        )


class _ClientAuthAdapter(httpx.Auth):
    """Applies authlib's client authentication (Basic header, or body fields) to an httpx request."""

    requires_request_body = True

    def __init__(self, client_auth: ClientAuth) -> None:
        self._client_auth = client_auth

    def __repr__(self) -> str:
        return f"<client auth for {self._client_auth.client_id!r}>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        url, headers, body = self._client_auth.prepare(
            request.method, str(request.url), headers, request.content.decode()
        )
        yield httpx.Request(
            request.method, url, headers=headers, content=body.encode(), extensions=request.extensions
        )


@dataclass(frozen=True, repr=False)
class ClientCredentials:
    """One OAuth client identity; a missing secret means a public client (``client_id`` in the body)."""

    client_id: str
    client_secret: str | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    def httpx_auth(self) -> httpx.Auth:
        method = self.auth_method if self.client_secret else "none"
        return _ClientAuthAdapter(ClientAuth(self.client_id, self.client_secret, auth_method=method))

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, client_secret={_mask(self.client_secret)!r})"


# -------------------------------------------------------------------------------------------- tokens


@dataclass(frozen=True, repr=False)
class Token:
    """An issued token set. ``expires_at`` is on the provider's clock and never later than the JWT's exp."""

    access_token: str
    token_type: str
    issued_at: float
    expires_at: float | None
    grant: str
    client_id: str
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lifetime_s(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.issued_at

    def remaining_s(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        return f"Bearer {self.access_token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def __repr__(self) -> str:
        lifetime = self.lifetime_s
        return (
            f"Token(grant={self.grant!r}, client_id={self.client_id!r}, scope={self.scope!r}, "
            f"lifetime_s={None if lifetime is None else round(lifetime, 1)!r}, "
            f"access_token={MASK!r}, refresh_token={_mask(self.refresh_token)!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class AuthorizationCode:
    """The result of the consent step: what ``exchange_code`` needs, kept for negative checks."""

    code: str
    code_verifier: str
    state: str
    redirect_uri: str
    client_id: str
    scope: str | None

    def __repr__(self) -> str:
        return (
            f"AuthorizationCode(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r}, "
            f"scope={self.scope!r}, code={MASK!r}, code_verifier={MASK!r})"
        )

    __str__ = __repr__


# ----------------------------------------------------------------------------------------- helpers


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _transport_reason(exc: httpx.TransportError) -> str:
    detail = _one_line(str(exc), 120)
    kind = type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in detail or "SSL" in detail:
        return f"TLS verification failed ({detail}); for a self-signed test server set auth.verify_tls: false"
    return f"{kind}: {detail}" if detail else kind


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    """The OAuth ``error`` and a description from an error body (RFC 6749 5.2 or the platform's shape)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    description = body.get("error_description") or body.get("detail")
    return (
        _one_line(str(error), 60) if error is not None else None,
        _one_line(str(description)) if description is not None else None,
    )


def _status_error(what: str, response: httpx.Response, secrets: tuple[str | None, ...] = ()) -> TokenError:
    url = str(response.request.url.copy_with(query=None))
    error, description = _error_fields(response)
    text = f"{what} to {url} failed: HTTP {response.status_code}"
    if response.reason_phrase:
        text += f" {response.reason_phrase}"
    if error:
        text += f" ({error}{': ' + description if description else ''})"
    elif description:
        text += f" ({description})"
    return TokenError(
        redact_secrets(text, secrets),
        url=url,
        status=response.status_code,
        error=error,
        retry_after=_retry_after(response),
    )


def _unverified_exp(access_token: str) -> float | None:
    """The JWT's ``exp`` if the access token is a JWT, so the cache never outlives it."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


# --------------------------------------------------------------------------------------- discovery


def discovery_urls(issuer: str) -> tuple[str, str]:
    """RFC 8414 (well-known inserted before the issuer's path) and OIDC (appended) discovery URLs."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{origin}{RFC8414_PATH}{path}", f"{origin}{path}{OIDC_PATH}"


@dataclass(frozen=True)
class Discovery:
    """The authorization server's metadata, validated: it names this issuer and a token endpoint."""

    issuer: str
    token_endpoint: str
    source_url: str
    authorization_endpoint: str | None = None
    jwks_uri: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    grant_types_supported: tuple[str, ...] = ()
    code_challenge_methods_supported: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    ENDPOINTS = (
        "token_endpoint",
        "authorization_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    )

    def endpoint(self, name: str) -> str:
        """The URL of ``name`` (e.g. ``revocation_endpoint``), or a clear error when not advertised."""
        value = getattr(self, name, None)
        if not value:
            raise AuthConfigError(
                f"the discovery document at {self.source_url} names no {name}; "
                "the authorization server does not support this step or its metadata is incomplete"
            )
        return str(value)

    @classmethod
    async def fetch(
        cls,
        issuer: str,
        http: httpx.AsyncClient | None = None,
        *,
        verify_tls: bool = True,
        timeout_s: float = 10.0,
    ) -> Discovery:
        """Fetch RFC 8414 metadata, falling back to OIDC discovery; errors are one clear line."""
        if not _is_http_url(issuer):
            raise AuthConfigError(
                f"auth.issuer {issuer!r} is not an http(s) URL; set it to the authorization server's base URL"
            )
        if http is None:
            async with httpx.AsyncClient(verify=verify_tls, timeout=timeout_s) as own:
                return await cls._fetch(issuer, own, timeout_s)
        return await cls._fetch(issuer, http, timeout_s)

    @classmethod
    async def _fetch(cls, issuer: str, http: httpx.AsyncClient, timeout_s: float) -> Discovery:
        content_error: AuthConfigError | None = None
        statuses: list[str] = []
        for url in discovery_urls(issuer):
            try:
                response = await http.get(url, timeout=timeout_s, headers={"Accept": "application/json"})
            except httpx.TransportError as exc:
                raise AuthConfigError(
                    f"cannot reach the OAuth issuer {issuer} (GET {url}: {_transport_reason(exc)}); "
                    "check auth.issuer and that the server is running"
                ) from None
            if response.status_code != 200:
                statuses.append(f"{url} answered HTTP {response.status_code}")
                continue
            try:
                return cls.parse(issuer, url, response)
            except AuthConfigError as exc:
                content_error = content_error or exc
        if content_error is not None:
            raise content_error
        raise AuthConfigError(
            f"no discovery document for issuer {issuer}: {'; '.join(statuses)}; "
            "set auth.issuer to the authorization server's base URL"
        )

    @classmethod
    def parse(cls, issuer: str, url: str, response: httpx.Response) -> Discovery:
        try:
            doc = response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "no content-type")
            raise AuthConfigError(
                f"the discovery document at {url} is not JSON ({ctype}); "
                "check that auth.issuer points at the authorization server, not a web page"
            ) from None
        if not isinstance(doc, dict):
            raise AuthConfigError(f"the discovery document at {url} is not a JSON object")
        named = doc.get("issuer")
        if not isinstance(named, str) or not named:
            raise AuthConfigError(f"the discovery document at {url} has no issuer (RFC 8414 section 2)")
        if named.rstrip("/") != issuer.rstrip("/"):
            raise AuthConfigError(
                f"the discovery document at {url} names issuer {named!r}, not {issuer!r} "
                "(RFC 8414 section 3.3); set auth.issuer to the issuer the server names if you trust it"
            )
        if not doc.get("token_endpoint"):
            raise AuthConfigError(
                f"the discovery document at {url} has no token_endpoint; the server cannot issue tokens"
            )
        for name in cls.ENDPOINTS:
            value = doc.get(name)
            if value is not None and not (isinstance(value, str) and _is_http_url(value)):
                raise AuthConfigError(
                    f"the discovery document at {url} has {name} {value!r}, not an http(s) URL"
                )

        def strings(name: str) -> tuple[str, ...]:
            value = doc.get(name)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(
            issuer=named,
            token_endpoint=doc["token_endpoint"],
            source_url=url,
            authorization_endpoint=doc.get("authorization_endpoint"),
            jwks_uri=doc.get("jwks_uri"),
            revocation_endpoint=doc.get("revocation_endpoint"),
            introspection_endpoint=doc.get("introspection_endpoint"),
            userinfo_endpoint=doc.get("userinfo_endpoint"),
            grant_types_supported=strings("grant_types_supported"),
            code_challenge_methods_supported=strings("code_challenge_methods_supported"),
            raw=doc,
        )


# ---------------------------------------------------------------------------------- token provider

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
    ) -> ClientCredentials:
        """The client identity for ``grant``: explicit, else the PKCE client for the code grant, else
        the main client."""
        method = self.settings.token_endpoint_auth_method
        if client_id is not None:
            return ClientCredentials(client_id, client_secret, method)
        if grant == "authorization_code" and self.settings.pkce_client_id:
            return ClientCredentials(self.settings.pkce_client_id, self.settings.pkce_client_secret, method)
        if not self.settings.client_id:
            raise AuthConfigError("auth.client_id is not set; the token endpoint needs a client")
        return ClientCredentials(self.settings.client_id, self.settings.client_secret, method)

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
        self, grant: str, creds: ClientCredentials, scope: str | None, old: Token | None
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
        self, *, scope: str | None = None, client: ClientCredentials | None = None
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
        client: ClientCredentials | None = None,
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
        self, *, scope: str | None = None, client: ClientCredentials | None = None
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
                f"authorization request to {url} failed: {_transport_reason(exc)}", url=url
            ) from None

    async def authorize_code(
        self,
        *,
        client: ClientCredentials | None = None,
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
            raise _status_error(what, response, (password,))
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
                f"{what} to {url} was denied: {_one_line(params['error'], 60)}"
                + (f": {_one_line(description)}" if description else ""),
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
        client: ClientCredentials | None = None,
    ) -> Token:
        creds = client or self.client("authorization_code")
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier is not None:
            data["code_verifier"] = code_verifier
        return await self._token_call(data, creds, "authorization_code", secrets=(code, code_verifier))

    async def refresh(
        self, refresh_token: str, *, scope: str | None = None, client: ClientCredentials | None = None
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
        self, token: str, token_type_hint: str | None = None, *, client: ClientCredentials | None = None
    ) -> None:
        """RFC 7009: 200 means revoked (or already invalid); anything else is a TokenError."""
        creds = client or self.client(self.settings.grant)
        url = (await self.discovery()).endpoint("revocation_endpoint")
        data = {"token": token}
        if token_type_hint:
            data["token_type_hint"] = token_type_hint
        response = await self._post(url, data, creds.httpx_auth(), "revocation request")
        if response.status_code != 200:
            raise _status_error(f"revocation request (client {creds.client_id})", response, (token,))

    async def introspect(
        self, token: str, token_type_hint: str | None = None, *, client: ClientCredentials | None = None
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
            raise _status_error(what, response, (token,))
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
        """POST ``data`` to the token endpoint as is; ``auth`` e.g. ``ClientCredentials(...).httpx_auth()``.

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
            raise TokenError(f"{what} to {url} failed: {_transport_reason(exc)}", url=url) from None

    async def _token_call(
        self, data: dict[str, str], creds: ClientCredentials, grant: str, secrets: tuple[str | None, ...] = ()
    ) -> Token:
        what = f"token request (grant {grant}, client {creds.client_id})"
        sent_at = self._clock()
        response = await self.raw_token_request(data, creds.httpx_auth())
        url = str(response.request.url)
        secrets = (*secrets, creds.client_secret)
        if response.status_code != 200:
            raise _status_error(what, response, secrets)
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


# ------------------------------------------------------------------------------------ JWT verifier


class JWTVerifier:
    """Verifies access tokens against the issuer's JWKS: RS256/ES256 only, ``exp``, ``aud`` and ``iss``.

    Keys are cached; an unknown ``kid`` triggers one JWKS refetch (key rotation), at most one per
    ``min_refetch_s`` so a flood of forged kids cannot turn into a flood of JWKS requests.
    """

    def __init__(
        self,
        jwks_uri: str,
        *,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient | None = None,
        verify_tls: bool = True,
        timeout_s: float = 10.0,
        algorithms: tuple[str, ...] = ALLOWED_JWT_ALGORITHMS,
        leeway_s: float = 0.0,
        min_refetch_s: float = 1.0,
        negative_ttl_s: float = 30.0,
    ) -> None:
        unsupported = set(algorithms) - set(ALLOWED_JWT_ALGORITHMS)
        if unsupported:
            raise AuthConfigError(
                f"JWT algorithms {sorted(unsupported)} are not allowed; use RS256 and/or ES256"
            )
        self.jwks_uri = jwks_uri
        self.issuer = issuer
        self.audience = audience
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(verify=verify_tls, timeout=timeout_s)
        self.timeout_s = timeout_s
        self.algorithms = algorithms
        self.leeway_s = leeway_s
        self.min_refetch_s = min_refetch_s
        self.negative_ttl_s = negative_ttl_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._missing: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.jwks_fetches = 0

    def __repr__(self) -> str:
        return f"JWTVerifier(jwks_uri={self.jwks_uri!r}, issuer={self.issuer!r}, audience={self.audience!r})"

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def refresh_keys(self) -> None:
        """Fetch the JWKS and keep the keys whose algorithm is allowed."""
        self.jwks_fetches += 1
        url = self.jwks_uri
        try:
            response = await self.http.get(
                url, timeout=self.timeout_s, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            raise TokenError(f"JWKS request to {url} failed: {_transport_reason(exc)}", url=url) from None
        if response.status_code != 200:
            raise _status_error("JWKS request", response)
        try:
            doc = response.json()
        except ValueError:
            raise TokenError(f"JWKS at {url} is not JSON", url=url, status=200) from None
        raw_keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(raw_keys, list):
            raise TokenError(f"JWKS at {url} has no 'keys' list", url=url, status=200)
        keys: dict[str, jwt.PyJWK] = {}
        for raw in raw_keys:
            if (
                not isinstance(raw, dict)
                or raw.get("use", "sig") != "sig"
                or raw.get("kty") not in ("RSA", "EC")
            ):
                continue
            try:
                key = jwt.PyJWK(raw)
            except jwt.PyJWTError:
                continue
            if key.algorithm_name in self.algorithms:
                keys[str(key.key_id or "")] = key
        if not keys:
            raise TokenError(
                f"JWKS at {url} has no usable {'/'.join(self.algorithms)} signing key", url=url, status=200
            )
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._missing.clear()
        log.debug("JWKS from %s: %d keys", url, len(keys))

    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        if not self._keys:
            async with self._lock:
                if not self._keys:
                    await self.refresh_keys()
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise TokenInvalid(
                "unknown_kid", f"the token header has no kid and the JWKS has {len(self._keys)} keys"
            )
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            seen_missing = self._missing.get(kid)
            if seen_missing is None or time.monotonic() - seen_missing > self.negative_ttl_s:
                since = time.monotonic() - (self._fetched_at or 0.0)
                if since < self.min_refetch_s:
                    await asyncio.sleep(self.min_refetch_s - since)
                await self.refresh_keys()
                if kid in self._keys:
                    return self._keys[kid]
                self._missing[kid] = time.monotonic()
        raise TokenInvalid("unknown_kid", f"no key {_one_line(kid, 80)!r} in the JWKS at {self.jwks_uri}")

    async def verify(
        self, token: str, *, audience: str | None = None, issuer: str | None = None
    ) -> dict[str, Any]:
        """The verified claims, or TokenInvalid naming why the token must be rejected."""
        audience = audience or self.audience
        issuer = issuer or self.issuer
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed", f"not a JWS compact token ({_one_line(str(exc), 80)})") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenInvalid(
                "alg_not_allowed",
                f"algorithm {alg!r} is not allowed (accepted: {', '.join(self.algorithms)})",
            )
        kid = header.get("kid")
        key = await self._key_for(str(kid) if kid is not None else None)
        if key.algorithm_name != alg:
            raise TokenInvalid(
                "alg_not_allowed", f"header alg {alg} does not match key {kid!r} ({key.algorithm_name})"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("expired", "the token's exp is in the past") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalid("wrong_audience", f"the token's aud does not include {audience!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenInvalid("wrong_issuer", f"the token's iss is not {issuer!r}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalid("missing_claim", f"the token has no {exc.claim!r} claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenInvalid("not_yet_valid", "the token's nbf/iat is in the future") from None
        except jwt.InvalidSignatureError:
            raise TokenInvalid("bad_signature", f"the signature does not verify with key {kid!r}") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed", _one_line(str(exc), 120)) from None
        return claims
