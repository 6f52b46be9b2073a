"""The suite's HTTP layer: one shared async client whose every exchange is timed and recorded.

Each request yields an `Answer` (status, headers, the body decoded exactly once) and an
:class:`~sloguard.results.Exchange` (redacted at creation, so nothing downstream can leak a secret)
with the total latency and the network time (TCP connect + TLS handshake, from the HTTP client's
trace hooks). A failure on the wire is classified from the exception's type into a
`TransportErrorKind` (timeout, connect, tls, protocol, decode).
"""

from __future__ import annotations

import importlib.util
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import aiohttp
import httpx
import orjson
from aiohttp.http_exceptions import ContentEncodingError
from multidict import CIMultiDictProxy
from yarl import URL

from sloguard.results import Exchange, TransportErrorKind

# aiohttp decodes br when brotli is installed (a dependency); offer only what can be decoded.
ACCEPT_ENCODING = "gzip, deflate, br" if importlib.util.find_spec("brotli") else "gzip, deflate"


class Answer:
    """What a check reads of a response: the httpx names (``status_code``, ``headers``, ``text``,
    ``json()``), without building an httpx response per answer (that cost more than the request)."""

    __slots__ = ("_text", "content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: CIMultiDictProxy[str], content: bytes, url: str) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url
        self._text: str | None = None

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.content.decode(_charset(self.headers.get("content-type", "")), errors="replace")
        return self._text

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not (as httpx does)."""
        try:
            return orjson.loads(self.content)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"the body is not JSON ({exc})") from None

    def __repr__(self) -> str:
        return f"<Answer {self.status_code} {self.url}>"


def _charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip('"')
    return "utf-8"


def exchange_of(
    request: httpx.Request,
    response: httpx.Response | None,
    *,
    error: str | None = None,
    transport: TransportErrorKind | None = None,
    latency_ms: float = 0.0,
    network_ms: float | None = None,
) -> Exchange:
    """The redacted record of one httpx exchange (the response body must have been read)."""
    return Exchange.record(
        request.method,
        str(request.url),
        request.headers.multi_items(),
        request.content if request.content else None,
        response.status_code if response is not None else None,
        response.headers.multi_items() if response is not None else (),
        response.content if response is not None else None,
        latency_ms=latency_ms,
        network_ms=network_ms,
        transport=transport,
        error=error,
    )


def classify(exc: BaseException) -> TransportErrorKind:
    """The kind of a transport failure, from the exception's type (never from its message)."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError | httpx.TimeoutException):
        return TransportErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return TransportErrorKind.TLS
    if isinstance(exc, aiohttp.ClientConnectorError | httpx.ConnectError):
        return TransportErrorKind.CONNECT
    if isinstance(exc, httpx.DecodingError):
        return TransportErrorKind.DECODE
    if isinstance(exc, aiohttp.ClientPayloadError) and isinstance(exc.__cause__, ContentEncodingError):
        return TransportErrorKind.DECODE
    return TransportErrorKind.PROTOCOL


def describe(exc: BaseException, kind: TransportErrorKind, timeout_s: float) -> str:
    """One line for a report: what failed on the wire."""
    if kind is TransportErrorKind.TIMEOUT:
        return f"timeout (no answer within {timeout_s:g} s)"
    if isinstance(exc, aiohttp.ClientConnectorError) and kind is TransportErrorKind.CONNECT:
        return f"target unreachable (cannot connect to {exc.host}:{exc.port})"
    detail = " ".join(str(exc).split())[:200]
    return f"{kind.value} error: {type(exc).__name__}" + (f": {detail}" if detail else "")


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


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Query parameters as strings, the way an HTTP client would send them (lists repeat the key)."""
    out: list[tuple[str, str]] = []
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
                # aiohttp decodes the body (gzip, deflate, brotli) and nothing decodes it again: the
                # Answer keeps the headers as sent but never re-reads Content-Encoding.
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
    ) -> tuple[Answer | None, Exchange]:
        url_sent = str(URL(self.url(url)).update_query(_query(params))) if params else self.url(url)
        send_headers = {"Accept": "*/*", "Accept-Encoding": ACCEPT_ENCODING, **self._headers, **dict(headers or {})}
        body: bytes | None = content
        if json is not None:
            body = orjson.dumps(json)
            send_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urlencode(data).encode()
            send_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.tap is not None:
            self.tap(method, url_sent, send_headers, body)
        timer = _Timer()
        started = time.perf_counter()
        response: Answer | None = None
        error: str | None = None
        transport: TransportErrorKind | None = None
        sent: list[tuple[str, str]] = list(send_headers.items())
        status: int | None = None
        raw_headers: list[tuple[str, str]] = []
        payload: bytes | None = None
        try:
            async with self.session().request(
                method, URL(url_sent, encoded=True), headers=send_headers, data=body, allow_redirects=False,
                trace_request_ctx=timer,
            ) as answer:
                sent = list(answer.request_info.headers.items())  # what went on the wire, auto headers too
                status = answer.status
                # as they came, Content-Encoding included (aiohttp decoded the body, once)
                raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers]
                payload = await answer.read()
                response = Answer(status, answer.headers, payload, url_sent)
        except (TimeoutError, aiohttp.ClientError, ssl.SSLError) as exc:
            transport = classify(exc)
            error = describe(exc, transport, self._timeout)
        latency_ms = (time.perf_counter() - started) * 1000
        exchange = Exchange.record(
            method, url_sent, sent, body, status, raw_headers, payload, latency_ms=latency_ms,
            network_ms=timer.network_ms, transport=transport, error=error,
        )
        return response, exchange

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
