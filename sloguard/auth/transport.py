"""The requests a login sends and the answers it reads, and the drivers that send them.

Logins are written sans I/O: a *flow* is a generator that yields an :class:`HttpCall`, is sent back
the :class:`HttpAnswer`, and finally returns its result (a token, a discovery document). The same
flow then runs over httpx's async client (the synthetic checks), httpx's sync client (Schemathesis),
or any requests-style client such as a Locust user's own ``self.client`` (so token requests show in
Locust's statistics) — each driver below is a few lines.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode, urlsplit

import httpx

from sloguard.redact import redact_text

from .errors import TokenError

T = TypeVar("T")


@dataclass(frozen=True, repr=False)
class HttpCall:
    """One request of a login: everything a driver needs to send it (the body already encoded)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    what: str = "request"  # how messages name it: "token request (grant password, client ci)"
    secrets: tuple[str, ...] = ()  # literals to keep out of any message about this call

    @classmethod
    def form(cls, url: str, data: Mapping[str, str], *, what: str, headers: Mapping[str, str] | None = None,
             secrets: tuple[str | None, ...] = ()) -> HttpCall:
        """A form-encoded POST (RFC 6749 token, revocation and introspection requests)."""
        return cls("POST", url, {"Accept": "application/json",
                                 "Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
                   urlencode(dict(data)).encode(), what, tuple(s for s in secrets if s))

    @classmethod
    def json(cls, url: str, document: Any, *, what: str, headers: Mapping[str, str] | None = None,
             secrets: tuple[str | None, ...] = ()) -> HttpCall:
        import json

        return cls("POST", url, {"Accept": "application/json", "Content-Type": "application/json",
                                 **(headers or {})},
                   json.dumps(document).encode(), what, tuple(s for s in secrets if s))

    @classmethod
    def get(cls, url: str, *, what: str) -> HttpCall:
        return cls("GET", url, {"Accept": "application/json"}, None, what)

    @property
    def endpoint(self) -> str:
        """The URL without its query (what a message may name)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def __repr__(self) -> str:
        return f"HttpCall({self.method} {self.endpoint}, {self.what})"


@dataclass(frozen=True, repr=False)
class HttpAnswer:
    """The answer to an :class:`HttpCall`: status, headers (names lower-cased) and body bytes."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    reason: str = ""

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        import json

        return json.loads(self.body.decode("utf-8", errors="replace"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "no content-type")

    def __repr__(self) -> str:
        return f"HttpAnswer({self.status} from {self.url})"


Flow = Generator[HttpCall, HttpAnswer, T]


def transport_reason(exc: BaseException) -> str:
    """A one-line cause of a transport failure; TLS failures name the setting that fixes a test server."""
    detail = " ".join(str(exc).split())[:120]
    kind = type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in detail or "SSL" in detail:
        return f"TLS verification failed ({detail}); for a self-signed test server set target.verify_tls: false"
    return f"{kind}: {detail}" if detail else kind


def transport_error(call: HttpCall, exc: BaseException) -> TokenError:
    text = f"{call.what} to {call.endpoint} failed: {transport_reason(exc)}"
    return TokenError(redact_text(text), url=call.endpoint)


# ------------------------------------------------------------------------------------------ drivers


class AsyncSender(Protocol):
    async def __call__(self, call: HttpCall) -> HttpAnswer: ...


SyncSender = Callable[[HttpCall], HttpAnswer]


def _answer(call: HttpCall, status: int, headers: Any, body: bytes, reason: str = "") -> HttpAnswer:
    items = headers.items() if hasattr(headers, "items") else headers
    return HttpAnswer(status, {str(k).lower(): str(v) for k, v in items}, body or b"", call.url, reason)


def httpx_async_sender(http: httpx.AsyncClient, *, timeout_s: float | None = None) -> AsyncSender:
    """Send calls over an httpx.AsyncClient (its event hooks see every request: that is how the
    synthetic checks record token exchanges as evidence)."""

    async def send(call: HttpCall) -> HttpAnswer:
        try:
            response = await http.request(**_httpx_request(call, timeout_s))
        except httpx.TransportError as exc:
            raise transport_error(call, exc) from None
        return _httpx_answer(call, response)

    return send


def _httpx_request(call: HttpCall, timeout_s: float | None) -> dict[str, Any]:
    """One call as httpx request arguments (the same for its sync and async clients)."""
    return {"method": call.method, "url": call.url, "headers": dict(call.headers), "content": call.body,
            "follow_redirects": False, "timeout": timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT}


def _httpx_answer(call: HttpCall, response: httpx.Response) -> HttpAnswer:
    return _answer(call, response.status_code, response.headers.multi_items(), response.content,
                   response.reason_phrase)


def httpx_sync_sender(http: httpx.Client, *, timeout_s: float | None = None) -> SyncSender:
    def send(call: HttpCall) -> HttpAnswer:
        try:
            response = http.request(**_httpx_request(call, timeout_s))
        except httpx.TransportError as exc:
            raise transport_error(call, exc) from None
        return _httpx_answer(call, response)

    return send


def requests_sender(client: Any, *, name: str | None = None, timeout_s: float | None = None) -> SyncSender:
    """Send calls with a requests-style client: ``requests.Session``, or a Locust user's
    ``self.client`` (HttpUser or FastHttpUser), so the login is one more entry in Locust's stats.

    ``name`` groups the requests in Locust's statistics (e.g. ``"auth · login"``).
    """

    def send(call: HttpCall) -> HttpAnswer:
        kwargs: dict[str, Any] = {"headers": dict(call.headers), "data": call.body, "allow_redirects": False}
        if name is not None and _is_locust(client):
            kwargs["name"] = name
        if timeout_s is not None and not _is_fasthttp(client):
            kwargs["timeout"] = timeout_s
        try:
            response = client.request(call.method, call.url, **kwargs)
        except Exception as exc:  # requests raises its own ConnectionError family
            raise transport_error(call, exc) from None
        status = int(getattr(response, "status_code", 0) or 0)
        if status == 0:  # FastHttpUser reports a failed connection as status 0 with .error
            raise transport_error(call, getattr(response, "error", None) or ConnectionError("no answer"))
        return _answer(call, status, getattr(response, "headers", {}) or {}, response.content or b"",
                       str(getattr(response, "reason", "") or ""))

    return send


def _is_locust(client: Any) -> bool:
    return type(client).__module__.startswith("locust")


def _is_fasthttp(client: Any) -> bool:
    return type(client).__module__.startswith("locust.contrib.fasthttp")


async def drive_async(flow: Flow[T], send: AsyncSender) -> T:
    """Run a flow to its result over an async sender; a transport failure is thrown into the flow."""
    try:
        call = next(flow)
        while True:
            try:
                answer = await send(call)
            except TokenError as exc:
                call = flow.throw(exc)
                continue
            call = flow.send(answer)
    except StopIteration as done:
        return done.value


def drive_sync(flow: Flow[T], send: SyncSender) -> T:
    """Run a flow to its result over a sync sender; a transport failure is thrown into the flow."""
    try:
        call = next(flow)
        while True:
            try:
                answer = send(call)
            except TokenError as exc:
                call = flow.throw(exc)
                continue
            call = flow.send(answer)
    except StopIteration as done:
        return done.value
