"""Logins for every runner: which style a config and description resolve to (pure), the sans-I/O flows,
and the sessions over httpx (async, sync), requests and a real Locust FastHttpUser client, against the
real reference platform on loopback."""

from __future__ import annotations

import asyncio
import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from pydantic import ValidationError

from sloguard.auth import (
    APIKey,
    AuthConfigError,
    HttpAnswer,
    JSONLogin,
    LoginFailed,
    NoAuth,
    NoCredentials,
    OAuth2Login,
    OAuthClient,
    Session,
    StaticBearer,
    SyncSession,
    TokenError,
    resolve_login,
)
from sloguard.catalog import build_catalog
from sloguard.config.model import Config
from sloguard.errors import UsageError
from sloguard.spec import prepare_spec
from tests.conftest import RunningPlatform, free_port

ATOM = json.loads((Path(__file__).parent.parent / "synthetics" / "specs" / "atom-fastapi.json").read_text())
BASE = "https://atom.example.com"
USER = {"username": "alice@acme.test", "password": "alice-password"}


def catalog_of(spec: dict[str, Any]) -> Any:
    return build_catalog(prepare_spec(copy.deepcopy(spec)))


def config(auth: dict[str, Any] | str | None = None, base: str = BASE) -> Config:
    data: dict[str, Any] = {"target": {"base_url": base, "environment": "staging"}}
    if auth is not None:
        data["auth"] = auth
    return Config.model_validate(data)


# -------------------------------------------------------------------------------- resolution (pure)


def test_the_real_atom_resolves_to_its_json_login_from_the_description() -> None:
    login = resolve_login(config({"user": USER}), catalog_of(ATOM))
    assert isinstance(login, JSONLogin)
    assert login.url == f"{BASE}/api/auth/login"
    assert (login.username_field, login.password_field, login.token_pointer) == ("username", "password",
                                                                                 "/access_token")
    assert "OAuth2PasswordBearer" in login.source and "takes JSON" in login.source
    with_totp = resolve_login(config({"user": {**USER, "totp_code": "123456"}}), catalog_of(ATOM))
    assert isinstance(with_totp, JSONLogin) and with_totp.fields == {"totp_code": "123456"}


def test_a_form_encoded_login_operation_is_an_oauth2_password_grant() -> None:
    spec = copy.deepcopy(ATOM)
    body = spec["paths"]["/api/auth/login"]["post"]["requestBody"]
    body["content"] = {"application/x-www-form-urlencoded": body["content"]["application/json"]}
    login = resolve_login(config({"user": USER}), catalog_of(spec))
    assert isinstance(login, OAuth2Login) and login.grant == "password"
    assert login.token_url == f"{BASE}/api/auth/login"


def test_config_urls_win_over_the_description() -> None:
    login = resolve_login(config({"user": USER, "token_url": "/oauth/token"}), catalog_of(ATOM))
    assert isinstance(login, OAuth2Login) and login.token_url == f"{BASE}/oauth/token"
    assert login.source == "auth.token_url"
    disc = resolve_login(config({"client_id": "ci", "client_secret": "s3cret-value",
                                 "discovery_url": "https://login.example.com/.well-known/openid-configuration"}),
                         catalog_of(ATOM))
    assert isinstance(disc, OAuth2Login) and disc.token_url is None and disc.grant == "client_credentials"
    assert disc.discovery_url == "https://login.example.com/.well-known/openid-configuration"
    assert disc.issuer is None  # no auth.issuer: the document's own issuer is accepted
    json_conf = resolve_login(config({"user": USER, "style": "json",
                                      "json": {"url": "/login", "username_field": "email",
                                               "token_pointer": "/data/token"}}), None)
    assert isinstance(json_conf, JSONLogin) and json_conf.url == f"{BASE}/login"
    assert (json_conf.username_field, json_conf.token_pointer) == ("email", "/data/token")


def test_schemes_relative_urls_and_openid_connect() -> None:
    spec = copy.deepcopy(ATOM)
    spec["servers"] = [{"url": "/v2"}]
    spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"] = {
        "clientCredentials": {"tokenUrl": "token", "scopes": {}}}
    login = resolve_login(config({"client_id": "ci", "client_secret": "s3cret-value"}), catalog_of(spec))
    assert isinstance(login, OAuth2Login) and login.token_url == f"{BASE}/v2/token"
    spec["components"]["securitySchemes"]["OAuth2PasswordBearer"] = {
        "type": "openIdConnect", "openIdConnectUrl": "https://atom.example.com/.well-known/openid-configuration"}
    oidc = resolve_login(config({"client_id": "ci", "client_secret": "s3cret-value"}), catalog_of(spec))
    assert isinstance(oidc, OAuth2Login) and oidc.discovery_url.endswith("/.well-known/openid-configuration")


def test_no_auth_no_credentials_static_token_and_api_keys() -> None:
    public = copy.deepcopy(ATOM)
    for item in public["paths"].values():
        item["get" if "get" in item else "post"].pop("security", None)
    assert isinstance(resolve_login(config(), catalog_of(public)), NoAuth)
    assert isinstance(resolve_login(config("none"), catalog_of(ATOM)), NoAuth)
    missing = resolve_login(config(), catalog_of(ATOM))
    assert isinstance(missing, NoCredentials) and not missing.fatal and "auth.user" in missing.reason
    bearer = resolve_login(config({"token": "a-static-token-123"}), catalog_of(ATOM))
    assert isinstance(bearer, StaticBearer)
    assert bearer.credentials(None).headers == {"Authorization": "Bearer a-static-token-123"}
    keyed = copy.deepcopy(ATOM)
    keyed["components"]["securitySchemes"] = {"key": {"type": "apiKey", "in": "query", "name": "api_key"}}
    for item in keyed["paths"].values():
        for op in item.values():
            if "security" in op:
                op["security"] = [{"key": []}]
    key = resolve_login(config({"api_key": {"value": "k-123456"}}), catalog_of(keyed))
    assert isinstance(key, APIKey) and key.credentials(None).params == {"api_key": "k-123456"}
    assert "k-123456" not in repr(key)
    header = resolve_login(config({"api_key": {"header": "X-API-Key", "value": "k-123456"}}), None)
    assert isinstance(header, APIKey) and header.credentials(None).headers == {"X-API-Key": "k-123456"}


def test_a_token_url_on_another_host_is_not_trusted_with_credentials() -> None:
    spec = copy.deepcopy(ATOM)
    spec["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"] = (
        "https://elsewhere.example/api/auth/login")
    login = resolve_login(config({"user": USER}), catalog_of(spec))
    assert isinstance(login, NoCredentials) and login.fatal and "elsewhere.example" in login.reason


def test_impossible_logins_are_usage_errors() -> None:
    with pytest.raises(AuthConfigError) as info:
        resolve_login(config({"user": USER, "style": "json"}), None)
    assert isinstance(info.value, UsageError) and "auth.json.url" in str(info.value)
    with pytest.raises(ValidationError, match=r"auth\.style bearer needs auth\.token"):
        config({"style": "bearer"})


# -------------------------------------------------------------------------------- flows (sans I/O)


def answer(status: int, body: Any, url: str = f"{BASE}/api/auth/login") -> HttpAnswer:
    return HttpAnswer(status, {"content-type": "application/json"}, json.dumps(body).encode(), url)


def test_json_login_flow_builds_the_request_and_reads_the_token() -> None:
    login = resolve_login(config({"user": USER}), catalog_of(ATOM))
    flow = login.login_flow()
    call = next(flow)
    assert (call.method, call.url) == ("POST", f"{BASE}/api/auth/login")
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body or b"") == USER
    with pytest.raises(StopIteration) as done:
        flow.send(answer(200, {"access_token": "opaque-token-abc", "token_type": "bearer"}))
    token = done.value.value
    assert token.access_token == "opaque-token-abc" and token.authorization == "Bearer opaque-token-abc"

    for status, body, expected in (
        (401, {"detail": "Incorrect username or password"}, "HTTP 401 (Incorrect username or password)"),
        (422, {"detail": [{"loc": ["body", "password"], "msg": "Field required", "type": "missing"}]},
         "Field required (body.password)"),
    ):
        flow = login.login_flow()
        next(flow)
        with pytest.raises(TokenError) as info:
            flow.send(answer(status, body))
        assert expected in str(info.value) and f"{BASE}/api/auth/login" in str(info.value)
        assert info.value.status == status and "alice-password" not in str(info.value)


def test_oauth2_flows_send_the_client_authentication_scope_and_audience() -> None:
    basic = OAuth2Login(grant="client_credentials", source="test", token_url=f"{BASE}/token",
                        client=OAuthClient("ci", "s3cret-value"), scope="read", audience="atom-api",
                        audience_param="both", extra_params={"tenant": "acme"})
    call = next(basic.login_flow())
    assert call.headers["Authorization"].startswith("Basic ")
    assert (call.body or b"").decode() == ("grant_type=client_credentials&resource=atom-api&audience=atom-api&"
                                           "scope=read&tenant=acme")
    post = OAuth2Login(grant="password", source="test", token_url=f"{BASE}/token", username="alice",
                       password="pw-123456", client=OAuthClient("ci", "s3cret-value", "client_secret_post"))
    body = (next(post.login_flow()).body or b"").decode()
    assert "client_id=ci" in body and "client_secret=s3cret-value" in body and "Authorization" not in str(body)
    public = OAuth2Login(grant="password", source="test", token_url=f"{BASE}/token", username="alice",
                         password="pw-123456", client=OAuthClient("spa"))
    assert "client_id=spa" in (next(public.login_flow()).body or b"").decode()


# -------------------------------------------------------------------------------- sessions, for real


def reference_login(platform: RunningPlatform) -> JSONLogin:
    login = resolve_login(config({"user": USER}, platform.base_url), catalog_of(ATOM))
    assert isinstance(login, JSONLogin)
    return login


async def test_async_session_logs_in_once_for_many_callers_and_renews_before_expiry(
    platform: RunningPlatform,
) -> None:
    sent: list[str] = []

    async def count(request: httpx.Request) -> None:
        sent.append(request.url.path)

    now = [0.0]
    async with httpx.AsyncClient(event_hooks={"request": [count]}) as http:
        session = Session(reference_login(platform), http)
        values = await asyncio.gather(*(session.authorization() for _ in range(20)))
        assert len(set(values)) == 1 and values[0] and values[0].startswith("Bearer ey")
        assert sent == ["/api/auth/login"] and session.logins == 1
        token = await session.token()
        assert token is not None and token.expires_at is not None  # read from the JWT's exp
        async with httpx.AsyncClient() as api:
            me = await api.get(f"{platform.base_url}/api/v1/users/me", headers=await session.headers())
        assert me.status_code == 200, me.text
        # Shortly before it expires the session logs in again (no refresh call for this login).
        clocked = Session(reference_login(platform), http, clock=lambda: now[0])
        now[0] = 0.0
        await clocked.token()
        first = await clocked.token()
        assert first is not None and first.expires_at is not None
        now[0] = first.expires_at - 1
        second = await clocked.token()
        assert clocked.logins == 2 and second is not first


async def test_a_failed_login_is_remembered_not_retried_per_check() -> None:
    attempts: list[str] = []

    async def count(request: httpx.Request) -> None:
        attempts.append(str(request.url))

    dead = f"http://127.0.0.1:{free_port()}"
    login = OAuth2Login(grant="client_credentials", source="test", issuer=dead, client=OAuthClient("ci", "s3cret-x"))
    async with httpx.AsyncClient(event_hooks={"request": [count]}, timeout=2) as http:
        session = Session(login, http)
        for _ in range(5):
            with pytest.raises(LoginFailed) as info:
                await session.authorization()
        assert "cannot reach the OAuth issuer" in info.value.reason
        assert len(attempts) == 1  # the RFC 8414 URL failed to connect: nothing retried, five callers told why
        assert session.failure is info.value


# Locust monkey-patches the standard library with gevent when imported: it runs in its own process.
LOCUST_USER = """
import json, sys
from locust.contrib.fasthttp import FastHttpSession
from locust.env import Environment
from sloguard.auth import JSONLogin, LoginFailed, SyncSession

base = sys.argv[1]
env = Environment()
env.create_local_runner()  # connects request events to the statistics
client = FastHttpSession(base_url=base, request_event=env.events.request, user=None)  # a FastHttpUser's client
login = JSONLogin(url=base + "/api/auth/login", username="alice@acme.test", password="alice-password",
                  source="test")
session = SyncSession(login, client)                      # one session per virtual user
auth = session.authorization()
me = client.get("/api/v1/users/me", headers=session.headers(), name="me")
wrong = SyncSession(JSONLogin(url=login.url, username="alice@acme.test", password="wrong-pass-123",
                              source="test"), client)
try:
    wrong.token()
    failed = None
except LoginFailed as exc:
    failed = exc.reason
entry = env.stats.get("auth · login", "POST")
print(json.dumps({"auth": auth[:10], "me": me.status_code, "logins": entry.num_requests,
                  "login_failures": entry.num_failures, "failed": failed}))
"""


def test_sync_sessions_over_httpx_requests_and_a_locust_user(platform: RunningPlatform) -> None:
    login = reference_login(platform)
    with httpx.Client() as http:
        assert (SyncSession(login, http).authorization() or "").startswith("Bearer ")
    with requests.Session() as http:
        session = SyncSession(login, http)
        assert session.authorization() == session.authorization() and session.logins == 1
        assert http.get(f"{platform.base_url}/api/v1/users/me", headers=session.headers()).status_code == 200

    proc = subprocess.run([sys.executable, "-c", LOCUST_USER, platform.base_url], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["auth"] == "Bearer eyJ" and seen["me"] == 200
    # Both logins went through the user's own client, so Locust's statistics show them (one refused).
    assert seen["logins"] == 2 and seen["login_failures"] == 1
    assert "HTTP 401" in seen["failed"] and "wrong-pass-123" not in seen["failed"]


async def test_oauth2_login_found_by_discovery(platform: RunningPlatform) -> None:
    login = OAuth2Login(grant="client_credentials", source="discovery", issuer=platform.base_url,
                        client=OAuthClient("sloguard-ci", "sloguard-ci-secret"), scope="read")
    async with Session(login) as session:
        token = await session.token()
        assert token is not None and token.scope == "read"
        assert isinstance(session.style, OAuth2Login) and session.style.token_url == (
            f"{platform.base_url}/api/auth/token")
        assert (await session.discovery()).issuer == platform.base_url
