"""How a virtual user logs in: its own token, through its own HTTP client, renewed before expiry.

The login style comes from the engine's auth layer (`sloguard.auth.resolve_login`), as for every
runner; an OAuth token endpoint is discovered once per process. Each virtual user then logs in
through its Locust client with the auth layer's `SyncSession`, so token acquisition is load on the
target and a line in the statistics ("auth · token"), not a hidden set-up step. Tokens are set as
the client's Authorization header and never logged.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from sloguard.auth import (
    AuthConfigError,
    AuthError,
    LoginStyle,
    NoAuth,
    OAuth2Login,
    SyncSession,
    resolve_login,
)
from sloguard.auth.discovery import discovery_flow
from sloguard.auth.transport import HttpAnswer, HttpCall, SyncSender, drive_sync, httpx_sync_sender, requests_sender
from sloguard.config import Config
from sloguard.errors import UsageError

from .mix import AUTH_OPERATION, AUTH_RENEWAL

if TYPE_CHECKING:
    from sloguard.catalog import Catalog

REFRESH_MARGIN_S = 30.0  # renew this long before expires_in runs out (a quarter of a short lifetime)
RETRY_AFTER_FAILURE_S = 2.0


class Client(Protocol):
    """What a login needs of a Locust client (FastHttpSession)."""

    auth_header: str | None

    def request(self, method: str, url: str, **kwargs: Any) -> Any: ...


@functools.cache
def token_endpoint(issuer: str, verify_tls: bool, timeout_s: float) -> tuple[str, tuple[str, ...]]:
    """(token endpoint URL, its client authentication methods), from the issuer's discovery document
    (the auth layer's discovery flow; once per process)."""
    try:
        with httpx.Client(verify=verify_tls, timeout=timeout_s) as http:
            found = drive_sync(discovery_flow(issuer), httpx_sync_sender(http, timeout_s=timeout_s))
    except AuthError as exc:
        raise UsageError(f"{exc}; check auth.issuer or set auth.token_url") from None
    methods = found.raw.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return found.token_endpoint, tuple(str(m) for m in methods)


@dataclass(frozen=True)
class LoginSettings:
    """The run's login style, resolved once per process (discovery included) through the engine's
    auth layer: an OAuth2 grant, a JSON login like the real ATOM's, a static token, an API key or none."""

    style: LoginStyle

    def __repr__(self) -> str:
        return f"LoginSettings({self.style.describe()})"

    @property
    def needed(self) -> bool:
        return self.style.needs_token

    @classmethod
    def from_config(cls, config: Config, profile_login: str | None, catalog: Catalog | None = None) -> LoginSettings:
        """``profile_login`` (the profile's ``login``) picks the OAuth grant: client credentials for
        capacity runs (10,000 password logins would measure the password hash, not the API)."""
        if profile_login == "none":
            return cls(NoAuth(source="the load profile (login: none)"))
        style = resolve_login(config, catalog)
        if isinstance(style, OAuth2Login) and profile_login in ("password", "client_credentials") \
                and style.grant != profile_login:
            chosen = config.model_copy(deep=True)  # the same login, with the profile's OAuth grant
            chosen.auth.grant = profile_login  # type: ignore[assignment]
            try:
                style = resolve_login(chosen, catalog)
            except AuthConfigError as exc:
                raise UsageError(f"load profile login {profile_login}: {exc}") from None
        if isinstance(style, OAuth2Login) and style.token_url is None:  # once per process, not per user
            url, _methods = token_endpoint(style.discovery_url or style.issuer or config.issuer,
                                           config.target.verify_tls, config.target.timeout_s)
            style = style.at(url)
        return cls(style)


class VirtualUserLogin:
    """One virtual user's token, through its own Locust client (a line in the stats: "auth · token"),
    acquired on first use and renewed before it expires by the auth layer's `SyncSession`."""

    def __init__(self, settings: LoginSettings) -> None:
        self.settings = settings
        self._session: SyncSession | None = None
        self._token: object = None
        self.failures = 0
        self.headers: dict[str, str] = {}  # credentials other than Authorization (an API key header)
        self.params: dict[str, str] = {}  # … or in the query

    @property
    def needed(self) -> bool:
        return self.settings.needed

    def ensure(self, client: Client) -> bool:
        """True when the client holds valid credentials (logging in or renewing if due)."""
        if not self.needed:
            return True
        if self._session is None:
            self._session = SyncSession(self.settings.style, send=self._sender(client),
                                        refresh_margin_s=REFRESH_MARGIN_S, refresh_fraction=0.25,
                                        retry_failed_after_s=RETRY_AFTER_FAILURE_S)
        try:
            token = self._session.token()
        except AuthError:
            self.failures += 1
            return False
        if token is not self._token:  # a new token: set it once, not on every request
            self._token = token
            credentials = self.settings.style.credentials(token)
            client.auth_header = credentials.headers.get("Authorization")
            self.headers = {k: v for k, v in credentials.headers.items() if k != "Authorization"}
            self.params = dict(credentials.params)
        return True

    def _sender(self, client: Client) -> SyncSender:
        """Login calls through the user's own client: named "auth · token" (a renewal "auth · token
        renewal") in Locust's stats, and without the user's current token, which FastHttpSession would
        otherwise put over the token endpoint's own client authentication."""
        first = requests_sender(client, name=AUTH_OPERATION)
        renewal = requests_sender(client, name=AUTH_RENEWAL)

        def send(call: HttpCall) -> HttpAnswer:
            held, client.auth_header = client.auth_header, None
            try:
                return (renewal if self._token is not None else first)(call)
            finally:
                client.auth_header = held

        return send
