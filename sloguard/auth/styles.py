"""Login styles: how a deployment hands out the credentials its API wants, written sans I/O.

A style builds the requests of its login (:meth:`LoginStyle.login_flow`, a flow of
:class:`~sloguard.auth.transport.HttpCall`) and reads the answers into a :class:`Token`; it says
which headers or query parameters carry the credential (:meth:`LoginStyle.credentials`). The
:class:`~sloguard.auth.session.Session` drivers send the requests, cache the token and refresh it.

- :class:`OAuth2Login`: an RFC 6749 token endpoint (client credentials or password grant, form-encoded,
  ``client_secret_basic``/``client_secret_post``, scope, audience/resource, extra parameters).
- :class:`JSONLogin`: a JSON login such as ATOM's ``POST /api/auth/login {"username", "password"}``.
- :class:`StaticBearer`, :class:`APIKey`: a credential from the environment, no login request.
- :class:`NoAuth`: a public API. :class:`NoCredentials`: the API wants credentials nobody configured.
"""

from __future__ import annotations

import base64
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar, Literal
from urllib.parse import quote_plus

from sloguard.redact import MASK, masked

from .answers import read_token
from .errors import AuthConfigError, LoginFailed
from .tokens import Token, unverified_exp
from .transport import Flow, HttpCall

ClientAuthMethod = Literal["client_secret_basic", "client_secret_post"]
AudienceParam = Literal["resource", "audience", "both", "none"]


@dataclass(frozen=True)
class Credentials:
    """What a request carries to authenticate: headers and/or query parameters."""

    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Credentials(headers={sorted(self.headers)}, params={sorted(self.params)})"


@dataclass(frozen=True, repr=False)
class OAuthClient:
    """One OAuth client identity; a missing secret means a public client (``client_id`` in the body)."""

    client_id: str
    client_secret: str | None = None
    auth_method: ClientAuthMethod = "client_secret_basic"

    def apply(self, data: dict[str, str]) -> dict[str, str]:
        """Authenticate a token-endpoint request (RFC 6749 2.3.1): the headers to add; ``data`` is
        completed in place for ``client_secret_post`` and public clients."""
        if not self.client_secret:
            data.setdefault("client_id", self.client_id)
            return {}
        if self.auth_method == "client_secret_post":
            data["client_id"], data["client_secret"] = self.client_id, self.client_secret
            return {}
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, client_secret={masked(self.client_secret)!r})"


def bearer(token: Token | None, scheme: str = "Bearer") -> Credentials:
    return Credentials({"Authorization": f"{scheme} {token.access_token}"}) if token is not None else Credentials()


class LoginStyle(ABC):
    """How to log in; ``source`` says where that was found (config key, description, discovery)."""

    kind: ClassVar[str]
    needs_token: ClassVar[bool] = True
    source: str

    @property
    @abstractmethod
    def identity(self) -> str:
        """Who logs in where (no secret): the key of the token cache."""

    @property
    def endpoint(self) -> str | None:
        """The URL the login sends to (None: no login request)."""
        return None

    @abstractmethod
    def login_flow(self) -> Flow[Token]:
        """The requests of one login, ending in the token."""

    def refresh_flow(self, token: Token) -> Flow[Token] | None:
        """The requests that renew ``token`` without the user's password (None: log in again)."""
        return None

    def credentials(self, token: Token | None) -> Credentials:
        return bearer(token)

    def failed_login(self, username: str, password: str) -> HttpCall | None:
        """The login request for a made-up user (for the login-throttling probe); None when the
        style has no user login to throttle."""
        return None

    def describe(self) -> str:
        return f"{self.kind} login ({self.source})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.describe()}>"


# ------------------------------------------------------------------------------------------ OAuth 2


@dataclass(frozen=True, repr=False)
class OAuth2Login(LoginStyle):
    """An RFC 6749 token endpoint. ``token_url`` None: it comes from discovery (``issuer`` /
    ``discovery_url``), which the session fetches once and remembers."""

    kind: ClassVar[str] = "oauth2"
    grant: Literal["client_credentials", "password"]
    source: str
    token_url: str | None = None
    issuer: str | None = None
    discovery_url: str | None = None
    client: OAuthClient | None = None
    username: str | None = None
    password: str | None = None
    scope: str | None = None
    audience: str | None = None
    audience_param: AudienceParam = "resource"
    extra_params: Mapping[str, str] = field(default_factory=dict)
    refresh_url: str | None = None

    def __post_init__(self) -> None:
        if self.grant == "password" and (not self.username or self.password is None):
            raise AuthConfigError("the password grant needs a test user: set auth.user.username and password")
        if self.grant == "client_credentials" and (self.client is None or not self.client.client_secret):
            raise AuthConfigError("the client credentials grant needs auth.client_id and auth.client_secret")

    @property
    def identity(self) -> str:
        client = self.client.client_id if self.client else ""
        return f"oauth2 {self.grant} {self.token_url or self.discovery_url or self.issuer} {client} " \
               f"{self.username or ''} {self.scope or ''}"

    @property
    def endpoint(self) -> str | None:
        return self.token_url

    def at(self, token_url: str) -> OAuth2Login:
        """This login against the token endpoint discovery named."""
        return replace(self, token_url=token_url)

    def describe(self) -> str:
        client = f", client {self.client.client_id}" if self.client else ""
        return f"OAuth2 {self.grant.replace('_', ' ')} grant at {self.token_url or 'the discovered token endpoint'}" \
               f"{client} ({self.source})"

    def _audience(self, data: dict[str, str]) -> None:
        if self.audience and self.audience_param in ("resource", "both"):
            data["resource"] = self.audience
        if self.audience and self.audience_param in ("audience", "both"):
            data["audience"] = self.audience

    def grant_call(self, data: dict[str, str], what: str, secrets: tuple[str | None, ...] = ()) -> HttpCall:
        if self.token_url is None:
            raise AuthConfigError("no token endpoint: set auth.token_url, auth.issuer or auth.discovery_url")
        if self.scope and "scope" not in data:
            data["scope"] = self.scope
        for name, value in self.extra_params.items():
            data.setdefault(name, value)
        headers = self.client.apply(data) if self.client else {}
        client_secret = self.client.client_secret if self.client else None
        return HttpCall.form(self.token_url, data, what=what, headers=headers, secrets=(*secrets, client_secret))

    def login_flow(self) -> Flow[Token]:
        data: dict[str, str] = {"grant_type": self.grant}
        if self.grant == "password":
            data["username"], data["password"] = self.username or "", self.password or ""
        self._audience(data)
        client_id = self.client.client_id if self.client else ""
        who = f", client {client_id}" if client_id else ""
        call = self.grant_call(data, f"token request (grant {self.grant}{who})", (self.password,))
        sent_at = time.time()
        answer = yield call
        return read_token(call, answer, grant=self.grant, client_id=client_id, sent_at=sent_at,
                          requested_scope=self.scope)

    def refresh_flow(self, token: Token) -> Flow[Token] | None:
        if not token.refresh_token:
            return None
        return self._refresh(token, token.refresh_token)

    def _refresh(self, token: Token, refresh_token: str) -> Flow[Token]:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        call = self.grant_call(data, f"token request (grant refresh_token, client {token.client_id})",
                               (refresh_token,))
        if self.refresh_url:
            call = replace(call, url=self.refresh_url)
        sent_at = time.time()
        answer = yield call
        fresh = read_token(call, answer, grant=token.grant, client_id=token.client_id, sent_at=sent_at,
                           requested_scope=self.scope)
        return fresh if fresh.refresh_token else replace(fresh, refresh_token=refresh_token)

    def failed_login(self, username: str, password: str) -> HttpCall | None:
        if self.token_url is None:
            return None
        data = {"grant_type": "password", "username": username, "password": password}
        return self.grant_call(data, "token request (grant password, a made-up user)", (password,))


# ------------------------------------------------------------------------------------------ JSON login


@dataclass(frozen=True, repr=False)
class JSONLogin(LoginStyle):
    """A JSON login: POST ``{username_field: ..., password_field: ...}`` (plus ``fields``, such as a
    ``totp_code``) and read the token at ``token_pointer`` in the JSON answer."""

    kind: ClassVar[str] = "json"
    url: str
    username: str
    password: str
    source: str
    username_field: str = "username"
    password_field: str = "password"
    fields: Mapping[str, str] = field(default_factory=dict)
    token_pointer: str = "/access_token"
    refresh_url: str | None = None
    refresh_field: str = "refresh_token"
    refresh_pointer: str = "/refresh_token"

    @property
    def identity(self) -> str:
        return f"json {self.url} {self.username}"

    @property
    def endpoint(self) -> str | None:
        return self.url

    def describe(self) -> str:
        return f"JSON login at {self.url} as {self.username} ({self.source})"

    def _body(self, username: str, password: str) -> dict[str, str]:
        return {self.username_field: username, self.password_field: password, **self.fields}

    def login_flow(self) -> Flow[Token]:
        call = HttpCall.json(self.url, self._body(self.username, self.password),
                             what=f"JSON login (user {self.username})",
                             secrets=(self.password, *self.fields.values()))
        sent_at = time.time()
        answer = yield call
        return read_token(call, answer, grant="json_login", client_id="", sent_at=sent_at,
                          token_pointer=self.token_pointer, refresh_pointer=self.refresh_pointer, ok=(200, 201))

    def refresh_flow(self, token: Token) -> Flow[Token] | None:
        if not self.refresh_url or not token.refresh_token:
            return None
        return self._refresh(token.refresh_token)

    def _refresh(self, refresh_token: str) -> Flow[Token]:
        assert self.refresh_url is not None
        call = HttpCall.json(self.refresh_url, {self.refresh_field: refresh_token}, what="JSON login refresh",
                             secrets=(refresh_token,))
        sent_at = time.time()
        answer = yield call
        fresh = read_token(call, answer, grant="json_login", client_id="", sent_at=sent_at,
                           token_pointer=self.token_pointer, refresh_pointer=self.refresh_pointer, ok=(200, 201))
        return fresh if fresh.refresh_token else replace(fresh, refresh_token=refresh_token)

    def failed_login(self, username: str, password: str) -> HttpCall | None:
        return HttpCall.json(self.url, {self.username_field: username, self.password_field: password},
                             what="JSON login (a made-up user)", secrets=(password,))


# ------------------------------------------------------------------------------------------ no request


def _static_token(value: str) -> Token:
    return Token(access_token=value, token_type="Bearer", issued_at=time.time(),
                 expires_at=unverified_exp(value), grant="static", client_id="")


@dataclass(frozen=True, repr=False)
class StaticBearer(LoginStyle):
    """A token handed over from the environment (``auth.token: ${ATOM_TOKEN}``): no login request."""

    kind: ClassVar[str] = "bearer"
    token: str
    source: str
    scheme: str = "Bearer"

    @property
    def identity(self) -> str:
        return f"bearer {self.source}"

    def login_flow(self) -> Flow[Token]:
        return _static_token(self.token)
        yield  # a flow that sends nothing

    def credentials(self, token: Token | None) -> Credentials:
        return bearer(token or _static_token(self.token), self.scheme)

    def describe(self) -> str:
        return f"a static {self.scheme} token ({self.source})"


@dataclass(frozen=True, repr=False)
class APIKey(LoginStyle):
    """An API key sent as a header or a query parameter named ``name``."""

    kind: ClassVar[str] = "api_key"
    needs_token: ClassVar[bool] = False
    name: str
    location: Literal["header", "query"]
    value: str
    source: str

    @property
    def identity(self) -> str:
        return f"api_key {self.location} {self.name}"

    def login_flow(self) -> Flow[Token]:
        return _static_token(self.value)
        yield  # a flow that sends nothing

    def credentials(self, token: Token | None) -> Credentials:
        if self.location == "query":
            return Credentials(params={self.name: self.value})
        return Credentials(headers={self.name: self.value})

    def describe(self) -> str:
        return f"an API key in the {self.location} {self.name!r} ({self.source})"

    def __repr__(self) -> str:
        return f"<APIKey {self.location} {self.name}={MASK}>"


@dataclass(frozen=True, repr=False)
class NoAuth(LoginStyle):
    """A public API: nothing to log in to, no credentials sent."""

    kind: ClassVar[str] = "none"
    needs_token: ClassVar[bool] = False
    source: str = "auth.style: none"

    @property
    def identity(self) -> str:
        return "none"

    def login_flow(self) -> Flow[Token]:
        raise LoginFailed(f"the target needs no login ({self.source})")
        yield  # a flow that sends nothing

    def credentials(self, token: Token | None) -> Credentials:
        return Credentials()

    def describe(self) -> str:
        return f"no authentication ({self.source})"


@dataclass(frozen=True, repr=False)
class NoCredentials(LoginStyle):
    """The description declares security but no credentials are configured: every login fails with
    ``reason`` (the checks that need a token are skipped with it; nothing is sent)."""

    kind: ClassVar[str] = "missing"
    reason: str
    source: str = "no auth configured"
    fatal: bool = False  # True: a finding (the login cannot work as described), not just nothing to use

    @property
    def identity(self) -> str:
        return "missing"

    def login_flow(self) -> Flow[Token]:
        raise LoginFailed(self.reason)
        yield  # a flow that sends nothing

    def describe(self) -> str:
        return self.reason
