"""The evidence a result carries: each request and its answer, redacted, with a curl line.

Every runner records its requests as `Exchange` objects (the synthetic checks from aiohttp, contract
runs from Schemathesis' cases, load runs from failed Locust requests), so every reporter — Allure,
JUnit, the HTML pages, alerts — reads one shape. An exchange is redacted when it is built, so
nothing downstream can leak a secret it never received.
"""

from __future__ import annotations

import enum
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sloguard import redact

CURL_TOKEN_VAR = "ATOM_TOKEN"  # curl lines read a redacted bearer token from this variable
CURL_CLIENT_ID_VAR, CURL_CLIENT_SECRET_VAR = "ATOM_CLIENT_ID", "ATOM_CLIENT_SECRET"  # … and Basic credentials
BODY_LIMIT = 4096  # bytes of a body kept for reports; the rest is truncated with a marker
_CURL_SKIPPED_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent"})


class TransportErrorKind(enum.StrEnum):
    """Why no usable answer came back, classified from the HTTP client's exception types."""

    TIMEOUT = "timeout"
    CONNECT = "connect"
    TLS = "tls"
    PROTOCOL = "protocol"  # the peer broke HTTP: disconnected mid-answer, malformed status line or headers
    DECODE = "decode"  # the body could not be decoded (broken gzip/deflate/brotli, bad charset)


def body_text(content: bytes | str | None, limit: int = BODY_LIMIT) -> str:
    """A body as text for a report: decoded leniently, cut at ``limit`` bytes with a marker."""
    if not content:
        return ""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    text = raw[:limit].decode("utf-8", errors="replace")
    if len(raw) > limit:
        text += f"\n… [truncated, {len(raw)} bytes in all]"
    return text


@dataclass(frozen=True)
class Exchange:
    """One request and its answer (or the transport error instead of one), already redacted.

    Build it with `Exchange.record`, which redacts and truncates; the plain constructor is for
    reading back what `to_dict` wrote.
    """

    method: str
    url: str
    request_headers: Mapping[str, str]
    request_body: str
    status: int | None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: str = ""
    latency_ms: float = 0.0
    network_ms: float | None = None  # connect (+ TLS) time; None: a kept-alive connection was reused
    transport: TransportErrorKind | None = None
    error: str | None = None  # what went wrong on the wire, in one line

    @classmethod
    def record(
        cls,
        method: str,
        url: str,
        request_headers: Mapping[str, str] | Iterable[tuple[str, str]],
        request_body: bytes | str | None,
        status: int | None,
        response_headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        response_body: bytes | str | None = None,
        *,
        latency_ms: float = 0.0,
        network_ms: float | None = None,
        transport: TransportErrorKind | None = None,
        error: str | None = None,
    ) -> Exchange:
        """The redacted, truncated record of one exchange."""
        return cls(
            method=method.upper(),
            url=redact.redact_text(url),
            request_headers=redact.redact_headers(_as_dict(request_headers)),
            request_body=redact.redact_text(body_text(request_body)),
            status=status,
            response_headers=redact.redact_headers(_as_dict(response_headers)),
            response_body=redact.redact_text(body_text(response_body)),
            latency_ms=float(latency_ms),
            network_ms=network_ms,
            transport=transport,
            error=redact.redact_text(error) if error else None,
        )

    @property
    def outcome(self) -> str:
        """The HTTP status, or the transport error: what a report shows after the arrow."""
        if self.status is not None:
            return str(self.status)
        return self.error or (self.transport.value if self.transport else "no answer")

    def title(self) -> str:
        path = urlsplit(self.url).path or "/"
        return f"{self.method} {path} → {self.outcome} ({self.latency_ms:.0f} ms)"

    def curl(self) -> str:
        """A curl command that repeats the request; a redacted bearer token reads ``$ATOM_TOKEN``."""
        parts = ["curl", "-sS", "-X", self.method]
        credential: str | None = None
        for name, value in self.request_headers.items():
            if name.lower() in _CURL_SKIPPED_HEADERS:
                continue
            if name.lower() == "authorization" and redact.MASK in value:
                if value.lower().startswith("basic "):  # client authentication: id and secret from env
                    credential = f'-u "${CURL_CLIENT_ID_VAR}:${CURL_CLIENT_SECRET_VAR}"'
                else:
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

    def as_text(self, which: str) -> str:
        """The request or the response as an HTTP-like text block."""
        if which == "request":
            head = "\n".join(f"{k}: {v}" for k, v in self.request_headers.items())
            return f"{self.method} {self.url}\n{head}\n\n{self.request_body}"
        head = "\n".join(f"{k}: {v}" for k, v in self.response_headers.items())
        status = self.status if self.status is not None else f"- ({self.outcome})"
        return f"HTTP {status}\n{head}\n\n{self.response_body}"

    def text(self) -> str:
        """Request, response and curl line in one block (one attachment per exchange)."""
        return (f"{self.as_text('request')}\n\n--- response ---\n{self.as_text('response')}"
                f"\n\n--- curl ---\n{self.curl()}\n")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_body,
            "latency_ms": round(self.latency_ms, 3),
            "network_ms": None if self.network_ms is None else round(self.network_ms, 3),
            "transport": self.transport.value if self.transport else None,
            "error": self.error,
            "curl": self.curl(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exchange:
        transport = data.get("transport")
        return cls(
            method=str(data["method"]),
            url=str(data["url"]),
            request_headers=dict(data.get("request_headers") or {}),
            request_body=str(data.get("request_body") or ""),
            status=data.get("status"),
            response_headers=dict(data.get("response_headers") or {}),
            response_body=str(data.get("response_body") or ""),
            latency_ms=float(data.get("latency_ms") or 0.0),
            network_ms=data.get("network_ms"),
            transport=TransportErrorKind(transport) if transport else None,
            error=data.get("error"),
        )


def _as_dict(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    if isinstance(headers, Mapping):
        return {str(k): str(v) for k, v in headers.items()}
    out: dict[str, str] = {}
    for name, value in headers:
        out[str(name)] = f"{out[str(name)]}, {value}" if str(name) in out else str(value)
    return out
