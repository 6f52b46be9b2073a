"""A generic JSON webhook (a ticket system, a chat bridge, your own receiver), signed with HMAC.

The body is the notification's JSON (`Notification.to_dict` plus ``version``). With ``secret`` set,
each request carries ``X-Sloguard-Timestamp`` (Unix seconds) and ``X-Sloguard-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``<timestamp>.<raw body>`` under the secret: the receiver
recomputes it over the bytes it received and rejects old timestamps, so a captured request cannot
be replayed later (the recipe is in docs/alerts.md). ``X-Sloguard-Delivery`` is the notification id,
for dropping a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sloguard.config.alerts import WebhookChannel as WebhookConfig
from sloguard.redact import is_sensitive_key

from ..notification import Notification
from .http import HTTPChannel, check_headers

VERSION = 1
SIGNATURE_HEADER = "X-Sloguard-Signature"
TIMESTAMP_HEADER = "X-Sloguard-Timestamp"
DELIVERY_HEADER = "X-Sloguard-Delivery"
EVENT_HEADER = "X-Sloguard-Event"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, ``<timestamp>.<body>``)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class WebhookChannel(HTTPChannel[WebhookConfig]):
    kind = "webhook"

    def validate(self) -> None:
        check_headers(self, self.config.headers)
        url = self.config.url.get_secret_value()
        self.url = url
        self.secret(url)
        parts = urlsplit(url)
        for piece in (parts.path.strip("/"), parts.query):
            if len(piece) >= 8:
                self.secret(piece)
        if parts.password:
            self.secret(parts.password)
        for name, value in self.config.headers.items():
            if is_sensitive_key(name) or "signature" in name.lower():
                self.secret(value)
        self.key = self.secret(self.config.secret.get_secret_value()) if self.config.secret else None
        reserved = {SIGNATURE_HEADER.lower(), TIMESTAMP_HEADER.lower(), DELIVERY_HEADER.lower(), "content-type"}
        clash = [h for h in self.config.headers if h.lower() in reserved]
        if clash:
            raise self.fail(f"header {clash[0]} is set by sloguard itself; remove it from headers")

    def describe(self) -> str:
        return f"webhook ({urlsplit(self.url).hostname})"

    def body(self, n: Notification) -> bytes:
        return json.dumps({"version": VERSION, **n.to_dict()}, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def headers(self, n: Notification, body: bytes, now: float | None = None) -> dict[str, str]:
        out = {**self.config.headers, DELIVERY_HEADER: n.id, EVENT_HEADER: n.kind.value}
        if self.key:
            stamp = str(int(now if now is not None else time.time()))
            out[TIMESTAMP_HEADER] = stamp
            out[SIGNATURE_HEADER] = sign(self.key, stamp, body)
        return out

    def send(self, notification: Notification) -> None:
        body = self.body(notification)
        self.post(self.url, content=body, headers=self.headers(notification, body))

    def resolve(self, notification: Notification) -> None:
        self.send(notification)

    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        out = []
        for n in batch:
            body = self.body(n)
            out.append({"headers": self.headers(n, body), "body": json.loads(body)})
        return out
