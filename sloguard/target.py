"""The target layer: what every runner and `sloguard catalog` know about the platform under test.

Config, the catalog built from the target's OpenAPI description, whether anything answers, how to
log in, and the HTTP clients — built once here, so synthetics, load and contract runs plan, log in
and call the target the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from sloguard.auth import AuthSettings, Discovery, LoginStyle, Session, SyncSession, TokenProvider, resolve_login
from sloguard.catalog import Catalog, build_catalog
from sloguard.config import Config, load_config
from sloguard.errors import UsageError
from sloguard.http import Client
from sloguard.results import Exchange
from sloguard.spec import FetchRecord, SpecError, load_spec
from sloguard.tls import client_tls


def open_config(config_path: str | Path | None, *, target: str | None = None) -> Config:
    """The config file (or the built-in defaults), with ``--target`` over ``target.base_url``."""
    overrides: dict[str, Any] = {"target": {"base_url": target}} if target else {}
    return load_config(config_path, overrides=overrides or None)


def reachability(base_url: str, *, verify: bool, timeout_s: float) -> str | None:
    """None when anything answers at the target; else why not (connection refused, timeout, ...)."""
    try:
        httpx.get(base_url.rstrip("/") + "/", timeout=min(timeout_s, 10.0), verify=verify)
        return None
    except httpx.ConnectError as exc:
        return f"cannot connect ({exc})"
    except httpx.TimeoutException:
        return "timed out"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def load_catalog(config: Config, fetched: list[Exchange] | None = None) -> Catalog:
    """The catalog of the config's OpenAPI description, with its include/exclude and overrides;
    every URL fetched for it is added to ``fetched`` as evidence."""
    location = config.spec_location()
    source = location.url if location.kind == "url" else location.path
    assert source is not None

    def record(fetch: FetchRecord) -> None:
        if fetched is not None:
            fetched.append(Exchange.record("GET", fetch.url, fetch.request_headers, None, fetch.status,
                                           fetch.response_headers, fetch.body, latency_ms=fetch.latency_ms))

    spec = load_spec(str(source), headers=config.target.headers, verify=config.target.verify_tls,
                     timeout=config.target.timeout_s, on_fetch=record)
    cat = config.catalog
    overrides: dict[str, dict[str, Any]] = {}
    for key, override in cat.overrides.items():
        if override.safe is not None:
            overrides[key] = {"side_effects": not override.safe}
    return build_catalog(spec, integration_from=cat.integration_from, path_pattern=cat.path_pattern,
                         aliases=cat.aliases, include=cat.include, exclude=cat.exclude, overrides=overrides)


REFERENCE_OPERATIONS = frozenset({"set_fault", "clear_faults", "list_faults"})


def is_reference_platform(catalog: Catalog) -> bool:
    """Whether the description is the reference platform's: it documents the fault-injection admin
    API no real deployment has. A real ATOM on localhost is not, and gets no test credentials."""
    return {e.operation_id for e in catalog.all_entries} >= REFERENCE_OPERATIONS


def request_overrides(config: Config) -> dict[str, dict[str, Any]]:
    """``catalog.overrides`` as request data per operation: path, query, headers, body."""
    out: dict[str, dict[str, Any]] = {}
    for key, override in config.catalog.overrides.items():
        sections: dict[str, Any] = {}
        if override.path_params:
            sections["path"] = override.path_params
        if override.query:
            sections["query"] = override.query
        if override.headers:
            sections["headers"] = override.headers
        if override.body is not None:
            sections["body"] = override.body
        if sections and " " not in key and "*" not in key:
            out[key] = sections
    return out


def auth_settings(config: Config) -> AuthSettings:
    """The config's ``auth:`` section as the OAuth client's plain settings (the OAuth checks)."""
    auth = config.auth

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    def absolute(url: str | None) -> str | None:
        return config.target.base_url + url if url is not None and url.startswith("/") else url

    grant = auth.grant or ("client_credentials" if auth.client_id and auth.client_secret else "password")
    return AuthSettings(
        issuer=config.issuer,
        issuer_pinned=auth.issuer is not None or auth.discovery_url is None,
        client_id=auth.client_id,
        client_secret=secret(auth.client_secret),
        scope=auth.scope or None,
        username=auth.user.username if auth.user else None,
        password=secret(auth.user.password) if auth.user else None,
        pkce_client_id=auth.pkce.client_id if auth.pkce else None,
        pkce_client_secret=secret(auth.pkce.client_secret) if auth.pkce else None,
        pkce_scope=auth.pkce.scope if auth.pkce else None,
        pkce_login=auth.pkce.login if auth.pkce else None,
        redirect_uri=auth.pkce.redirect_uri if auth.pkce else None,
        audience=auth.audience,
        audience_param=auth.audience_param,
        verify_tls=config.target.verify_tls,
        timeout_s=config.target.timeout_s,
        grant=grant,
        token_endpoint_auth_method=auth.client_auth,
        password_client_id=auth.password_client.client_id if auth.password_client else None,
        password_client_secret=secret(auth.password_client.client_secret) if auth.password_client else None,
        discovery_url=absolute(auth.discovery_url),
        token_url=absolute(auth.token_url),
        revocation_url=absolute(auth.revocation_url),
        introspection_url=absolute(auth.introspection_url),
        extra_params=dict(auth.extra_params),
        config_dir=config.source.parent if config.source is not None else None,
    )


@dataclass
class Target:
    """The platform under test, as every runner sees it."""

    config: Config
    catalog: Catalog | None
    read_only: bool
    unreachable: str | None = None  # why nothing answers (None: it does, or it was not asked)
    fetched: list[Exchange] = field(default_factory=list)  # the description's fetches, as evidence
    _login: LoginStyle | None = field(default=None, repr=False)

    @classmethod
    def open(cls, config: Config, *, read_only: bool = False) -> Target:
        """Load the catalog; an invalid description is a UsageError (exit 2).

        When the description is served by the target itself and nothing answers there, the catalog
        is None and ``unreachable`` says why: that is a finding (platform down), not a usage error.
        """
        read_only = read_only or not config.allows_side_effects
        location = config.spec_location()
        on_target = location.kind == "url" and urlsplit(location.url or "").netloc == urlsplit(
            config.target.base_url).netloc
        unreachable = None
        catalog = None
        fetched: list[Exchange] = []
        try:
            catalog = load_catalog(config, fetched)
        except SpecError as exc:
            # A description on the target that nothing serves: the target is down (a finding). Asked
            # only now, so a healthy run sends one request, not two, before its checks.
            if on_target:
                unreachable = exc.unreachable or reachability(
                    config.target.base_url, verify=config.target.verify_tls, timeout_s=config.target.timeout_s)
            if unreachable is None:
                raise UsageError(str(exc)) from None
        if catalog is not None:
            where = location.url or str(location.path)
            if not catalog.all_entries:
                raise UsageError(f"the OpenAPI description at {where} declares no operations (its paths are "
                                 "empty): point target.openapi at the platform's full description")
            if not len(catalog):
                raise UsageError(f"catalog.include/exclude leave none of the {len(catalog.all_entries)} operations "
                                 f"of {where} to check: loosen the filters")
        if config.target.environment_inferred and config.target.environment == "reference" and not (
                on_target and catalog is not None and is_reference_platform(catalog)):
            config.not_the_reference_platform()
            read_only = True
        return cls(config, catalog, read_only, unreachable, fetched)

    @property
    def base_url(self) -> str:
        return self.config.target.base_url

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def path_prefix(self) -> str:
        """The description's server path (``servers[0].url``) when the base URL lacks it."""
        if self.catalog is None:
            return ""
        base_path = urlsplit(self.base_url).path.rstrip("/")
        return self.catalog.base_path if not base_path.endswith(self.catalog.base_path) else ""

    def auth_settings(self) -> AuthSettings:
        return auth_settings(self.config)

    def login(self) -> LoginStyle:
        """How this target is logged in to (config, else its description, else discovery)."""
        if self._login is None:
            self._login = resolve_login(self.config, self.catalog)
        return self._login

    def session(self, http: httpx.AsyncClient | None = None) -> Session:
        """The async login session every check's default credentials come from."""
        target = self.config.target
        return Session(self.login(), http, timeout_s=target.timeout_s, verify_tls=target.verify_tls)

    def sync_session(self, client: Any = None, *, name: str | None = "auth · login") -> SyncSession:
        """The sync login session (Schemathesis, Locust: pass the user's own ``self.client``)."""
        target = self.config.target
        return SyncSession(self.login(), client, name=name, timeout_s=target.timeout_s, verify_tls=target.verify_tls)

    def client(self, *, max_connections: int | None = None) -> Client:
        """The checks' data-plane client (aiohttp), with the target's TLS and header settings."""
        target = self.config.target
        return Client(target.base_url, timeout_s=target.timeout_s, verify=target.verify_tls,
                      headers=target.headers, max_connections=max_connections or self.config.checks.concurrency)

    def auth_http(self, **event_hooks: Any) -> httpx.AsyncClient:
        """The HTTP client the OAuth client uses (httpx: one request per grant, not the hot path)."""
        target = self.config.target
        return httpx.AsyncClient(verify=client_tls(target.verify_tls), timeout=target.timeout_s,
                                 headers=target.headers, event_hooks=dict(event_hooks))

    def token_provider(self, http: httpx.AsyncClient | None = None, *,
                       discovery: Callable[[], Awaitable[Discovery]] | None = None) -> TokenProvider:
        return TokenProvider(self.auth_settings(), http, discovery=discovery)
