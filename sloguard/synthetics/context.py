"""Everything a synthetic run shares: config, catalog, one HTTP client, tokens, ids, validators."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from sloguard import redact
from sloguard.auth import AuthError, Credentials, LoginFailed, LoginStyle, OAuth2Login, Session, TokenProvider
from sloguard.catalog import Catalog, Entry
from sloguard.config import Config
from sloguard.datagen import DataGenerator, IdPool, resource_of
from sloguard.http import Client, exchange_of
from sloguard.target import Target, request_overrides

from .probe import Probe, TokenUnavailable, current_probe
from .validate import SchemaValidator

# Why a check that needs the suite's credentials is skipped (not "token: …", which the redactor masks).
NO_TOKEN = "no access token — "


@dataclass(repr=False)
class RunContext:
    config: Config
    catalog: Catalog | None
    client: Client
    tokens: TokenProvider
    session: Session
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
    def create(cls, target: Target) -> RunContext:
        config, catalog = target.config, target.catalog
        tokens_http = target.auth_http(request=[_stamp_start], response=[_record_on_probe])
        session = target.session(tokens_http)
        shared = session.discovery if isinstance(session.style, OAuth2Login) else None
        spec = catalog.spec if catalog is not None else {}
        components = spec.get("components") if isinstance(spec.get("components"), dict) else None
        validator = SchemaValidator(components, str(spec.get("openapi", "3.0.3")))
        overrides = request_overrides(config)
        data = DataGenerator(catalog, overrides=overrides) if catalog is not None else DataGenerator()
        return cls(
            path_prefix=target.path_prefix, config=config, catalog=catalog, client=target.client(),
            tokens=target.token_provider(tokens_http, discovery=shared), session=session,
            read_only=target.read_only, retries=config.checks.retries,
            limiter=asyncio.Semaphore(config.checks.concurrency), data=data, validator=validator,
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

    @property
    def login(self) -> LoginStyle:
        """How the suite logs in to this target (docs/auth.md)."""
        return self.session.style

    async def auth_headers(self) -> dict[str, str]:
        """The suite's own credentials as headers (see :meth:`auth_credentials`)."""
        return dict((await self.auth_credentials()).headers)

    async def auth_credentials(self) -> Credentials:
        """The suite's own credentials: headers (a bearer token, an API key header) and/or query
        parameters (an API key in the query), or none for a public API. One login shared by every
        check; once it failed, TokenUnavailable("no access token — <cause>") for the rest of the
        run, so the checks that need it are skipped with that reason."""
        if self.token_error is not None:
            raise TokenUnavailable(self.token_error)
        try:
            return await self.session.credentials()
        except AuthError as exc:
            reason = exc.reason if isinstance(exc, LoginFailed) else str(exc)
            self.token_error = f"{NO_TOKEN}{redact.redact_text(reason)}"
            raise TokenUnavailable(self.token_error) from None

    async def default_authorization(self) -> str:
        """The ``Authorization`` header of the suite's own login (see :meth:`auth_headers`)."""
        headers = await self.auth_headers()
        if "Authorization" not in headers:
            raise TokenUnavailable(f"{NO_TOKEN}{self.login.describe()} sends no Authorization header")
        return headers["Authorization"]

    async def login_failure(self) -> str | None:
        """None when the suite's own login works (or needs nothing); else ``no access token — <cause>``."""
        if not self.login.needs_token:
            return None
        try:
            await self.auth_headers()
        except TokenUnavailable as exc:
            return str(exc)
        return None

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


_STARTED = "sloguard_started"


async def _stamp_start(request: httpx.Request) -> None:
    request.extensions[_STARTED] = time.perf_counter()


async def _record_on_probe(response: httpx.Response) -> None:
    """OAuth steps go through the OAuth client; their exchanges still belong to the check's report."""
    probe = current_probe.get()
    if probe is None:
        return
    await response.aread()
    started = response.request.extensions.get(_STARTED)
    latency = (time.perf_counter() - started) * 1000 if isinstance(started, float) else 0.0
    probe.exchanges.append(exchange_of(response.request, response, latency_ms=latency))
    probe.attempts += 1


def list_key(entry: Entry) -> tuple[str, str]:
    return entry.integration, resource_of(entry.path)
