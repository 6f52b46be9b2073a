"""What the HTTP channels share: one httpx client each, and one reading of a receiver's answer.

A timeout, a refused connection, 408, 429 and 5xx are worth retrying (429/503 may say when, in
``Retry-After``); any other 4xx means the receiver refused this message. Error texts name the
status and a short, redacted part of the body, never the URL (a webhook URL is a credential).
"""

from __future__ import annotations

import email.utils
import json
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

from sloguard import __version__
from sloguard.redact import redact_text

from .base import Channel, DeliveryError

ConfigT = TypeVar("ConfigT", bound=BaseModel)
USER_AGENT = f"sloguard/{__version__} (alerts)"
_BODY_IN_ERROR = 200


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or odd."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def check_headers(channel: Channel[Any], headers: dict[str, str]) -> None:
    """Header names and values that HTTP cannot carry are a config error, found at start."""
    for name, value in headers.items():
        if not name or any(c in name for c in " :\t\r\n") or not name.isascii():
            raise channel.fail(f"header name {name!r} is not valid; use a token such as X-Team")
        if "\r" in value or "\n" in value:
            raise channel.fail(f"header {name} has a line break in its value; remove it")


class HTTPChannel(Channel[ConfigT]):
    """A channel that POSTs JSON to a receiver."""

    _client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self.settings.timeout_s, follow_redirects=False,
                                        headers={"User-Agent": USER_AGENT})
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def post(self, url: str, *, body: Any = None, content: bytes | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        """POST and classify the answer: return a 2xx response, raise `DeliveryError` otherwise."""
        data = content if content is not None else json.dumps(body, separators=(",", ":")).encode("utf-8")
        sent = {"Content-Type": "application/json", **(headers or {})}
        try:
            response = self.client().post(url, content=data, headers=sent)
        except httpx.TimeoutException:
            raise DeliveryError(f"no answer within {self.settings.timeout_s:g} s") from None
        except httpx.TransportError as exc:
            raise DeliveryError(f"cannot connect ({type(exc).__name__}: {redact_text(str(exc))[:120]})") from None
        status = response.status_code
        if 200 <= status < 300:
            return response
        text = " ".join(response.text.split())[:_BODY_IN_ERROR]
        detail = f"HTTP {status}" + (f": {redact_text(text)}" if text else "")
        if status in (408, 425, 429) or status >= 500:
            raise DeliveryError(detail, retryable=True, retry_after=retry_after(response.headers.get("retry-after")))
        raise DeliveryError(detail, retryable=False)
