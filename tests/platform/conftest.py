"""Token helpers for tests against the reference platform (used by the OAuth and the API tests).

They talk to the running server over HTTP only, with the test clients and users from
docs/reference-platform.md. The `platform` and `platform_factory` fixtures live in tests/conftest.py.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

REDIRECT_URI = "http://127.0.0.1:8765/callback"

CLIENTS: dict[str, str | None] = {
    "sloguard-ci": "sloguard-ci-secret",
    "sloguard-spa": None,
    "sloguard-admin": "sloguard-admin-secret",
    "sloguard-readonly": "sloguard-readonly-secret",
    "sloguard-globex": "sloguard-globex-secret",
    "sloguard-short": "sloguard-short-secret",
}
USERS: dict[str, str] = {"alice@acme.test": "alice-password", "bob@globex.test": "bob-password"}


class Platform(Protocol):
    base_url: str


def http(platform: Platform) -> httpx.Client:
    """A client for one server; TLS servers use a self-signed certificate, hence verify=False."""
    return httpx.Client(base_url=platform.base_url, timeout=10.0, verify=False, follow_redirects=False)


def token_response(
    platform: Platform, data: dict[str, str], client_id: str | None = None, secret: str | None = None
) -> httpx.Response:
    """POST to the token endpoint; confidential clients authenticate with client_secret_basic."""
    auth = (client_id, secret) if client_id is not None and secret is not None else None
    if client_id is not None and secret is None:
        data = {**data, "client_id": client_id}
    with http(platform) as c:
        return c.post("/api/auth/token", data=data, auth=auth)


def _ok(r: httpx.Response, what: str) -> dict[str, Any]:
    # Never echo the request (it carries secrets); the error body of the server is safe to show.
    assert r.status_code == 200, f"{what} failed: HTTP {r.status_code} {r.text[:300]}"
    body: dict[str, Any] = r.json()
    return body


def client_token(platform: Platform, client_id: str, secret: str, scope: str | None = None) -> str:
    """An access token from the client credentials grant."""
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    return str(
        _ok(token_response(platform, data, client_id, secret), f"client_credentials for {client_id}")["access_token"]
    )


def password_tokens(
    platform: Platform,
    username: str = "alice@acme.test",
    password: str | None = None,
    client_id: str = "sloguard-ci",
    secret: str = "sloguard-ci-secret",
    scope: str | None = None,
) -> dict[str, Any]:
    """The whole token response (access_token, refresh_token, ...) of the password grant."""
    data = {"grant_type": "password", "username": username, "password": password or USERS[username]}
    if scope:
        data["scope"] = scope
    return _ok(token_response(platform, data, client_id, secret), f"password grant for {username}")


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) as RFC 7636 defines them."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize(
    platform: Platform,
    client_id: str = "sloguard-spa",
    username: str = "alice@acme.test",
    password: str | None = None,
    **params: str,
) -> httpx.Response:
    """The non-interactive consent POST; returns the raw (302) response."""
    form = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "read write",
        "state": secrets.token_urlsafe(8),
        "username": username,
        "password": password or USERS[username],
        "consent": "approve",
        **params,
    }
    with http(platform) as c:
        return c.post("/api/auth/authorize", data=form)


def redirect_params(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 302, f"authorize: expected a 302 redirect, got HTTP {r.status_code} {r.text[:300]}"
    return {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}


def code_flow_tokens(
    platform: Platform,
    client_id: str = "sloguard-spa",
    secret: str | None = None,
    username: str = "alice@acme.test",
    scope: str = "read write",
) -> dict[str, Any]:
    """Authorization code + PKCE (S256) end to end: the token response."""
    verifier, challenge = pkce_pair()
    params = redirect_params(
        authorize(platform, client_id, username, scope=scope, code_challenge=challenge, code_challenge_method="S256")
    )
    data = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    return _ok(token_response(platform, data, client_id, secret), f"authorization_code for {client_id}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def token_for(platform: Platform) -> Callable[..., str]:
    """token_for("sloguard-readonly") -> an access token of that client on the session platform."""

    def make(client_id: str, scope: str | None = None) -> str:
        secret = CLIENTS[client_id]
        assert secret is not None, f"{client_id} is a public client: use code_flow_tokens()"
        return client_token(platform, client_id, secret, scope)

    return make


@pytest.fixture
def admin_token(platform: Platform) -> str:
    return client_token(platform, "sloguard-admin", "sloguard-admin-secret")


@pytest.fixture
def admin_headers(admin_token: str) -> dict[str, str]:
    return bearer(admin_token)


@pytest.fixture
def ci_headers(platform: Platform) -> dict[str, str]:
    """sloguard-ci (tenant acme, read write), client credentials."""
    return bearer(client_token(platform, "sloguard-ci", "sloguard-ci-secret"))


@pytest.fixture
def readonly_headers(platform: Platform) -> dict[str, str]:
    return bearer(client_token(platform, "sloguard-readonly", "sloguard-readonly-secret"))


@pytest.fixture
def globex_headers(platform: Platform) -> dict[str, str]:
    return bearer(client_token(platform, "sloguard-globex", "sloguard-globex-secret"))


@pytest.fixture
def user_token(platform: Platform) -> str:
    """alice@acme.test through sloguard-ci's password grant."""
    return str(password_tokens(platform)["access_token"])


@pytest.fixture
def user_headers(user_token: str) -> dict[str, str]:
    return bearer(user_token)


@pytest.fixture
def api(platform: Platform) -> Iterator[httpx.Client]:
    """An HTTP client on the session platform (no credentials: pass headers per call)."""
    with http(platform) as client:
        yield client
