"""The suite's HTTP layer (real requests to the reference platform) and response validation."""

from __future__ import annotations

import asyncio

import httpx

from sloguard.http import Client
from sloguard.results import Exchange, TransportErrorKind
from sloguard.synthetics.validate import SchemaValidator
from tests.conftest import free_port


def _token(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/token", auth=("sloguard-ci", "sloguard-ci-secret"),
                          data={"grant_type": "client_credentials"})
    return str(response.json()["access_token"])


def test_exchange_is_redacted_timed_and_reproducible(platform) -> None:
    token = _token(platform.base_url)

    async def go() -> tuple[httpx.Response | None, Exchange, Exchange]:
        client = Client(platform.base_url)
        try:
            first = await client.request("GET", "/api/slack/messages", headers={"Authorization": f"Bearer {token}"},
                                         params={"per_page": 2, "page": 1})
            login = await client.request("POST", "/api/auth/token", data={
                "grant_type": "client_credentials", "client_id": "sloguard-ci", "client_secret": "sloguard-ci-secret"})
            return first[0], first[1], login[1]
        finally:
            await client.aclose()

    response, exchange, login = asyncio.run(go())
    assert response is not None and response.status_code == 200 and len(response.json()["items"]) == 2
    assert exchange.status == 200 and exchange.latency_ms > 0
    assert exchange.network_ms is not None  # a new connection: its connect time is known
    text = exchange.as_text("request") + exchange.curl() + login.as_text("request") + login.as_text("response")
    assert token not in text and "sloguard-ci-secret" not in text
    assert "[REDACTED]" in login.as_text("response")  # the issued access token
    assert '"Authorization: Bearer $ATOM_TOKEN"' in exchange.curl()
    assert "per_page=2" in exchange.curl()


def test_unreachable_target_is_an_error_not_an_exception() -> None:
    async def go() -> tuple[httpx.Response | None, Exchange]:
        client = Client(f"http://127.0.0.1:{free_port()}", timeout_s=2)
        try:
            return await client.request("GET", "/health")
        finally:
            await client.aclose()

    response, exchange = asyncio.run(go())
    assert response is None and exchange.status is None
    assert exchange.error is not None and exchange.error.startswith("target unreachable")


def test_a_body_that_cannot_be_decoded_is_a_decode_error() -> None:
    """A server that says gzip and sends something else: a DECODE transport error, with its status kept."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = b"this is not gzip"
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
        writer.close()

    async def go() -> tuple[httpx.Response | None, Exchange]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        client = Client(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", timeout_s=5)
        try:
            return await client.request("GET", "/x")
        finally:
            await client.aclose()
            server.close()

    response, exchange = asyncio.run(go())
    assert response is None and exchange.transport is TransportErrorKind.DECODE and exchange.status == 200
    assert exchange.error is not None and exchange.error.startswith("decode error")


def test_nullable_and_cyclic_schemas() -> None:
    components = {"schemas": {"Node": {
        "type": "object", "required": ["id", "label"],
        "properties": {"id": {"type": "string"}, "label": {"type": "string", "nullable": True},
                       "child": {"$ref": "#/components/schemas/Node"}}}}}
    validator = SchemaValidator(components, "3.0.3")
    schema = {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
    assert validator.errors(schema, [{"id": "a", "label": None, "child": {"id": "b", "label": "x"}}]) == []
    errors = validator.errors(schema, [{"id": "a", "label": None, "child": {"label": 3}}])
    assert any("$[0].child" in e and "id" in e for e in errors), errors
    assert any("$[0].child.label" in e for e in errors), errors
    flat = {"type": "object", "required": ["total"], "properties": {"total": {"type": "integer"}}}
    assert validator.errors(flat, {"total": 1}) == []
    assert validator.errors(flat, {"total": "1"}) == ['$.total: "1" is not of type "integer"']
