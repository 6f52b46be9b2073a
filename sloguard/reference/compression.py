"""Compressed answers, as a compressing proxy in front of the real ATOM would send them.

With the ``compression`` fault on, every answer whose request accepts the chosen coding (gzip,
deflate or br) is compressed, so the suite's own tests meet what production APIs behind nginx or a
CDN send. Pure ASGI, and a pass-through when the fault is off, so the hot path pays nothing.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import brotli
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .faults import FaultSet


def _gzip(body: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(body) + compressor.flush()


_COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": _gzip,
    "deflate": zlib.compress,  # RFC 9110 "deflate" is the zlib format
    "br": brotli.compress,
}


def _accepts(scope: Scope, coding: str) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"accept-encoding":
            offered = {part.split(b";")[0].strip().lower() for part in value.split(b",")}
            return coding.encode() in offered or b"*" in offered
    return False


class CompressionMiddleware:
    def __init__(self, app: ASGIApp, faults: Callable[[], FaultSet]) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = self.faults().compression if scope["type"] == "http" else None
        if coding is None or not _accepts(scope, coding):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            if body and not any(k.lower() == b"content-encoding" for k, _ in headers):
                body = _COMPRESS[coding](body)
                headers += [(b"content-encoding", coding.encode()), (b"vary", b"Accept-Encoding")]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, buffer)
