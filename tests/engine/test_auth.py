"""The engine's OAuth2 client against the real reference platform, over HTTP only.

The platform is reached as a running server (the ``platform`` fixtures); nothing here imports
``sloguard.reference``. Where the platform cannot misbehave in the way a check must catch (a rogue
discovery document, a state mix-up, a redirect to a foreign host), a tiny real HTTP server on
127.0.0.1 plays the misbehaving authorization server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from sloguard.auth import (
    AuthConfigError,
    AuthSettings,
    Discovery,
    DiscoveryError,
    JWTVerifier,
    OAuthClient,
    TokenError,
    TokenInvalid,
    TokenProvider,
)
from sloguard.errors import UsageError
from sloguard.redact import MASK
from tests.conftest import RunningPlatform, free_port

REDIRECT_URI = "http://127.0.0.1:8765/callback"
SECRETS = ("sloguard-ci-secret", "alice-password", "bob-password", "sloguard-short-secret")


def settings_for(base_url: str, **overrides: Any) -> AuthSettings:
    """The reference platform's documented clients and test user."""
    values: dict[str, Any] = {
        "issuer": base_url,
        "client_id": "sloguard-ci",
        "client_secret": "sloguard-ci-secret",
        "scope": "read write",
        "username": "alice@acme.test",
        "password": "alice-password",
        "pkce_client_id": "sloguard-spa",
        "redirect_uri": REDIRECT_URI,
        "audience": "atom-api",
    }
    values.update(overrides)
    return AuthSettings(**values)


@dataclass
class RequestLog:
    """Counts what actually went over the wire (an httpx event hook on the provider's own client)."""

    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    async def hook(self, request: httpx.Request) -> None:
        form = dict(parse_qsl(request.content.decode(errors="replace"))) if request.method == "POST" else {}
        self.seen.append((request.method, request.url.path, form.get("grant_type")))

    def grants(self) -> list[str | None]:
        return [grant for method, path, grant in self.seen if method == "POST" and grant is not None]

    def paths(self, suffix: str) -> int:
        return sum(1 for _, path, _ in self.seen if path.endswith(suffix))


@pytest.fixture
async def counted(platform: RunningPlatform) -> AsyncIterator[tuple[TokenProvider, RequestLog]]:
    log = RequestLog()
    async with httpx.AsyncClient(event_hooks={"request": [log.hook]}, timeout=10) as http:
        yield TokenProvider(settings_for(platform.base_url), http), log


@pytest.fixture
async def provider(platform: RunningPlatform) -> AsyncIterator[TokenProvider]:
    async with TokenProvider(settings_for(platform.base_url)) as prov:
        yield prov


@pytest.fixture
async def verifier(provider: TokenProvider) -> AsyncIterator[JWTVerifier]:
    yield await provider.verifier()


# ------------------------------------------------------------------- a misbehaving server on loopback

Route = tuple[int, dict[str, str], bytes]


class StubServer:
    """A real HTTP server answering fixed responses per path; ``{base}`` in a body is its own URL."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                path = self.path.split("?", 1)[0]
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                status, headers, body = stub.routes.get(path, (404, {"content-type": "text/plain"}, b"nope"))
                body = body.replace(b"{base}", stub.base_url.encode())
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value.replace("{base}", stub.base_url))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub_server() -> Iterator[Callable[[dict[str, Route]], StubServer]]:
    servers: list[StubServer] = []

    def make(routes: dict[str, Route]) -> StubServer:
        servers.append(StubServer(routes))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def json_route(doc: dict[str, Any], status: int = 200) -> Route:
    return status, {"content-type": "application/json"}, json.dumps(doc).encode()


def metadata(**overrides: Any) -> dict[str, Any]:
    doc = {
        "issuer": "{base}",
        "token_endpoint": "{base}/token",
        "authorization_endpoint": "{base}/authorize",
        "jwks_uri": "{base}/jwks",
    }
    doc.update(overrides)
    return {k: v for k, v in doc.items() if v is not None}


def assert_one_clear_line(message: str, *must_contain: str) -> None:
    assert "\n" not in message and "Traceback" not in message and "httpx." not in message, message
    for part in must_contain:
        assert part in message, f"{part!r} not in {message!r}"
    for secret in SECRETS:
        assert secret not in message, message


# ------------------------------------------------------------------------------------------ discovery


async def test_discovery_names_every_endpoint(platform: RunningPlatform) -> None:
    disc = await Discovery.fetch(platform.base_url)
    assert disc.issuer.rstrip("/") == platform.base_url
    assert disc.source_url == f"{platform.base_url}/.well-known/oauth-authorization-server"
    assert disc.token_endpoint == f"{platform.base_url}/api/auth/token"
    assert disc.authorization_endpoint == f"{platform.base_url}/api/auth/authorize"
    assert disc.revocation_endpoint and disc.introspection_endpoint and disc.jwks_uri
    assert "S256" in disc.code_challenge_methods_supported
    assert disc.endpoint("jwks_uri") == disc.jwks_uri


async def test_discovery_falls_back_to_openid_configuration(stub_server: Callable[..., StubServer]) -> None:
    stub = stub_server({"/.well-known/openid-configuration": json_route(metadata())})
    disc = await Discovery.fetch(stub.base_url)
    assert disc.source_url == f"{stub.base_url}/.well-known/openid-configuration"
    assert disc.token_endpoint == f"{stub.base_url}/token"
    with pytest.raises(AuthConfigError) as info:
        disc.endpoint("revocation_endpoint")
    assert_one_clear_line(str(info.value), "revocation_endpoint", disc.source_url)


async def test_discovery_unreachable_issuer_is_a_run_time_auth_failure() -> None:
    # An identity provider that is down is a finding (one P0 AUTH_FAILURE), not a usage error (exit 2).
    issuer = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DiscoveryError) as info:
        await Discovery.fetch(issuer, timeout_s=2)
    assert not isinstance(info.value, UsageError)
    assert_one_clear_line(str(info.value), f"cannot reach the OAuth issuer {issuer}", "auth.issuer")


async def test_discovery_rejects_a_page_that_is_not_json(stub_server: Callable[..., StubServer]) -> None:
    page: Route = (200, {"content-type": "text/html"}, b"<html>welcome</html>")
    stub = stub_server({"/.well-known/oauth-authorization-server": page, "/.well-known/openid-configuration": page})
    with pytest.raises(DiscoveryError) as info:
        await Discovery.fetch(stub.base_url)
    assert_one_clear_line(str(info.value), "is not JSON", "text/html", stub.base_url)


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (metadata(token_endpoint=None), "has no token_endpoint"),
        (metadata(issuer="http://evil.example"), "names issuer 'http://evil.example'"),
        (metadata(jwks_uri="/relative/jwks"), "jwks_uri '/relative/jwks', not an http(s) URL"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
async def test_discovery_rejects_a_bad_document(
    stub_server: Callable[..., StubServer], doc: Any, expected: str
) -> None:
    stub = stub_server({"/.well-known/oauth-authorization-server": json_route(doc)})
    with pytest.raises(DiscoveryError) as info:
        await Discovery.fetch(stub.base_url)
    assert_one_clear_line(str(info.value), expected)


async def test_discovery_with_nothing_at_either_location(stub_server: Callable[..., StubServer]) -> None:
    stub = stub_server({})
    with pytest.raises(DiscoveryError) as info:
        await Discovery.fetch(stub.base_url)
    assert_one_clear_line(str(info.value), "no discovery document", "HTTP 404", "openid-configuration")


async def test_issuer_that_is_not_a_url() -> None:
    with pytest.raises(AuthConfigError, match="is not an http"):
        await Discovery.fetch("atom-staging.example.com")


# --------------------------------------------------------------------------------------------- grants


async def test_client_credentials(provider: TokenProvider, verifier: JWTVerifier, platform: RunningPlatform) -> None:
    token = await provider.get_token("client_credentials")
    claims = await verifier.verify(token.access_token)
    assert claims["client_id"] == "sloguard-ci"
    assert claims["aud"] == "atom-api"  # the platform issues one audience, as a string (RFC 9068 allows either)
    assert claims["iss"].rstrip("/") == platform.base_url
    assert set(claims["scope"].split()) == {"read", "write"}
    assert claims["tenant"] == "acme"
    assert token.lifetime_s and token.lifetime_s > 30


async def test_password_grant(provider: TokenProvider, verifier: JWTVerifier) -> None:
    token = await provider.get_token("password")
    claims = await verifier.verify(token.access_token)
    assert claims["client_id"] == "sloguard-ci"
    assert claims["sub"] != "sloguard-ci"
    assert token.refresh_token


@pytest.mark.parametrize("client", ["sloguard-spa", "sloguard-ci"])
async def test_authorization_code_with_pkce(provider: TokenProvider, verifier: JWTVerifier, client: str) -> None:
    creds = provider.client("authorization_code", client, "sloguard-ci-secret" if client == "sloguard-ci" else None)
    code = await provider.authorize_code(client=creds)
    assert code.state and code.code_verifier and 43 <= len(code.code_verifier) <= 128
    token = await provider.exchange_code(code.code, code.code_verifier, code.redirect_uri, client=creds)
    claims = await verifier.verify(token.access_token)
    assert claims["client_id"] == client
    assert claims["tenant"] == "acme"
    assert token.refresh_token


async def test_code_exchange_negative_steps_are_refused(provider: TokenProvider) -> None:
    """The raw steps a negative check is built on: each misuse gets the OAuth error, not a token."""
    creds = provider.client("authorization_code")
    code = await provider.authorize_code(client=creds)
    with pytest.raises(TokenError) as wrong_verifier:
        await provider.exchange_code(code.code, "x" * 64, code.redirect_uri, client=creds)
    assert (wrong_verifier.value.status, wrong_verifier.value.error) == (400, "invalid_grant")

    code = await provider.authorize_code(client=creds)
    with pytest.raises(TokenError) as wrong_redirect:
        await provider.exchange_code(code.code, code.code_verifier, "http://127.0.0.1:8765/other", client=creds)
    assert wrong_redirect.value.status == 400

    code = await provider.authorize_code(client=creds)
    await provider.exchange_code(code.code, code.code_verifier, code.redirect_uri, client=creds)
    with pytest.raises(TokenError) as reused:
        await provider.exchange_code(code.code, code.code_verifier, code.redirect_uri, client=creds)
    assert (reused.value.status, reused.value.error) == (400, "invalid_grant")
    assert_one_clear_line(str(reused.value), "/api/auth/token", "HTTP 400", "invalid_grant")
    assert code.code not in str(reused.value) and code.code_verifier not in str(reused.value)

    with pytest.raises(TokenError) as unregistered:
        await provider.authorize_code(client=creds, redirect_uri="http://127.0.0.1:9/evil")
    assert unregistered.value.status == 400  # shown as a page, never redirected


async def test_raw_token_request_returns_the_response(provider: TokenProvider) -> None:
    no_auth = await provider.raw_token_request({"grant_type": "client_credentials"})
    assert no_auth.status in (400, 401)
    good = await provider.raw_token_request(
        {"grant_type": "client_credentials", "scope": "read"},
        OAuthClient("sloguard-readonly", "sloguard-readonly-secret"),
    )
    assert good.status == 200 and good.json()["access_token"]


async def test_a_rogue_redirect_with_the_wrong_state_is_refused(
    stub_server: Callable[..., StubServer],
) -> None:
    stub = stub_server(
        {
            "/.well-known/oauth-authorization-server": json_route(metadata()),
            "/authorize": (302, {"location": f"{REDIRECT_URI}?code=abc&state=forged"}, b""),
        }
    )
    async with TokenProvider(settings_for(stub.base_url)) as prov:
        with pytest.raises(TokenError) as info:
            await prov.authorize_code()
    assert info.value.error == "mismatching_state"
    assert_one_clear_line(str(info.value), "state does not match")


async def test_a_redirect_to_a_foreign_host_is_refused(stub_server: Callable[..., StubServer]) -> None:
    stub = stub_server(
        {
            "/.well-known/oauth-authorization-server": json_route(metadata()),
            "/authorize": (302, {"location": "http://attacker.example/cb?code=abc&state=x"}, b""),
        }
    )
    async with TokenProvider(settings_for(stub.base_url)) as prov:
        with pytest.raises(TokenError) as info:
            await prov.authorize_code()
    assert info.value.error == "unexpected_redirect"
    assert_one_clear_line(str(info.value), "attacker.example", REDIRECT_URI)


# ------------------------------------------------------------------------------ caching and renewal


async def test_300_concurrent_callers_cause_one_token_request(
    counted: tuple[TokenProvider, RequestLog],
) -> None:
    provider, log = counted
    tokens = await asyncio.gather(*(provider.get_token() for _ in range(300)))
    assert log.grants() == ["client_credentials"]
    assert len({t.access_token for t in tokens}) == 1
    # another scope is another cache entry
    await asyncio.gather(*(provider.get_token(scope="read") for _ in range(50)))
    assert log.grants() == ["client_credentials", "client_credentials"]


async def test_short_token_is_renewed_before_it_expires(platform: RunningPlatform) -> None:
    settings = settings_for(
        platform.base_url, client_id="sloguard-short", client_secret="sloguard-short-secret", scope="read"
    )
    log = RequestLog()
    async with httpx.AsyncClient(event_hooks={"request": [log.hook]}) as http:
        provider = TokenProvider(settings, http)
        verifier = await provider.verifier()
        first = await provider.get_token()
        assert first.lifetime_s is not None and 0.5 < first.lifetime_s <= 2.0
        assert (await provider.get_token()) is first
        renewed_at: float | None = None
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            asked_at = time.time()
            token = await provider.get_token()
            await verifier.verify(token.access_token)  # never hands out an expired token
            if token.access_token != first.access_token:
                renewed_at = asked_at
                break
            await asyncio.sleep(0.02)
        assert renewed_at is not None, "the token was not renewed"
        # renewed proactively: the first token had not expired yet when the renewal was decided
        assert first.expires_at is not None and first.expires_at > renewed_at
        assert log.grants() == ["client_credentials", "client_credentials"]


async def test_code_grant_renews_by_rotating_refresh_tokens(
    counted: tuple[TokenProvider, RequestLog],
) -> None:
    provider, log = counted
    offset = [0.0]
    provider._clock = lambda: time.time() + offset[0]
    verifier = await provider.verifier()
    token = await provider.get_token("authorization_code")
    refresh_tokens = [token.refresh_token]
    for _ in range(4):
        offset[0] += (token.lifetime_s or 3600) + 1  # the cached token now looks expired
        token = await provider.get_token("authorization_code")
        await verifier.verify(token.access_token)
        refresh_tokens.append(token.refresh_token)
    assert log.grants() == ["authorization_code"] + ["refresh_token"] * 4
    assert len(set(refresh_tokens)) == 5 and None not in refresh_tokens

    # reusing an old refresh token is refused and revokes the family, newest one included
    with pytest.raises(TokenError) as reuse:
        await provider.refresh(str(refresh_tokens[1]), client=provider.client("authorization_code"))
    assert reuse.value.status in (400, 401) and reuse.value.error == "invalid_grant"
    with pytest.raises(TokenError):
        await provider.refresh(str(refresh_tokens[-1]), client=provider.client("authorization_code"))

    # the cache recovers by running the whole grant again
    offset[0] += (token.lifetime_s or 3600) + 1
    renewed = await provider.get_token("authorization_code")
    await verifier.verify(renewed.access_token)
    assert log.grants()[-2:] == ["refresh_token", "authorization_code"]


async def test_revocation_makes_introspection_inactive(provider: TokenProvider) -> None:
    token = await provider.client_credentials(scope="read")
    before = await provider.introspect(token.access_token, "access_token")
    assert before["active"] is True and before.get("client_id") == "sloguard-ci"
    await provider.revoke(token.access_token, "access_token")
    assert (await provider.introspect(token.access_token, "access_token"))["active"] is False

    user_token = await provider.password()
    assert user_token.refresh_token
    await provider.revoke(user_token.refresh_token, "refresh_token")
    assert (await provider.introspect(user_token.refresh_token, "refresh_token"))["active"] is False
    with pytest.raises(TokenError) as info:
        await provider.refresh(user_token.refresh_token)
    assert info.value.error == "invalid_grant"


async def test_auth_down_is_a_clear_token_error(platform_factory: Callable[..., RunningPlatform]) -> None:
    down = platform_factory("auth_down=true")
    async with TokenProvider(settings_for(down.base_url)) as provider:
        with pytest.raises(TokenError) as info:
            await provider.get_token()
    assert info.value.status == 503
    assert_one_clear_line(str(info.value), f"{down.base_url}/api/auth/token", "HTTP 503", "client_credentials")


async def test_token_endpoint_unreachable_is_a_clear_token_error(
    stub_server: Callable[..., StubServer],
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/token"
    stub = stub_server({"/.well-known/oauth-authorization-server": json_route(metadata(token_endpoint=dead))})
    async with TokenProvider(settings_for(stub.base_url, timeout_s=2)) as provider:
        with pytest.raises(TokenError) as info:
            await provider.get_token()
    assert info.value.status is None
    assert_one_clear_line(str(info.value), dead, "ConnectError")


# ------------------------------------------------------------------------------------------- secrets


async def test_secrets_never_reach_reprs_errors_or_logs(
    platform: RunningPlatform, provider: TokenProvider, caplog: pytest.LogCaptureFixture
) -> None:
    # sloguard's own logs at DEBUG and httpx's request lines at INFO. (httpcore's DEBUG trace prints raw
    # response headers, e.g. the Location that carries an authorization code: keep it off in production.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="sloguard")
    token = await provider.get_token("password")
    code = await provider.authorize_code()
    assert token.refresh_token
    shown = [
        repr(provider.settings),
        repr(provider),
        repr(token),
        str(token),
        repr(code),
        repr(provider.client()),
        repr(await provider.verifier()),
    ]
    for text in shown:
        for secret in (*SECRETS, token.access_token, token.refresh_token, code.code, code.code_verifier):
            assert secret not in text, text
    assert MASK in repr(token) and MASK in repr(provider.settings) and MASK in repr(code)

    wrong_secret = OAuthClient("sloguard-ci", "not-the-real-secret-123")
    with pytest.raises(TokenError) as bad_client:
        await provider.client_credentials(client=wrong_secret)
    assert bad_client.value.status == 401
    assert_one_clear_line(str(bad_client.value), "HTTP 401")
    assert "not-the-real-secret-123" not in str(bad_client.value)

    with pytest.raises(TokenError) as bad_password:
        await provider.password("bob@globex.test", "wrong-bob-password-456")
    assert bad_password.value.status in (400, 401)
    assert "wrong-bob-password-456" not in str(bad_password.value)

    logged = caplog.text
    for secret in (
        *SECRETS,
        "not-the-real-secret-123",
        "wrong-bob-password-456",
        token.access_token,
        token.refresh_token,
        code.code,
        code.code_verifier,
    ):
        assert secret not in logged


# -------------------------------------------------------------------------------------- JWT verifier


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], str, str]:
    header, payload, signature = token.split(".")
    return json.loads(base64.urlsafe_b64decode(header + "==")), payload, signature


async def test_verifier_accepts_a_real_token(provider: TokenProvider, verifier: JWTVerifier) -> None:
    token = await provider.get_token()
    claims = await verifier.verify(token.access_token)
    assert {"iss", "aud", "sub", "exp", "iat", "jti", "client_id", "scope"} <= set(claims)


async def test_verifier_rejects_forged_tokens(provider: TokenProvider, verifier: JWTVerifier) -> None:
    real = (await provider.get_token()).access_token
    header, payload, signature = _segments(real)
    head = real.split(".")[0]

    flipped = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    with pytest.raises(TokenInvalid) as bad_sig:
        await verifier.verify(f"{head}.{payload}.{flipped}")
    assert bad_sig.value.reason == "bad_signature"

    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "read write admin"
    escalated = _b64(json.dumps(claims).encode())
    with pytest.raises(TokenInvalid) as bad_payload:
        await verifier.verify(f"{head}.{escalated}.{signature}")
    assert bad_payload.value.reason == "bad_signature"

    none_head = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": header["kid"]}).encode())
    with pytest.raises(TokenInvalid) as alg_none:
        await verifier.verify(f"{none_head}.{payload}.")
    assert alg_none.value.reason == "alg_not_allowed"
    assert_one_clear_line(str(alg_none.value), "'none' is not allowed")

    # HS256 signed with the public key as the HMAC secret (the classic key-confusion forgery;
    # made by hand here because that is what an attacker does)
    jwks = (await provider.http.get((await provider.discovery()).endpoint("jwks_uri"))).json()
    jwk = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    pem = jwt.PyJWK(jwk).key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hs_head = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": header["kid"]}).encode())
    mac = hmac.new(pem, f"{hs_head}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(TokenInvalid) as confused:
        await verifier.verify(f"{hs_head}.{payload}.{_b64(mac)}")
    assert confused.value.reason == "alg_not_allowed"

    with pytest.raises(TokenInvalid) as garbage:
        await verifier.verify("not-a-jwt")
    assert garbage.value.reason == "malformed"
    for err in (bad_sig, bad_payload, alg_none, confused):
        assert real not in str(err.value) and signature not in str(err.value)


async def test_verifier_rejects_wrong_audience_and_issuer(provider: TokenProvider, verifier: JWTVerifier) -> None:
    token = (await provider.get_token()).access_token
    with pytest.raises(TokenInvalid) as aud:
        await verifier.verify(token, audience="billing-api")
    assert aud.value.reason == "wrong_audience"
    with pytest.raises(TokenInvalid) as iss:
        await verifier.verify(token, issuer="https://evil.example")
    assert iss.value.reason == "wrong_issuer"


async def test_verifier_rejects_an_expired_token(platform: RunningPlatform, verifier: JWTVerifier) -> None:
    settings = settings_for(
        platform.base_url, client_id="sloguard-short", client_secret="sloguard-short-secret", scope="read"
    )
    async with TokenProvider(settings) as short:
        token = await short.client_credentials(scope="read")
    await verifier.verify(token.access_token)
    await asyncio.sleep(3.0)
    with pytest.raises(TokenInvalid) as info:
        await verifier.verify(token.access_token)
    assert info.value.reason == "expired"


async def test_verifier_refetches_jwks_after_key_rotation(
    platform_factory: Callable[..., RunningPlatform],
) -> None:
    own = platform_factory()  # a private platform: rotating the session one would surprise other tests
    async with TokenProvider(settings_for(own.base_url)) as provider:
        disc = await provider.discovery()
        verifier = JWTVerifier(disc.endpoint("jwks_uri"), issuer=disc.issuer, audience="atom-api", min_refetch_s=0.2)
        old = await provider.client_credentials()
        await verifier.verify(old.access_token)
        assert verifier.jwks_fetches == 1

        forged_kid = _segments(old.access_token)[0] | {"kid": "no-such-key"}
        forged = ".".join([_b64(json.dumps(forged_kid).encode()), *old.access_token.split(".")[1:]])
        for _ in range(3):
            with pytest.raises(TokenInvalid) as unknown:
                await verifier.verify(forged)
            assert unknown.value.reason == "unknown_kid"
        assert verifier.jwks_fetches == 2  # one refetch for the unknown kid, not one per token

        admin = await provider.client_credentials(
            scope="admin", client=OAuthClient("sloguard-admin", "sloguard-admin-secret")
        )
        rotated = await provider.http.post(f"{own.base_url}/api/admin/keys/rotate", headers=admin.headers())
        assert rotated.is_success, rotated.text

        new = await provider.client_credentials()
        assert _segments(new.access_token)[0]["kid"] != _segments(old.access_token)[0]["kid"]
        claims = await verifier.verify(new.access_token)
        assert claims["client_id"] == "sloguard-ci"
        assert verifier.jwks_fetches == 3
        await verifier.verify(old.access_token)  # the retired key is still served until its tokens expire
        await verifier.aclose()


# ------------------------------------------------------------------- the login walker and the hook

HOOK = '''
from urllib.parse import parse_qsl, urlsplit

import httpx


async def authorize(request):
    """What a team writes for a provider the walker cannot walk: here, the reference platform's own
    non-interactive shortcut (POST the authorization parameters with the user's credentials)."""
    form = dict(parse_qsl(urlsplit(request.authorize_url).query))
    form.update(username=request.username, password=request.password, consent="approve")
    async with httpx.AsyncClient() as http:
        answer = await http.post(request.authorize_url.split("?")[0], data=form)
    return answer.headers["location"]


def nothing(request):
    return ""
'''


async def test_the_code_flow_walks_the_reference_platforms_own_page(platform: RunningPlatform) -> None:
    seen: list[tuple[str, str]] = []

    async def hook(request: httpx.Request) -> None:
        seen.append((request.method, request.url.path))

    async with httpx.AsyncClient(event_hooks={"request": [hook]}) as http:
        provider = TokenProvider(settings_for(platform.base_url), http)
        token = await provider.authorization_code_flow()
    assert token.client_id == "sloguard-spa" and token.refresh_token
    # The walker GETs the interactive page and submits its form, as a browser would.
    assert seen[-3:] == [("GET", "/api/auth/authorize"), ("POST", "/api/auth/authorize"), ("POST", "/api/auth/token")]
    with pytest.raises(TokenError) as denied:
        await TokenProvider(settings_for(platform.base_url, password="not-alices-password")).authorize_code()
    assert denied.value.error == "access_denied" and "not-alices-password" not in str(denied.value)


async def test_the_login_hook_for_providers_the_walker_cannot_walk(platform: RunningPlatform, tmp_path: Any) -> None:
    (tmp_path / "teamlogin.py").write_text(HOOK)
    settings = settings_for(platform.base_url, pkce_login="teamlogin:authorize", config_dir=tmp_path)
    async with TokenProvider(settings) as provider:
        token = await provider.authorization_code_flow()
    assert token.client_id == "sloguard-spa"
    broken = settings_for(platform.base_url, pkce_login="teamlogin:nothing", config_dir=tmp_path)
    with pytest.raises(AuthConfigError, match="must return the redirect URL"):
        await TokenProvider(broken).authorize_code()
    missing = settings_for(platform.base_url, pkce_login="nosuchmodule:authorize", config_dir=tmp_path)
    with pytest.raises(AuthConfigError, match="cannot import 'nosuchmodule'"):
        await TokenProvider(missing).authorize_code()


async def test_configured_scopes_and_audience_are_sent(platform: RunningPlatform) -> None:
    sent: list[httpx.Request] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request)

    settings = settings_for(platform.base_url, pkce_scope="read", scope="read write", audience="atom-api")
    async with httpx.AsyncClient(event_hooks={"request": [keep]}) as http:
        provider = TokenProvider(settings, http)
        await provider.client_credentials()
        code_token = await provider.authorization_code_flow()
    token_forms = [dict(parse_qsl(r.content.decode())) for r in sent if r.url.path == "/api/auth/token"]
    assert token_forms[0]["scope"] == "read write" and token_forms[0]["resource"] == "atom-api"
    authorize = next(r for r in sent if r.url.path == "/api/auth/authorize")
    assert authorize.url.params["scope"] == "read" and authorize.url.params["resource"] == "atom-api"
    assert code_token.scope == "read"  # auth.pkce.scope, not auth.scope


async def test_refresh_uses_the_client_that_owns_the_token(provider: TokenProvider) -> None:
    # A public client's token refreshed with the confidential client used to fail.
    code_token = await provider.authorization_code_flow()
    assert code_token.client_id == "sloguard-spa" and code_token.refresh_token
    fresh = await provider.refresh(code_token)
    assert fresh.client_id == "sloguard-spa" and fresh.refresh_token != code_token.refresh_token
    assert provider.owner(fresh).client_id == "sloguard-spa"
    with pytest.raises(TokenError) as wrong_client:  # the RFC 6749 rule the owner lookup follows
        await provider.refresh(fresh.refresh_token or "", client=provider.client("client_credentials"))
    assert wrong_client.value.status == 400
