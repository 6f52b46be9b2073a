"""Redaction: each kind of secret is masked, nothing secret survives, ordinary text is untouched."""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from sloguard.redact import (
    MASK,
    clear_secrets,
    is_sensitive_key,
    masked,
    redact,
    redact_curl,
    redact_headers,
    redact_secret_url,
    redact_secrets,
    redact_settings,
    redact_source_url,
    redact_text,
    redact_url,
    register_secret,
)

JWT = (
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0"
    ".eyJzdWIiOiJ1c2VyLTEiLCJhdWQiOiJhdG9tLWFwaSIsInNjb3BlIjoicmVhZCB3cml0ZSJ9"
    ".S2lnbmF0dXJlQnl0ZXNIZXJlX2FuZF9tb3JlLTEyMzQ1Njc4OTA"
)
ALG_NONE_JWT = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."


@pytest.fixture(autouse=True)
def _no_registered_secrets() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


def _token(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits + "-_", k=n))


# --- headers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"])
def test_credential_headers_are_masked_whole_in_every_form(name: str) -> None:
    value = "Bearer s3cretTok3n-value; session=abc123xyz"
    # the credential goes whole; an Authorization header keeps its scheme, so a reader sees how the
    # request authenticated, never with what
    schemed = name.lower() in ("authorization", "proxy-authorization")
    bearer, basic = (f"Bearer {MASK}", f"Basic {MASK}") if schemed else (MASK, MASK)
    assert redact_headers({name: value}) == {name: bearer}
    assert redact_headers({name.lower(): "Basic c2xvZ3VhcmQ6c2VjcmV0"}) == {name.lower(): basic}
    assert redact_headers({name: "s3cretTok3n-value"}) == {name: MASK}
    assert redact_headers([(name.upper(), value), ("Accept", "text/plain")]) == [
        (name.upper(), bearer),
        ("Accept", "text/plain"),
    ]
    assert redact({name: value}) == {name: bearer}
    # as a raw header line, a curl -H argument and a Python repr
    assert redact_text(f"{name}: {value}\r\nAccept: */*") == f"{name}: {MASK}\r\nAccept: */*"
    assert redact_text(f"curl -H '{name}: {value}' http://h/x") == f"curl -H '{name}: {MASK}' http://h/x"
    assert "s3cretTok3n" not in redact_text(repr({name: value}))
    assert "s3cretTok3n" not in redact_text(json.dumps({name: value}))


def test_other_headers_keep_their_value_but_lose_embedded_secrets() -> None:
    headers = {
        "Content-Type": "application/json",
        "Location": "https://app.example/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz",
        "WWW-Authenticate": 'Bearer realm="atom", error="invalid_token"',
    }
    out = redact_headers(headers)
    assert out["Content-Type"] == "application/json"
    assert out["Location"] == f"https://app.example/cb?code={MASK}&state=xyz"
    assert out["WWW-Authenticate"] == headers["WWW-Authenticate"]


# --- JWTs ------------------------------------------------------------------------------------------


def test_jwts_are_masked_anywhere_including_alg_none() -> None:
    text = f"token was {JWT}, then {ALG_NONE_JWT} was accepted"
    out = redact_text(text)
    assert JWT not in out and "eyJ" not in out
    assert out == f"token was {MASK}, then {MASK} was accepted"


def test_a_long_run_of_jwt_like_text_without_dots_is_left_alone_and_fast() -> None:
    text = "eyJ" * 300_000
    start = time.perf_counter()
    assert redact_text(text) == text
    assert time.perf_counter() - start < 1.0


# --- fields in JSON, form bodies and query strings ------------------------------------------------

SECRET_FIELDS = ["access_token", "refresh_token", "client_secret", "password", "code", "code_verifier"]


@pytest.mark.parametrize("field", SECRET_FIELDS)
def test_secret_fields_in_json_bodies(field: str) -> None:
    body = {field: "Sup3r-Secret_Value.123", "scope": "read write", "expires_in": 3600, "token_type": "Bearer"}
    for text in (json.dumps(body), json.dumps(body, indent=2), json.dumps(body, separators=(",", ":"))):
        out = redact_text(text)
        assert "Sup3r-Secret_Value.123" not in out
        assert json.loads(out) == {**body, field: MASK}


@pytest.mark.parametrize("field", SECRET_FIELDS)
def test_secret_fields_in_form_bodies_and_query_strings(field: str) -> None:
    form = f"grant_type=authorization_code&{field}=Abc123-_.~xyz&redirect_uri=http%3A%2F%2Flocalhost%2Fcb"
    assert redact_text(form) == f"grant_type=authorization_code&{field}={MASK}&redirect_uri=http%3A%2F%2Flocalhost%2Fcb"
    url = f"https://atom.example/api/auth/callback?state=s1&{field}=Abc123-_.~xyz#frag"
    assert redact_url(url) == f"https://atom.example/api/auth/callback?state=s1&{field}={MASK}#frag"
    assert redact_url(f"https://atom.example/cb?{field}=Abc123") == f"https://atom.example/cb?{field}={MASK}"


def test_escaped_json_inside_json_and_numbers_under_secret_keys() -> None:
    inner = json.dumps({"password": "hunter2hunter2", "user": "bob"})
    outer = json.dumps({"body": inner})
    out = redact_text(outer)
    assert "hunter2hunter2" not in out
    assert json.loads(json.loads(out)["body"]) == {"password": MASK, "user": "bob"}
    assert json.loads(redact_text('{"pin_password": 123456, "count": 7}')) == {"pin_password": MASK, "count": 7}


def test_http_status_codes_are_not_oauth_codes() -> None:
    assert redact_text("unexpected status code=500") == "unexpected status code=500"
    assert redact_text('{"code": 404, "error": "not_found"}') == '{"code": 404, "error": "not_found"}'
    assert redact({"code": 503}) == {"code": 503}


# --- URLs and curl lines ---------------------------------------------------------------------------


def test_basic_auth_in_urls_keeps_the_user_and_drops_the_password() -> None:
    assert redact_url("https://ci:p%40ss-w0rd@atom.example:8443/api") == f"https://ci:{MASK}@atom.example:8443/api"
    assert redact_url("postgres://atom:dbpass@db:5432/atom") == f"postgres://atom:{MASK}@db:5432/atom"
    assert redact_url("http://127.0.0.1:8400/api/v1/health") == "http://127.0.0.1:8400/api/v1/health"


def test_a_full_curl_reproduction_line_keeps_nothing_secret() -> None:
    secrets = ["Zm9vOmJhcg==", JWT, "AuthCode123", "verifier-abc-123", "cli3nt-s3cret", "sess1on-xyz"]
    line = (
        "curl -X POST 'https://ci:cli3nt-s3cret@atom.example/api/auth/token'"
        " -H 'Authorization: Basic Zm9vOmJhcg==' -H 'Content-Type: application/x-www-form-urlencoded'"
        f" -H 'X-Trace: {JWT}' -b 'sid=sess1on-xyz'"
        " --data 'grant_type=authorization_code&code=AuthCode123&code_verifier=verifier-abc-123'"
    )
    out = redact_curl(line)
    for secret in secrets:
        assert secret not in out, secret
    assert out.startswith("curl -X POST 'https://ci:")
    assert "grant_type=authorization_code" in out and "Content-Type: application/x-www-form-urlencoded" in out
    assert redact_curl("curl -u sloguard-ci:sloguard-ci-secret http://h") == f"curl -u sloguard-ci:{MASK} http://h"
    assert redact_curl("curl --user=a:b2c3d4 http://h") == f"curl --user=a:{MASK} http://h"
    assert redact_curl("curl --oauth2-bearer abc.def.ghi http://h") == f"curl --oauth2-bearer {MASK} http://h"


def test_bearer_and_basic_credentials_in_free_text() -> None:
    assert redact_text("sent Bearer 9f8e7d6c5b4a now") == f"sent Bearer {MASK} now"
    assert redact_text("sent Basic c2xvZ3VhcmQ6c2VjcmV0 now") == f"sent Basic {MASK} now"


# --- registered literals ---------------------------------------------------------------------------


def test_registered_secrets_are_masked_in_raw_url_and_json_escaped_forms() -> None:
    secret = 'my s3cret+/"value'
    register_secret(secret)
    from urllib.parse import quote, quote_plus

    for form in (secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
        out = redact_text(f"before {form} after")
        assert out == f"before {MASK} after", form
    assert secret not in json.dumps(redact({"note": f"the secret is {secret}"}))


def test_short_or_empty_registered_values_are_ignored_and_clear_forgets() -> None:
    register_secret("")
    register_secret(None)
    register_secret("abc")
    assert redact_text("abc abc") == "abc abc"
    register_secret("sloguard-ci-secret")
    assert redact_text("x sloguard-ci-secret y") == f"x {MASK} y"
    clear_secrets()
    assert redact_text("x sloguard-ci-secret y") == "x sloguard-ci-secret y"


def test_tokens_renewed_by_a_long_load_run_stay_bounded_and_configured_secrets_stay_masked() -> None:
    from sloguard import redact as module

    register_secret("configured-client-secret")
    tokens = [f"opaque-token-{i:06d}" for i in range(6000)]
    for token in tokens:  # a load run renewing every virtual user's token, over and over
        register_secret(token, token=True)
    assert len(module._tokens) <= module._MAX_TOKEN_FORMS
    assert redact_text(f"a {tokens[-1]} b {tokens[-2]}") == f"a {MASK} b {MASK}"
    assert redact_text("x configured-client-secret y") == f"x {MASK} y"
    register_secret(tokens[0], token=True)  # seen again: it becomes the newest, and is masked again
    assert redact_text(tokens[0]) == MASK
    clear_secrets()
    assert redact_text(tokens[-1]) == tokens[-1]


# --- structures --------------------------------------------------------------------------------------


def test_redact_walks_dicts_lists_tuples_and_bytes() -> None:
    data = {
        "request": {
            "headers": {"Authorization": f"Bearer {JWT}", "Accept": "application/json"},
            "body": b"grant_type=password&username=alice&password=hunter22hunter",
            "url": "https://u:pw1234@h/x?access_token=tok123",
        },
        "client_secret": "s3cr3t",
        "password": {"nested": "anything"},
        "items": [("Cookie", "sid=1"), {"refresh_token": "r-123"}],
        "retry": True,
        "latency_ms": 12.5,
        "token_type": "Bearer",
        "expires_in": 3600,
        "access_token": None,
    }
    out = redact(data)
    text = json.dumps(out, default=lambda b: b.decode())
    for secret in (JWT, "hunter22hunter", "pw1234", "tok123", "s3cr3t", "anything", "r-123"):
        assert secret not in text, secret
    assert out["request"]["headers"] == {"Authorization": f"Bearer {MASK}", "Accept": "application/json"}
    assert out["request"]["body"] == f"grant_type=password&username=alice&password={MASK}".encode()
    assert out["retry"] is True and out["latency_ms"] == 12.5 and out["expires_in"] == 3600
    assert out["token_type"] == "Bearer" and out["access_token"] is None
    assert data["client_secret"] == "s3cr3t"  # the input is not modified


def test_sensitive_key_names() -> None:
    for key in ("Authorization", "x-api-key", "client_secret", "csrf_token", "DB_PASSWORD", "stripe_api_key"):
        assert is_sensitive_key(key), key
    for key in ("token_type", "expires_in", "password_policy", "code_challenge_method", "author", "codes"):
        assert not is_sensitive_key(key), key


# --- nothing secret survives; ordinary text unchanged -----------------------------------------------


def test_fuzz_nothing_secret_survives_any_template() -> None:
    rng = random.Random(20241219)
    templates = [
        "Authorization: Bearer {s}",
        "authorization: Basic {s}",
        "Cookie: session={s}; theme=dark",
        "set-cookie: sid={s}; Path=/; HttpOnly",
        "X-Api-Key: {s}",
        '{{"access_token": "{s}", "token_type": "Bearer"}}',
        '{{"refresh_token":"{s}"}}',
        "{{'client_secret': '{s}'}}",
        "grant_type=password&username=u&password={s}",
        "?code={s}&state=abc",
        "code_verifier={s}",
        "https://user:{s}@host/path",
        "curl -u user:{s} https://host",
        "curl -H 'Proxy-Authorization: Basic {s}' https://host",
        "got Bearer {s} back",
    ]
    for _ in range(300):
        secret = _token(rng, rng.randint(8, 48))
        if not any(c.isdigit() for c in secret):
            secret += "7"
        for template in templates:
            text = "prefix " + template.format(s=secret) + " suffix"
            assert secret not in redact_text(text), (template, secret)
        jwt_like = "eyJ" + _token(rng, 20) + "." + _token(rng, 30) + "." + _token(rng, 20)
        assert jwt_like not in redact_text(f"x {jwt_like} y")


ORDINARY = [
    "GET /api/v1/tasks?page=2&per_page=20 returned 200 in 35 ms",
    '{"items": [{"id": 1, "title": "Plan", "status": "open"}], "page": 1, "total": 1, "next_page": null}',
    '{"token_type": "Bearer", "expires_in": 3600, "scope": "read write"}',
    "grant_type=authorization_code&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb&response_type=code",
    'WWW-Authenticate: Bearer realm="atom", error="invalid_token", error_description="expired"',
    "Basic checks passed. Bearer tokens are required for every operation.",
    "unexpected status code=503 from http://127.0.0.1:8400/api/stripe/charges",
    "password_policy=strong; codes=3; author: alice",
    "p95 latency 512.3 ms (objective < 500 ms); availability 99.95% (objective ≥ 99.9%)",
    "timeout after 10.0 s: connect http://[::1]:8443/health",
    "curl -X GET 'http://127.0.0.1:8400/api/v1/health' -H 'Accept: application/json'",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_redaction_is_idempotent() -> None:
    text = f"Authorization: Bearer {JWT}\npassword=abc123&code=xyz987 https://u:p4ss@h/"
    once = redact_text(text)
    assert redact_text(once) == once


# --- one-off secrets, secret URLs, sources and settings dumps ----------------------------------------


def test_a_repr_shows_a_set_secret_as_the_mask_and_an_unset_one_as_none() -> None:
    assert masked("s3cret-value") == MASK and masked("") == MASK and masked(None) is None


def test_redact_secrets_masks_only_the_given_values_and_registers_none() -> None:
    text = "token request to http://h/token failed: client sloguard-ci with s3cret-value refused (abc)"
    out = redact_secrets(text, ("s3cret-value", None, "abc", ""))
    assert out == "token request to http://h/token failed: client sloguard-ci with [REDACTED] refused (abc)"
    # short values would mangle ordinary text: kept, as register_secret does; nothing stays registered
    assert redact_text("s3cret-value") == "s3cret-value"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T1/B2/wh-FFFF", "https://hooks.slack.com/[REDACTED]"),
        ("https://hooks.example.com:8443/in?token=wt-GGGG", "https://hooks.example.com:8443/[REDACTED]"),
        ("not a url", "[REDACTED]"),
        ("https://hooks.example.com:99999/x", "[REDACTED]"),  # a port urllib refuses
    ],
)
def test_a_secret_url_keeps_only_scheme_and_host(url: str, shown: str) -> None:
    assert redact_secret_url(url) == shown


def test_a_source_url_loses_user_info_fragment_and_query_values() -> None:
    shown = redact_source_url("https://user:hunter2@example.com:8443/openapi.json?api_key=abc&v=1#frag")
    assert shown == "https://example.com:8443/openapi.json?api_key=[REDACTED]&v=[REDACTED]"
    assert redact_source_url("specs/openapi.yaml") == "specs/openapi.yaml"


def test_a_settings_dump_masks_secret_values_urls_headers_and_passwords() -> None:
    dump = {
        "client_id": "ci",
        "client_secret": SecretStr("cs-BBBB"),
        "webhook_url": SecretStr("https://hooks.slack.com/services/T1/B2/wh-FFFF"),
        "headers": {"Authorization": "Bearer tok-AAAA", "X-Hub-Signature": "sha256=sig-CCCC",
                    "X-Request-Source": "sloguard"},
        "clients": [{"client_secret": SecretStr("ro-DDDD")}, ("x", SecretStr("tu-EEEE"))],
        "url": "https://user:am-KKKK@alertmanager.example.com:9093/api",
        "mirror": "https://user@example.com/plain",
        "dir": Path("reports"),
        "timeout_s": 10.0,
        "enabled": True,
    }
    out = redact_settings(dump)
    assert out == {
        "client_id": "ci",
        "client_secret": MASK,
        "webhook_url": f"https://hooks.slack.com/{MASK}",
        "headers": {"Authorization": MASK, "X-Hub-Signature": MASK, "X-Request-Source": "sloguard"},
        "clients": [{"client_secret": MASK}, ["x", MASK]],
        "url": f"https://user:{MASK}@alertmanager.example.com:9093/api",
        "mirror": "https://user@example.com/plain",
        "dir": "reports",
        "timeout_s": 10.0,
        "enabled": True,
    }
    assert json.dumps(out)  # JSON-able
    assert isinstance(dump["client_secret"], SecretStr)  # a copy: the dump itself is untouched


# --- speed -------------------------------------------------------------------------------------------


def test_a_one_megabyte_json_body_is_redacted_quickly() -> None:
    rng = random.Random(7)
    items = [
        {
            "id": i,
            "name": "".join(rng.choices(string.ascii_letters + " ", k=40)),
            "email": f"user{i}@example.com",
            "status": "active",
            "url": f"https://atom.example/api/v1/users/{i}?expand=tasks&page=2",
            "api_token": f"tok-{i:08d}-secret",
        }
        for i in range(5200)
    ]
    body = json.dumps(items)
    assert len(body) > 1_000_000
    register_secret("registered-secret-value")
    start = time.perf_counter()
    out = redact_text(body)
    elapsed = time.perf_counter() - start
    assert "tok-00000001-secret" not in out
    assert json.loads(out)[1]["api_token"] == MASK and json.loads(out)[1]["email"] == "user1@example.com"
    assert elapsed < 0.5, f"1 MB body took {elapsed:.3f} s"


@pytest.mark.parametrize(
    "pathological",
    ["::::" * 250_000, "e:e:" * 250_000, "x=1&" * 250_000, '"' * 1_000_000, "Bearer " * 150_000, " -u " * 250_000],
)
def test_pathological_megabytes_stay_linear(pathological: str) -> None:
    start = time.perf_counter()
    redact_text(pathological)
    assert time.perf_counter() - start < 1.5
