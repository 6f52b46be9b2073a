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

Modules: `errors`, `settings` (inputs and the client identity), `discovery`, `tokens` (what is issued),
`provider` (the grants and the token cache), `verify` (JWT verification).
"""

from .discovery import Discovery, discovery_urls
from .errors import AuthConfigError, AuthError, TokenError, TokenInvalid
from .provider import TokenProvider
from .settings import GRANTS, AuthSettings, Grant, OAuthClient
from .tokens import AuthorizationCode, Token
from .verify import ALLOWED_JWT_ALGORITHMS, JWTVerifier

__all__ = [
    "ALLOWED_JWT_ALGORITHMS",
    "GRANTS",
    "AuthConfigError",
    "AuthError",
    "AuthSettings",
    "AuthorizationCode",
    "Discovery",
    "Grant",
    "JWTVerifier",
    "OAuthClient",
    "Token",
    "TokenError",
    "TokenInvalid",
    "TokenProvider",
    "discovery_urls",
]
