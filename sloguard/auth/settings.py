"""Plain auth inputs, and the OAuth client identity sent to the token endpoint."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

import httpx
from authlib.oauth2.auth import ClientAuth

from sloguard.redact import masked

from .errors import AuthConfigError

Grant = Literal["client_credentials", "password", "authorization_code"]
GRANTS: tuple[str, ...] = ("client_credentials", "password", "authorization_code")


@dataclass(frozen=True, repr=False)
class AuthSettings:
    """Plain auth inputs, built from the ``auth:`` section of the config."""

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
            f"client_secret={masked(self.client_secret)!r}, scope={self.scope!r}, username={self.username!r}, "
            f"password={masked(self.password)!r}, pkce_client_id={self.pkce_client_id!r}, "
            f"pkce_client_secret={masked(self.pkce_client_secret)!r}, redirect_uri={self.redirect_uri!r}, "
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
class OAuthClient:
    """One OAuth client identity; a missing secret means a public client (``client_id`` in the body)."""

    client_id: str
    client_secret: str | None = None
    auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    def httpx_auth(self) -> httpx.Auth:
        method = self.auth_method if self.client_secret else "none"
        return _ClientAuthAdapter(ClientAuth(self.client_id, self.client_secret, auth_method=method))

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, client_secret={masked(self.client_secret)!r})"
