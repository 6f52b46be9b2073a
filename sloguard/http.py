"""The suite's HTTP layer: one shared async client whose every exchange is timed and recorded.

Each request yields an :class:`Exchange` (redacted at creation, so nothing downstream can leak a
secret) with the total latency and the network time (TCP connect + TLS handshake, from the HTTP
client's trace hooks), and a curl line that reproduces it.
"""

from __future__ import annotations

import shlex
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
import orjson

from . import redact

CURL_TOKEN_VAR = "ATOM_TOKEN"  # curl lines read the bearer token from this variable, never inline
BODY_LIMIT = 4096  # bytes of a body kept for reports; the rest is truncated with a marker


@dataclass(frozen=True)
class Exchange:
    """One request and its answer (or error), already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int | None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    latency_ms: float = 0.0
    network_ms: float | None = None  # None: the request reused a kept-alive connection
    error: str | None = None

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", self.method]
        credential: str | None = None
        for name, value in self.request_headers.items():
            if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent"):
                continue
            if name.lower() == "authorization" and redact.MASK in value:
                # The token was redacted: reproduce with your own, from the environment.
                credential = f'-H "Authorization: Bearer ${CURL_TOKEN_VAR}"'
                continue
            parts += ["-H", f"{name}: {value}"]
        if self.request_body:
            parts += ["--data-raw", self.request_body]
        parts.append(self.url)
        quoted = [shlex.quote(p) for p in parts]
        if credential:
            quoted.insert(4, credential)
        return " ".join(quoted)

    def title(self) -> str:
        outcome = self.error or str(self.status)
        return f"{self.method} {httpx.URL(self.url).raw_path.decode()} → {outcome} ({self.latency_ms:.0f} ms)"

    def as_text(self, which: str) -> str:
        if which == "request":
            head = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
            return f"{self.method} {self.url}\n{head}\n\n{self.request_body}"
        head = "\n".join(f"{k}: {v}" for k, v in self.response_headers.items())
        return f"HTTP {self.status if self.status is not None else '-'}\n{head}\n\n{self.response_body}"


def _text(content: bytes) -> str:
    body = content[:BODY_LIMIT].decode("utf-8", errors="replace")
    if len(content) > BODY_LIMIT:
        body += f"\n… [truncated, {len(content)} bytes in all]"
    return body


def exchange_of(
    request: httpx.Request,
    response: httpx.Response | None,
    *,
    error: str | None = None,
    latency_ms: float = 0.0,
    network_ms: float | None = None,
) -> Exchange:
    """Build the redacted record of one exchange (the response body must have been read)."""
    return Exchange(
        method=request.method,
        url=redact.redact_text(str(request.url)),
        request_headers=redact.redact_headers(dict(request.headers)),
        request_body=redact.redact_text(_text(request.content)) if request.content else "",
        status=response.status_code if response is not None else None,
        response_headers=redact.redact_headers(dict(response.headers)) if response is not None else {},
        response_body=redact.redact_text(_text(response.content)) if response is not None else "",
        latency_ms=latency_ms,
        network_ms=network_ms,
        error=error,
    )


class _Timer:
    """Per-request connection timing from aiohttp's trace hooks (connect + TLS, for new connections)."""

    __slots__ = ("_started", "network_ms")

    def __init__(self) -> None:
        self.network_ms: float | None = None
        self._started = 0.0


async def _connect_started(session: Any, ctx: Any, params: Any) -> None:
    timer = ctx.trace_request_ctx
    if isinstance(timer, _Timer):
        timer._started = time.perf_counter()


async def _connect_ended(session: Any, ctx: Any, params: Any) -> None:
    timer = ctx.trace_request_ctx
    if isinstance(timer, _Timer) and timer._started:
        timer.network_ms = (timer.network_ms or 0.0) + (time.perf_counter() - timer._started) * 1000


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str | int | float | bool | None]]:
    """Query parameters as strings, the way an HTTP client would send them (lists repeat the key)."""
    out: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if item is None:
                continue
            out.append((key, "true" if item is True else "false" if item is False else str(item)))
    return out


class Client:
    """The checks' HTTP client: records every exchange instead of raising.

    The data plane runs on aiohttp: the sweep sends thousands of requests, and httpx's pure-Python
    HTTP/1.1 stack cost ~2.6 ms of CPU per request here against aiohttp's ~0.2 ms, which both slowed
    the run and inflated the latencies it measured. Answers are handed back as ``httpx.Response``
    objects, so checks use one familiar API.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 10.0,
        verify: bool | str = True,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = timeout_s
        self._verify = verify
        self._headers = dict(headers or {})
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        # Sees every request as sent (unredacted): for benchmarks that replay a run. Never for reports.
        self.tap: Callable[[str, str, dict[str, str], bytes | None], None] | None = None

    def _ssl(self) -> ssl.SSLContext | bool:
        if self._verify is False:
            return False
        if isinstance(self._verify, str):
            return ssl.create_default_context(cafile=self._verify)
        return True

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            trace = aiohttp.TraceConfig()
            trace.on_connection_create_start.append(_connect_started)
            trace.on_connection_create_end.append(_connect_ended)
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl()),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers=self._headers,
                trace_configs=[trace],
                auto_decompress=True,
            )
        return self._session

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        content: bytes | None = None,
    ) -> tuple[httpx.Response | None, Exchange]:
        full = self.url(url)
        query = _query(params)
        send_headers = {**self._headers, **dict(headers or {})}
        body: bytes | None = content
        if json is not None:
            body = orjson.dumps(json)
            send_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urlencode(data).encode()
            send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = httpx.Request(method, full, params=query, headers=send_headers, content=body)
        if self.tap is not None:
            self.tap(method, str(request.url), send_headers, body)
        timer = _Timer()
        started = time.perf_counter()
        response: httpx.Response | None = None
        error: str | None = None
        try:
            async with self.session().request(
                method, str(request.url), headers=send_headers, data=body, allow_redirects=False,
                trace_request_ctx=timer,
            ) as answer:
                payload = await answer.read()
                response = httpx.Response(answer.status, headers=list(answer.raw_headers), content=payload,
                                          request=request)
        except aiohttp.ClientConnectorError as exc:
            error = f"target unreachable (cannot connect to {exc.host}:{exc.port})"
        except TimeoutError:
            error = f"timeout (no answer within {self._timeout:g} s)"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - started) * 1000
        exchange = exchange_of(request, response, error=error, latency_ms=latency_ms, network_ms=timer.network_ms)
        return response, exchange

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
