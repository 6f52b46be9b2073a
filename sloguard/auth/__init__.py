"""The engine's logins and OAuth2 client: login styles, sessions, discovery, grants, JWT verification.

Every runner logs in the same way (docs/auth.md): :func:`resolve_login` picks the
:class:`LoginStyle` for a config and its description (an OAuth2 token endpoint, a JSON login like
ATOM's, a static token, an API key, or none); a :class:`Session` (async, httpx) or
:class:`SyncSession` (httpx.Client, requests, or a Locust user's own client) sends what the style
builds, caches the token per identity, renews it before it expires and remembers a failed login.
Styles are sans I/O: they build :class:`HttpCall` s and read :class:`HttpAnswer` s.

The OAuth checks use :class:`TokenProvider` (every grant and the raw protocol steps), the login
:mod:`walker` (authorization code + PKCE through a provider's own pages) and :class:`JWTVerifier`.

Secrets (client secrets, passwords, access/refresh tokens, codes, verifiers) never appear in a repr, an
exception message or a log line.
"""

from .discovery import Discovery, discovery_flow, discovery_urls
from .errors import AuthConfigError, AuthError, DiscoveryError, LoginFailed, TokenError, TokenInvalid
from .provider import TokenProvider
from .resolve import declares_security, resolve_login
from .session import Session, SyncSession
from .settings import GRANTS, AuthSettings, Grant
from .styles import (
    APIKey,
    Credentials,
    JSONLogin,
    LoginStyle,
    NoAuth,
    NoCredentials,
    OAuth2Login,
    OAuthClient,
    StaticBearer,
)
from .tokens import AuthorizationCode, Token, is_jwt
from .transport import (
    Flow,
    HttpAnswer,
    HttpCall,
    drive_async,
    drive_sync,
    httpx_async_sender,
    httpx_sync_sender,
    requests_sender,
)
from .verify import ALLOWED_JWT_ALGORITHMS, JWTVerifier
from .walker import LoginRequest, LoginWalkError

__all__ = [
    "ALLOWED_JWT_ALGORITHMS",
    "GRANTS",
    "APIKey",
    "AuthConfigError",
    "AuthError",
    "AuthSettings",
    "AuthorizationCode",
    "Credentials",
    "Discovery",
    "DiscoveryError",
    "Flow",
    "Grant",
    "HttpAnswer",
    "HttpCall",
    "JSONLogin",
    "JWTVerifier",
    "LoginFailed",
    "LoginRequest",
    "LoginStyle",
    "LoginWalkError",
    "NoAuth",
    "NoCredentials",
    "OAuth2Login",
    "OAuthClient",
    "Session",
    "StaticBearer",
    "SyncSession",
    "Token",
    "TokenError",
    "TokenInvalid",
    "TokenProvider",
    "declares_security",
    "discovery_flow",
    "discovery_urls",
    "drive_async",
    "drive_sync",
    "httpx_async_sender",
    "httpx_sync_sender",
    "is_jwt",
    "requests_sender",
    "resolve_login",
]
