"""Everything a synthetic run shares: config, catalog, one HTTP client, tokens, ids, validators."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from sloguard import redact
from sloguard.auth import AuthError, AuthSettings, TokenProvider
from sloguard.catalog import Catalog, Entry
from sloguard.config import Config
from sloguard.datagen import DataGenerator, IdPool, resource_of
from sloguard.http import Client, exchange_of

from .probe import Probe, TokenUnavailable, current_probe
from .validate import SchemaValidator


def auth_settings(config: Config) -> AuthSettings:
    """The config's ``auth:`` section as the OAuth client's plain settings."""
    auth = config.auth

    def secret(value: Any) -> str | None:
        return value.get_secret_value() if value is not None else None

    return AuthSettings(
        issuer=config.issuer,
        client_id=auth.client_id,
        client_secret=secret(auth.client_secret),
        scope=auth.scope,
        username=auth.user.username if auth.user else None,
        password=secret(auth.user.password) if auth.user else None,
        pkce_client_id=auth.pkce.client_id if auth.pkce else None,
        redirect_uri=auth.pkce.redirect_uri if auth.pkce else None,
        audience=auth.audience,
        verify_tls=config.target.verify_tls,
        timeout_s=config.target.timeout_s,
    )


@dataclass(repr=False)
class RunContext:
    config: Config
    catalog: Catalog | None
    client: Client
    tokens: TokenProvider
    read_only: bool
    retries: int
    limiter: asyncio.Semaphore
    ids: IdPool = field(default_factory=IdPool)
    data: DataGenerator = field(default_factory=DataGenerator)
    validator: SchemaValidator = field(default_factory=SchemaValidator)
    probes: dict[str, Probe] = field(default_factory=dict)
    listed: dict[tuple[str, str], asyncio.Event] = field(default_factory=dict)
    token_error: str | None = None
    down: set[str] = field(default_factory=set)  # integrations whose health check says "down"
    path_prefix: str = ""  # the description's server path (servers[0].url) when base_url lacks it
    token_probe_target: Entry | bool | None = None  # the operation tokens are tried on (False: none found)
    token_probe_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def missing_scopes(self, entry: Entry) -> list[str]:
        from .plan import missing_scopes

        return missing_scopes(self.config, entry)

    @classmethod
    def create(cls, config: Config, catalog: Catalog | None, *, read_only: bool) -> RunContext:
        concurrency = config.checks.concurrency
        client = Client(
            config.target.base_url, timeout_s=config.target.timeout_s, verify=config.target.verify_tls,
            headers=config.target.headers, max_connections=concurrency,
        )
        tokens_http = httpx.AsyncClient(
            verify=config.target.verify_tls, timeout=config.target.timeout_s, headers=config.target.headers,
            event_hooks={"response": [_record_on_probe]},
        )
        tokens = TokenProvider(auth_settings(config), tokens_http)
        spec = catalog.spec if catalog is not None else {}
        components = spec.get("components") if isinstance(spec.get("components"), dict) else None
        validator = SchemaValidator(components, str(spec.get("openapi", "3.0.3")))
        data = DataGenerator(catalog, overrides=_request_overrides(config)) if catalog is not None else DataGenerator()
        base_path = urlsplit(config.target.base_url).path.rstrip("/")
        prefix = catalog.base_path if catalog is not None and not base_path.endswith(catalog.base_path) else ""
        return cls(
            path_prefix=prefix,
            config=config, catalog=catalog, client=client, tokens=tokens, read_only=read_only,
            retries=config.checks.retries, limiter=asyncio.Semaphore(concurrency), data=data, validator=validator,
        )

    def url(self, path: str) -> str:
        """An operation's path as sent: below the description's server path, if it has one."""
        return f"{self.path_prefix}{path}" if path.startswith("/") else path

    def probe(self, spec: Any) -> Probe:
        probe = self.probes.get(spec.id)
        if probe is None:
            probe = self.probes[spec.id] = Probe(spec, self)
            slo = self.config.slo_for(spec.integration)
            probe.slo = slo.model_dump()
        return probe

    async def default_authorization(self) -> str:
        """``Bearer <token>`` for the suite's main client; one token request shared by all checks."""
        if self.token_error is not None:
            raise TokenUnavailable(self.token_error)
        try:
            token = await self.tokens.get_token()
        except AuthError as exc:
            self.token_error = f"could not obtain an access token: {redact.redact_text(str(exc))}"
            raise TokenUnavailable(self.token_error) from None
        redact.register_secret(token.access_token)
        return token.authorization

    def list_event(self, entry: Entry) -> asyncio.Event:
        """Set when the list call of ``entry``'s collection has filled the id pool."""
        return self.listed.setdefault(list_key(entry), asyncio.Event())

    def id_event(self, entry: Entry) -> asyncio.Event | None:
        """The list event of the collection whose id fills ``entry``'s first path parameter, if that
        list call is scheduled in this run (else there is nothing to wait for)."""
        names = [p.name for p in entry.parameters if p.location == "path"]
        key = (entry.integration, resource_of(entry.path, names[0] if names else None))
        return self.listed.get(key)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.tokens.http.aclose()


async def _record_on_probe(response: httpx.Response) -> None:
    """OAuth steps go through the OAuth client; their exchanges still belong to the check's report."""
    probe = current_probe.get()
    if probe is None:
        return
    await response.aread()
    started = response.request.extensions.get("sloguard_started")
    latency = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
    probe.exchanges.append(exchange_of(response.request, response, latency_ms=latency))


def list_key(entry: Entry) -> tuple[str, str]:
    return entry.integration, resource_of(entry.path)


def _request_overrides(config: Config) -> dict[str, dict[str, Any]]:
    """catalog.overrides → the data generator's per-operation request data."""
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
