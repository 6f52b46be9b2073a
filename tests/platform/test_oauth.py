"""The reference platform's OAuth2 authorization server, over real HTTP against a running server.

Every security property is shown both ways: the attack is refused normally, and (for the
deliberate holes) accepted while its fault is on and refused again once the fault is cleared.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import (
    REDIRECT_URI,
    Platform,
    authorize,
    bearer,
    client_token,
    code_flow_tokens,
    http,
    password_tokens,
    pkce_pair,
    redirect_params,
    token_response,
)

READ_PATH = "/api/v1/users"  # any GET of the API: needs the read scope
WRITE_PATH = "/api/v1/tasks"  # any POST of the API: needs the write scope
WRITE_BODY = {"title": "oauth scope check"}

CI = ("sloguard-ci", "sloguard-ci-secret")
ADMIN = ("sloguard-admin", "sloguard-admin-secret")


def api_get(platform: Platform, token: str | None, path: str = READ_PATH) -> httpx.Response:
    with http(platform) as c:
        return c.get(path, headers=bearer(token) if token is not None else {})


def introspect(platform: Platform, token: str) -> dict[str, Any]:
    with http(platform) as c:
        r = c.post("/api/auth/introspect", data={"token": token}, auth=CI)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def revoke(platform: Platform, token: str, client: tuple[str, str] = CI, hint: str | None = None) -> httpx.Response:
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    with http(platform) as c:
        return c.post("/api/auth/revoke", data=data, auth=client)


def _b64json(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def unsigned_token(platform: Platform, scope: str = "read write") -> str:
    """A forged JWT with alg none and otherwise plausible claims."""
    part = _b64json
    now = int(time.time())
    claims = {
        "iss": platform.base_url,
        "aud": "atom-api",
        "sub": "mallory",
        "client_id": "sloguard-ci",
        "scope": scope,
        "tenant": "acme",
        "iat": now,
        "exp": now + 600,
        "jti": "forged",
    }
    return f"{part({'alg': 'none', 'typ': 'at+jwt'})}.{part(claims)}."


def server_signing_key(platform: Any) -> tuple[str, str]:
    """TEST-ONLY KEY ACCESS: read the server's current private signing key (kid, PEM) straight from
    its SQLite file, to forge tokens that are correctly signed but wrong in another way."""
    with sqlite3.connect(platform.db_path) as db:
        row = db.execute(
            "SELECT kid, private_pem FROM oauth_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
    return row[0], row[1]


def sign(platform: Platform, key: Any, kid: str, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": platform.base_url,
        "aud": "atom-api",
        "sub": "sloguard-ci",
        "client_id": "sloguard-ci",
        "scope": "read write",
        "tenant": "acme",
        "iat": now,
        "exp": now + 600,
        "jti": f"test-{now}",
        **overrides,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})


@contextmanager
def fault(platform: Platform, name: str, value: str = "true") -> Iterator[None]:
    """Set a run-time fault through the admin API and always clear it again."""
    admin = bearer(client_token(platform, *ADMIN))
    with http(platform) as c:
        r = c.put("/api/admin/faults", json={"name": name, "value": value}, headers=admin)
        assert r.status_code == 200, f"setting fault {name}: HTTP {r.status_code} {r.text[:200]}"
        try:
            yield
        finally:
            r = c.delete(f"/api/admin/faults/{name}", headers=admin)
            assert r.status_code in (200, 204), f"clearing fault {name}: HTTP {r.status_code} {r.text[:200]}"


# -- discovery and keys -----------------------------------------------------------------------------


def test_discovery_documents_are_consistent(platform: Platform) -> None:
    with http(platform) as c:
        oauth = c.get("/.well-known/oauth-authorization-server").json()
        oidc = c.get("/.well-known/openid-configuration").json()
        for doc in (oauth, oidc):
            assert doc["issuer"] == platform.base_url
            assert doc["token_endpoint"] == f"{platform.base_url}/api/auth/token"
            assert doc["authorization_endpoint"] == f"{platform.base_url}/api/auth/authorize"
            assert doc["code_challenge_methods_supported"] == ["S256"]
            assert {"authorization_code", "client_credentials", "password", "refresh_token"} <= set(
                doc["grant_types_supported"]
            )
            assert {"client_secret_basic", "client_secret_post"} <= set(doc["token_endpoint_auth_methods_supported"])
            for name in ("jwks_uri", "revocation_endpoint", "introspection_endpoint", "userinfo_endpoint"):
                assert doc[name].startswith(platform.base_url + "/"), name
        for name in ("issuer", "token_endpoint", "jwks_uri", "revocation_endpoint", "introspection_endpoint"):
            assert oauth[name] == oidc[name]
        assert {"subject_types_supported", "id_token_signing_alg_values_supported"} <= oidc.keys()
        jwks = c.get(urlsplit(oauth["jwks_uri"]).path)
        assert jwks.status_code == 200 and jwks.json()["keys"]


def test_jwks_verifies_an_issued_token(platform: Platform) -> None:
    token = client_token(platform, *CI)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt" and header["kid"]
    with http(platform) as c:
        jwks = jwt.PyJWKSet.from_dict(c.get("/.well-known/jwks.json").json())
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="atom-api", issuer=platform.base_url)
    assert claims["sub"] == "sloguard-ci" and claims["client_id"] == "sloguard-ci"
    assert claims["scope"] == "read write" and claims["tenant"] == "acme"
    assert claims["exp"] - claims["iat"] > 60 and claims["jti"]


# -- the grants end to end ---------------------------------------------------------------------------


def test_client_credentials_grant(platform: Platform) -> None:
    r = token_response(platform, {"grant_type": "client_credentials", "scope": "read"}, *CI)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read" and body["expires_in"] > 0
    assert "refresh_token" not in body
    assert api_get(platform, body["access_token"]).status_code == 200
    info = introspect(platform, body["access_token"])
    assert info["active"] is True and info["client_id"] == "sloguard-ci" and info["scope"] == "read"
    # client_secret_post works too.
    with http(platform) as c:
        r = c.post(
            "/api/auth/token", data={"grant_type": "client_credentials", "client_id": CI[0], "client_secret": CI[1]}
        )
    assert r.status_code == 200, r.text


def test_json_login_mirrors_the_real_atom(platform: Platform) -> None:
    """POST /api/auth/login takes the real ATOM's JSON LoginRequest and answers Token {access_token,
    token_type}; a form-encoded OAuth grant there gets FastAPI's 422, as on the real backend."""
    with http(platform) as c:
        r = c.post("/api/auth/login", json={"username": "bob@globex.test", "password": "bob-password"})
        assert r.status_code == 200, r.text
        assert set(r.json()) == {"access_token", "token_type"} and r.json()["token_type"].lower() == "bearer"
        claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
        assert claims["tenant"] == "globex" and claims["client_id"] == "atom-web"
        assert api_get(platform, r.json()["access_token"]).status_code == 200
        with_totp = c.post("/api/auth/login", json={"username": "bob@globex.test", "password": "bob-password",
                                                    "totp_code": "123456"})
        assert with_totp.status_code == 200, with_totp.text
        form = c.post("/api/auth/login", data={"grant_type": "password", "username": "bob@globex.test",
                                               "password": "bob-password"}, auth=CI)
        assert form.status_code == 422 and form.json()["detail"][0]["loc"] == ["body"]
        missing = c.post("/api/auth/login", json={"username": "bob@globex.test"})
        assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "password"]
        wrong = c.post("/api/auth/login", json={"username": "bob@globex.test", "password": "nope-nope"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": "Incorrect username or password"}


def test_password_grant_at_the_token_endpoint_and_userinfo(platform: Platform) -> None:
    with http(platform) as c:
        r = c.post(
            "/api/auth/token",
            data={"grant_type": "password", "username": "bob@globex.test", "password": "bob-password"},
            auth=CI,
        )
        assert r.status_code == 200, r.text
        tokens = r.json()
        assert tokens["refresh_token"] and tokens["scope"] == "read write"
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["tenant"] == "globex" and claims["sub"] != "sloguard-ci"
        info = c.get("/api/auth/userinfo", headers=bearer(tokens["access_token"]))
        assert info.status_code == 200
        assert info.json()["email"] == "bob@globex.test" and info.json()["sub"] == claims["sub"]
        # A client's own token has no end user.
        assert c.get("/api/auth/userinfo", headers=bearer(client_token(platform, *CI))).status_code == 403
    assert api_get(platform, tokens["access_token"]).status_code == 200


def test_authorization_code_with_pkce_for_the_public_client(platform: Platform) -> None:
    verifier, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "sloguard-spa",
        "redirect_uri": REDIRECT_URI,
        "scope": "read",
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with http(platform) as c:
        page = c.get("/api/auth/authorize", params=params)
    assert page.status_code == 200 and "<form" in page.text and 'name="code_challenge"' in page.text
    r = authorize(platform, "sloguard-spa", **{k: v for k, v in params.items() if k != "client_id"})
    assert r.headers["location"].startswith(REDIRECT_URI + "?")
    got = redirect_params(r)
    assert got["state"] == "xyz" and got["code"]
    r = token_response(
        platform,
        {
            "grant_type": "authorization_code",
            "code": got["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        "sloguard-spa",
    )
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["scope"] == "read" and tokens["refresh_token"]
    assert api_get(platform, tokens["access_token"]).status_code == 200
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["client_id"] == "sloguard-spa" and claims["tenant"] == "acme"


def test_authorization_code_for_the_confidential_client_with_openid(platform: Platform) -> None:
    # PKCE is optional for a confidential client; with scope openid an ID token comes back.
    r = authorize(platform, "sloguard-ci", scope="openid read", nonce="n-123")
    code = redirect_params(r)["code"]
    r = token_response(platform, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, *CI)
    assert r.status_code == 200, r.text
    with http(platform) as c:
        jwks = jwt.PyJWKSet.from_dict(c.get("/.well-known/jwks.json").json())
    id_token = r.json()["id_token"]
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(id_token)["kid"])
    claims = jwt.decode(id_token, key.key, algorithms=["RS256"], audience="sloguard-ci", issuer=platform.base_url)
    assert claims["nonce"] == "n-123" and claims["email"] == "alice@acme.test"
    # The ID token is not an access token for the API.
    assert api_get(platform, id_token).status_code == 401
    assert code_flow_tokens(platform, *CI)["access_token"]


def test_refresh_rotates_and_reuse_revokes_the_family(platform: Platform) -> None:
    first = password_tokens(platform)
    r = token_response(platform, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, *CI)
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert api_get(platform, second["access_token"]).status_code == 200
    # The first refresh token is replayed: refused, and every token of the grant dies with it.
    r = token_response(platform, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}, *CI)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = token_response(platform, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}, *CI)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    for token in (first["access_token"], second["access_token"]):
        assert api_get(platform, token).status_code == 401
        assert introspect(platform, token) == {"active": False}
    assert introspect(platform, second["refresh_token"]) == {"active": False}


def test_refresh_token_of_another_client_and_wider_scope_are_refused(platform: Platform) -> None:
    tokens = code_flow_tokens(platform, scope="read")
    r = token_response(platform, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, *CI)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = token_response(
        platform,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "scope": "read write"},
        "sloguard-spa",
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


# -- authorization code and PKCE attacks ---------------------------------------------------------------


def test_wrong_pkce_verifier_is_refused(platform: Platform) -> None:
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = redirect_params(authorize(platform, code_challenge=challenge, code_challenge_method="S256"))["code"]
    r = token_response(
        platform,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": other_verifier,
        },
        "sloguard-spa",
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    r = token_response(
        platform, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}, "sloguard-spa"
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_public_client_must_use_pkce_s256(platform: Platform) -> None:
    missing = redirect_params(authorize(platform))
    assert missing["error"] == "invalid_request" and "code" not in missing and missing["state"]
    verifier = secrets.token_urlsafe(32)  # 43 characters: well-formed, only the method is wrong
    plain = redirect_params(authorize(platform, code_challenge=verifier, code_challenge_method="plain"))
    assert plain["error"] == "invalid_request" and "code" not in plain
    # Without a method, RFC 7636 means plain: refused as well.
    _, challenge = pkce_pair()
    assert redirect_params(authorize(platform, code_challenge=challenge))["error"] == "invalid_request"
    with http(platform) as c:
        r = c.get(
            "/api/auth/authorize",
            params={
                "response_type": "code",
                "client_id": "sloguard-spa",
                "redirect_uri": REDIRECT_URI,
                "code_challenge": verifier,
                "code_challenge_method": "plain",
            },
        )
    assert r.status_code == 302 and parse_qs(urlsplit(r.headers["location"]).query)["error"] == ["invalid_request"]


def test_reused_code_is_refused_and_revokes_its_tokens(platform: Platform) -> None:
    verifier, challenge = pkce_pair()
    code = redirect_params(authorize(platform, code_challenge=challenge, code_challenge_method="S256"))["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    r = token_response(platform, exchange, "sloguard-spa")
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert api_get(platform, tokens["access_token"]).status_code == 200
    again = token_response(platform, exchange, "sloguard-spa")
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert api_get(platform, tokens["access_token"]).status_code == 401
    r = token_response(
        platform, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, "sloguard-spa"
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_exactly(platform: Platform) -> None:
    _, challenge = pkce_pair()
    for uri in ("http://127.0.0.1:8765/callback/evil", "http://evil.test/callback", "http://127.0.0.1:8765/callbac"):
        r = authorize(platform, redirect_uri=uri, code_challenge=challenge, code_challenge_method="S256")
        assert r.status_code == 400 and "location" not in r.headers, uri  # shown, never redirected
    r = authorize(platform, client_id="no-such-client")
    assert r.status_code == 400 and "location" not in r.headers
    # The code exchange must repeat the same redirect_uri.
    code = redirect_params(authorize(platform, "sloguard-ci"))["code"]
    r = token_response(
        platform, {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1:8765/other"}, *CI
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_consent_must_be_approved_with_the_right_password(platform: Platform) -> None:
    _, challenge = pkce_pair()
    denied = redirect_params(authorize(platform, "sloguard-ci", consent="deny"))
    assert denied["error"] == "access_denied"
    wrong = redirect_params(
        authorize(
            platform,
            "sloguard-ci",
            username="bob@globex.test",
            password="nope",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    assert wrong["error"] == "access_denied" and "code" not in wrong


# -- client authentication and protocol errors ---------------------------------------------------------


def test_client_authentication_errors(platform: Platform) -> None:
    r = token_response(platform, {"grant_type": "client_credentials"}, "sloguard-ci", "wrong-secret")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "www-authenticate" in r.headers and "wrong-secret" not in r.text
    r = token_response(platform, {"grant_type": "client_credentials"}, "no-such-client", "x")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    with http(platform) as c:
        assert c.post("/api/auth/token", data={"grant_type": "client_credentials"}).status_code == 401
        both = c.post("/api/auth/token", data={"grant_type": "client_credentials", "client_secret": CI[1]}, auth=CI)
        assert both.status_code == 400 and both.json()["error"] == "invalid_request"
        as_json = c.post("/api/auth/token", json={"grant_type": "client_credentials"}, auth=CI)
        assert as_json.status_code == 400 and "x-www-form-urlencoded" in as_json.json()["error_description"]
        # Introspection needs a confidential client.
        assert c.post("/api/auth/introspect", data={"token": "x"}).status_code == 401
        assert c.post("/api/auth/introspect", data={"token": "x", "client_id": "sloguard-spa"}).status_code == 401
    r = token_response(platform, {"grant_type": "urn:nope"}, *CI)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = token_response(
        platform,
        {"grant_type": "password", "username": "alice@acme.test", "password": "alice-password"},
        "sloguard-readonly",
        "sloguard-readonly-secret",
    )
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"
    r = token_response(platform, {"grant_type": "client_credentials", "scope": "admin"}, *CI)
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


# -- bearer tokens at the API ---------------------------------------------------------------------------


def test_revoked_tokens_are_refused(platform: Platform) -> None:
    token = client_token(platform, *CI)
    assert api_get(platform, token).status_code == 200  # now cached by the API
    assert revoke(platform, "not-a-token-we-issued").status_code == 200  # RFC 7009 §2.2
    assert revoke(platform, token, ADMIN).status_code == 400  # not that client's token
    assert revoke(platform, token).status_code == 200
    r = api_get(platform, token)
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    assert introspect(platform, token) == {"active": False}
    # Revoking a refresh token ends its grant, access tokens included.
    tokens = password_tokens(platform)
    assert revoke(platform, tokens["refresh_token"], hint="refresh_token").status_code == 200
    assert api_get(platform, tokens["access_token"]).status_code == 401
    r = token_response(platform, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}, *CI)
    assert r.status_code == 400


def test_missing_garbled_or_forged_tokens_get_401(platform: Platform) -> None:
    assert api_get(platform, None).status_code == 401
    assert api_get(platform, "garbage").status_code == 401
    with http(platform) as c:
        assert c.get(READ_PATH, headers={"Authorization": "Basic c2xvZ3VhcmQtY2k6eA=="}).status_code == 401
    assert api_get(platform, unsigned_token(platform)).status_code == 401
    # Signed with a key the server never had, under the server's own kid.
    kid, _ = server_signing_key(platform)
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert api_get(platform, sign(platform, foreign, kid)).status_code == 401
    # Key confusion: HS256 "signed" with the server's public key (from the JWKS) as the HMAC secret.
    with http(platform) as c:
        jwk = next(k for k in c.get("/.well-known/jwks.json").json()["keys"] if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _, claims, _ = sign(platform, foreign, kid).split(".")
    confused_head = _b64json({"alg": "HS256", "kid": kid, "typ": "at+jwt"})
    mac = hmac.new(public_pem, f"{confused_head}.{claims}".encode(), hashlib.sha256).digest()
    confused = f"{confused_head}.{claims}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert api_get(platform, confused).status_code == 401


def test_wrong_audience_or_issuer_is_refused_even_with_the_servers_key(platform: Platform) -> None:
    kid, pem = server_signing_key(platform)  # test-only key access, see server_signing_key
    assert api_get(platform, sign(platform, pem, kid)).status_code == 200  # control: the forgery is otherwise fine
    assert api_get(platform, sign(platform, pem, kid, aud="other")).status_code == 401
    assert api_get(platform, sign(platform, pem, kid, iss="http://evil.test")).status_code == 401
    assert api_get(platform, sign(platform, pem, kid, exp=int(time.time()) - 5)).status_code == 401


def test_missing_scope_gets_403(platform: Platform) -> None:
    readonly = client_token(platform, "sloguard-readonly", "sloguard-readonly-secret")
    assert api_get(platform, readonly).status_code == 200
    with http(platform) as c:
        r = c.post(WRITE_PATH, json=WRITE_BODY, headers=bearer(readonly))
        assert r.status_code == 403 and "insufficient_scope" in r.headers["www-authenticate"]
        assert c.post("/api/admin/keys/rotate", headers=bearer(readonly)).status_code == 403
        r = c.post(WRITE_PATH, json=WRITE_BODY, headers=bearer(client_token(platform, *CI)))
        assert r.status_code not in (401, 403), r.text


def test_expired_tokens_are_refused_unless_the_fault_is_on(platform: Platform) -> None:
    token = client_token(platform, "sloguard-short", "sloguard-short-secret")
    assert api_get(platform, token).status_code == 200
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    time.sleep(max(0.0, exp - time.time()) + 0.3)
    r = api_get(platform, token)
    assert r.status_code == 401 and "expired" in r.headers["www-authenticate"]
    assert introspect(platform, token) == {"active": False}
    with fault(platform, "accept_expired_tokens"):
        assert api_get(platform, token).status_code == 200  # the hole the suite must catch
    assert api_get(platform, token).status_code == 401


def test_alg_none_is_accepted_only_under_its_fault(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory("accept_alg_none=true")
    forged = unsigned_token(server)
    assert api_get(server, forged).status_code == 200  # the hole the suite must catch
    admin = bearer(client_token(server, *ADMIN))
    with http(server) as c:
        assert c.delete("/api/admin/faults/accept_alg_none", headers=admin).status_code in (200, 204)
    assert api_get(server, forged).status_code == 401


def test_auth_down_fault_stops_the_token_endpoints(platform: Platform) -> None:
    token = client_token(platform, *CI)
    with fault(platform, "auth_down"), http(platform) as c:
        r = c.post("/api/auth/token", data={"grant_type": "client_credentials"}, auth=CI)
        assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
        r = c.post("/api/auth/login", json={"username": "bob@globex.test", "password": "bob-password"})
        assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
        assert authorize(platform).status_code == 503
        assert c.get("/api/auth/authorize", params={"client_id": "sloguard-ci"}).status_code == 503
        assert api_get(platform, token).status_code == 200  # issued tokens still verify locally
    assert token_response(platform, {"grant_type": "client_credentials"}, *CI).status_code == 200


# -- key rotation ---------------------------------------------------------------------------------------


def test_key_rotation_keeps_old_tokens_valid(platform: Platform) -> None:
    old = client_token(platform, *CI)
    old_kid = jwt.get_unverified_header(old)["kid"]
    with http(platform) as c:
        r = c.post("/api/admin/keys/rotate", headers=bearer(client_token(platform, *ADMIN)))
        assert r.status_code == 200, r.text
        new_kid = r.json()["kid"]
        assert new_kid != old_kid and {old_kid, new_kid} <= set(r.json()["keys"])
        served = {k["kid"] for k in c.get("/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_kid} <= served
    new = client_token(platform, *CI)
    assert jwt.get_unverified_header(new)["kid"] == new_kid
    assert api_get(platform, old).status_code == 200
    assert api_get(platform, new).status_code == 200
    assert introspect(platform, old)["active"] is True


# -- throttling, persistence and several workers (private servers) ---------------------------------------


def test_failed_logins_are_throttled(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory()

    def login(password: str) -> httpx.Response:
        return token_response(
            server, {"grant_type": "password", "username": "alice@acme.test", "password": password}, *CI
        )

    assert login("alice-password").status_code == 200
    for _ in range(5):
        assert login("wrong-password").status_code == 400
    locked = login("alice-password")  # even the right password, while locked
    assert locked.status_code == 429 and 1 <= int(locked.headers["retry-after"]) <= 60
    assert locked.json()["error"] and "alice-password" not in locked.text
    assert authorize(server, "sloguard-ci").status_code == 429
    with http(server) as c:  # the JSON login shares the throttle, as a real backend's login would
        json_login = c.post("/api/auth/login", json={"username": "alice@acme.test", "password": "alice-password"})
    assert json_login.status_code == 429 and json_login.headers["retry-after"]
    # Another username is not affected.
    assert (
        token_response(
            server, {"grant_type": "password", "username": "bob@globex.test", "password": "bob-password"}, *CI
        ).status_code
        == 200
    )
    log = server.log()
    for secret in ("alice-password", "wrong-password", "sloguard-ci-secret"):
        assert secret not in log


def test_keys_survive_a_restart(platform_factory: Callable[..., Any]) -> None:
    first = platform_factory()
    kid = jwt.get_unverified_header(client_token(first, *CI))["kid"]
    first.stop()
    second = platform_factory(extra_args=("--db", str(first.db_path)))
    assert jwt.get_unverified_header(client_token(second, *CI))["kid"] == kid


@pytest.mark.slow
def test_workers_share_revocations_and_keys(platform_factory: Callable[..., Any]) -> None:
    server = platform_factory(extra_args=("--workers", "2"))
    token = client_token(server, *CI)
    with http(server) as c:
        assert c.get(READ_PATH, headers=bearer(token)).status_code == 200
        assert c.post("/api/auth/revoke", data={"token": token}, auth=CI).status_code == 200
        rotated = c.post("/api/admin/keys/rotate", headers=bearer(client_token(server, *ADMIN))).json()["kid"]
    time.sleep(0.3)  # workers re-read shared state at most every 0.2 s
    for _ in range(10):  # fresh connections land on either worker
        with http(server) as c:
            assert c.get(READ_PATH, headers=bearer(token)).status_code == 401
            new = client_token(server, *CI)
            assert jwt.get_unverified_header(new)["kid"] == rotated
            assert c.get(READ_PATH, headers=bearer(new)).status_code == 200
