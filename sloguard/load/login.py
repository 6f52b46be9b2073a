"""How a virtual user logs in: its own token, through its own HTTP client, renewed before expiry.

The token endpoint is discovered once per process (RFC 8414, then OIDC discovery, at
``config.issuer``); each virtual user then requests its token through its Locust client, so token
acquisition is load on the target and a line in the statistics ("auth · token"), not a hidden
setup step. Tokens are set as the client's Authorization header and never logged. The styles are
the OAuth password grant, client credentials, or none; other login styles (a JSON login, a static
token) plug in behind `LoginStyle`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from sloguard.auth import Discovery, discovery_urls
from sloguard.config import Config
from sloguard.errors import UsageError

from .mix import AUTH_OPERATION, AUTH_RENEWAL

REFRESH_MARGIN_S = 30.0  # renew this long before expires_in runs out (a quarter of a short lifetime)
RETRY_AFTER_FAILURE_S = 2.0


class Client(Protocol):
    """What a login needs of a Locust client (FastHttpSession)."""

    auth_header: str | None

    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


@functools.cache
def token_endpoint(issuer: str, verify_tls: bool, timeout_s: float) -> tuple[str, tuple[str, ...]]:
    """(token endpoint URL, its client authentication methods), from the issuer's discovery document."""
    problems: list[str] = []
    with httpx.Client(verify=verify_tls, timeout=timeout_s) as http:
        for url in discovery_urls(issuer):
            try:
                response = http.get(url, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise UsageError(f"cannot reach the OAuth issuer {issuer} (GET {url}: {type(exc).__name__}); "
                                 "check auth.issuer and that the target is running") from None
            if response.status_code != 200:
                problems.append(f"{url} answered HTTP {response.status_code}")
                continue
            found = Discovery.parse(issuer, url, response)
            methods = found.raw.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
            return found.token_endpoint, tuple(str(m) for m in methods)
    raise UsageError(f"no discovery document for issuer {issuer}: {'; '.join(problems)}; set auth.issuer")


@dataclass(frozen=True)
class LoginSettings:
    """What every virtual user of one run sends to log in (secrets stay in this object only)."""

    style: str
    token_url: str | None
    client_id: str | None
    client_secret: str | None
    basic_auth: bool
    scope: str
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:
        return f"LoginSettings(style={self.style!r}, token_url={self.token_url!r}, client_id={self.client_id!r})"

    @classmethod
    def from_config(cls, config: Config, style: str) -> LoginSettings:
        if style == "none":
            return cls("none", None, None, None, False, "")
        auth = config.auth
        url, methods = (auth.token_url, ("client_secret_basic",)) if auth.token_url else token_endpoint(
            config.issuer, config.target.verify_tls, config.target.timeout_s)
        secret = auth.client_secret.get_secret_value() if auth.client_secret else None
        user = auth.user
        return cls(style, url, auth.client_id, secret, "client_secret_basic" in methods or not secret,
                   auth.scope or "", user.username if user else None,
                   user.password.get_secret_value() if user else None)

    def form(self, refresh_token: str | None = None) -> str:
        fields: dict[str, str] = {"scope": self.scope} if self.scope else {}
        if refresh_token:
            fields = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        elif self.style == "password":
            fields.update(grant_type="password", username=self.username or "", password=self.password or "")
        else:
            fields["grant_type"] = "client_credentials"
        if not self.basic_auth:
            fields["client_id"] = self.client_id or ""
            if self.client_secret:
                fields["client_secret"] = self.client_secret
        return urlencode(fields)


class VirtualUserLogin:
    """One virtual user's token: acquired on first use, renewed before it expires."""

    def __init__(self, settings: LoginSettings) -> None:
        self.settings = settings
        self._renew_at = 0.0
        self._retry_at = 0.0
        self._refresh_token: str | None = None
        self.failures = 0

    @property
    def needed(self) -> bool:
        return self.settings.style != "none"

    def ensure(self, client: Client) -> bool:
        """True when the client holds a valid token (getting or renewing one if due)."""
        if not self.needed:
            return True
        now = time.monotonic()
        if now < self._renew_at:
            return True
        if now < self._retry_at:
            return False
        return self._request(client, now)

    def _request(self, client: Client, now: float) -> bool:
        s = self.settings
        assert s.token_url is not None
        client.auth_header = None  # the token endpoint gets client authentication, not the old token
        kwargs: dict[str, Any] = {}
        if s.basic_auth and s.client_id:
            kwargs["auth"] = (s.client_id, s.client_secret or "")
        with client.request(
            "POST", s.token_url, name=AUTH_RENEWAL if self._renew_at else AUTH_OPERATION,
            data=s.form(self._refresh_token), catch_response=True,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            **kwargs,
        ) as response:
            body = _json(response) if response.status_code == 200 else None
            body = body if isinstance(body, dict) else {}
            token = body.get("access_token")
            if not isinstance(token, str) or not token:
                # Never the body: it could hold a token or echo the credentials.
                response.failure(f"token endpoint answered {response.status_code or 'nothing'}")
                self.failures += 1
                self._refresh_token = None
                self._retry_at = now + RETRY_AFTER_FAILURE_S
                return False
            response.success()
        lifetime = float(body.get("expires_in") or 300)
        self._refresh_token = body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None
        # exp has whole-second granularity, so a short-lived token can end a second early.
        margin = min(REFRESH_MARGIN_S, max(1.5, 0.25 * lifetime))
        self._renew_at = now + max(lifetime - margin, 0.5)
        client.auth_header = f"Bearer {token}"
        return True


def _json(response: Any) -> Any:
    import orjson

    try:
        return orjson.loads(response.content or b"")
    except orjson.JSONDecodeError:
        return None
