"""The OAuth client and checks against a real provider nobody here wrote: django-oauth-toolkit (PyPI).

The test writes a small Django project to a temp folder: DOT with its OIDC support (an RSA key made
here), RFC 8414 metadata mounted at the root as DOT's docs recommend, a confidential client for the
client-credentials grant, another for the password grant (DOT gives each application one grant), a
public PKCE client for the code flow through Django's login page and DOT's consent form, and a tiny
protected API with the OpenAPI description an API team would write for it. It runs on Django's own
server on loopback, one process for the module.

DOT issues opaque access tokens, answers 403 (not 401) to a bad token, and does not throttle failed
logins: the suite must pass by configuration alone, skip what does not apply with the reason, and
raise no false P0; a wrong secret and a stopped provider are each exactly one P0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import free_port
from tests.synthetics.test_suite_against_faults import SuiteRun, run_suite

pytest.importorskip("oauth2_provider", reason="django-oauth-toolkit is in the test extra: pip install -e '.[test]'")
pytestmark = pytest.mark.slow

CC = ("sloguard-cc", "dot-cc-secret-4f1a9c")
PASSWORD_CLIENT = ("sloguard-password", "dot-password-secret-77b2")
SPA = "sloguard-spa"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
USER = ("alice", "alice-dot-password")
SECRETS = (CC[1], PASSWORD_CLIENT[1], USER[1])

SETTINGS = '''
from pathlib import Path
HERE = Path(__file__).resolve().parent
SECRET_KEY = "sloguard-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
                  "oauth2_provider", "dotapi"]
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
              "django.contrib.auth.middleware.AuthenticationMiddleware"]
ROOT_URLCONF = "dotapi.urls"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [HERE / "templates"],
              "APP_DIRS": True, "OPTIONS": {"context_processors": ["django.template.context_processors.request"]}}]
# SQLite under concurrent token requests: wait for the lock, take it at BEGIN (no deadlocked upgrades).
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": HERE / "db.sqlite3",
                         "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"}}}
# Fast hashes for a test server (client secrets are hashed with these too).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
LOGIN_URL = "/accounts/login/"
# Server errors go to the server's log (the test shows its tail when something fails).
LOGGING = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}}}
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (HERE / "oidc.key").read_text(),
    "SCOPES": {"openid": "OpenID Connect", "read": "Read items", "write": "Change items"},
    "PKCE_REQUIRED": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
}
'''

URLS = '''
from django.contrib.auth import views as auth_views
from django.urls import include, path
from oauth2_provider import urls as dot_urls
from . import views

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("", include((dot_urls.metadata_urlpatterns, "oauth2_metadata"))),  # RFC 8414 at the root
    path("accounts/login/", auth_views.LoginView.as_view()),
    path("api/health", views.health),
    path("api/items", views.Items.as_view()),
    path("api/items/<int:item_id>", views.Item.as_view()),
]
'''

VIEWS = '''
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.views.generic import ScopedProtectedResourceView

ITEMS = {1: {"id": 1, "name": "first"}, 2: {"id": 2, "name": "second"}}


def health(request):
    return JsonResponse({"status": "ok"})


@method_decorator(csrf_exempt, name="dispatch")  # a bearer-token API, not a browser form
class Items(ScopedProtectedResourceView):
    required_scopes = ["read"]

    def get(self, request):
        return JsonResponse({"items": list(ITEMS.values())})


@method_decorator(csrf_exempt, name="dispatch")
class Item(ScopedProtectedResourceView):
    def get_scopes(self):
        return ["write"] if self.request.method == "DELETE" else ["read"]

    def get(self, request, item_id):
        item = ITEMS.get(item_id)
        return JsonResponse(item) if item else JsonResponse({"detail": "not found"}, status=404)

    def delete(self, request, item_id):
        return HttpResponse(status=204 if item_id in ITEMS else 404)
'''

LOGIN_TEMPLATE = '''<!doctype html><html><body><h1>Sign in</h1>
<form method="post">{% csrf_token %}{{ form.as_p }}
<input type="hidden" name="next" value="{{ next }}"><button type="submit">Log in</button></form></body></html>
'''

SEED = f'''
import django
django.setup()
from django.contrib.auth.models import User
from oauth2_provider.models import Application
User.objects.create_user({USER[0]!r}, password={USER[1]!r})
A = Application
A.objects.create(name="cc", client_id={CC[0]!r}, client_secret={CC[1]!r}, client_type=A.CLIENT_CONFIDENTIAL,
                 authorization_grant_type=A.GRANT_CLIENT_CREDENTIALS)
A.objects.create(name="password", client_id={PASSWORD_CLIENT[0]!r}, client_secret={PASSWORD_CLIENT[1]!r},
                 client_type=A.CLIENT_CONFIDENTIAL, authorization_grant_type=A.GRANT_PASSWORD)
A.objects.create(name="spa", client_id={SPA!r}, client_secret="", client_type=A.CLIENT_PUBLIC,
                 authorization_grant_type=A.GRANT_AUTHORIZATION_CODE, redirect_uris={REDIRECT_URI!r},
                 algorithm=A.RS256_ALGORITHM)
'''

READ, WRITE = [{"oauth2": ["read"]}], [{"oauth2": ["write"]}]


def description() -> dict[str, Any]:
    """The OpenAPI description of the tiny API, as its team would write it."""
    ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    denied = {"description": "no or bad token, or missing scope"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Items", "version": "1.0"},
        "paths": {
            "/api/health": {"get": {"operationId": "health", "tags": ["health"], "security": [],
                                    "responses": {"200": ok}}},
            "/api/items": {"get": {"operationId": "list_items", "tags": ["items"], "security": READ,
                                   "responses": {"200": ok, "403": denied}}},
            "/api/items/{item_id}": {
                "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "get": {"operationId": "get_item", "tags": ["items"], "security": READ,
                        "responses": {"200": ok, "403": denied, "404": {"description": "no such item"}}},
                "delete": {"operationId": "delete_item", "tags": ["items"], "security": WRITE,
                           "responses": {"204": {"description": "deleted"}, "403": denied,
                                         "404": {"description": "no such item"}}},
            },
        },
        "components": {"securitySchemes": {"oauth2": {"type": "oauth2", "flows": {
            "clientCredentials": {"tokenUrl": "/o/token/", "scopes": {"read": "read", "write": "write"}},
            "password": {"tokenUrl": "/o/token/", "scopes": {"read": "read", "write": "write"}},
            "authorizationCode": {"authorizationUrl": "/o/authorize/", "tokenUrl": "/o/token/",
                                  "scopes": {"read": "read", "write": "write"}}}}}},
    }


@dataclass
class DOT:
    base_url: str
    root: Path
    proc: subprocess.Popen[bytes]

    def config(self, *, secret: str = CC[1], extra: str = "") -> str:
        return textwrap.dedent(f"""\
            target:
              base_url: {self.base_url}
              openapi: file:{self.root / 'items-api.json'}
              environment: production   # read-only; and the login-throttling probe stays off (DOT has none)
            auth:
              issuer: {self.base_url}/o
              client_id: {CC[0]}
              client_secret: {secret}
              scope: read write
              user: {{username: {USER[0]}, password: {USER[1]}}}
              password_client: {{client_id: {PASSWORD_CLIENT[0]}, client_secret: {PASSWORD_CLIENT[1]}}}
              pkce: {{client_id: {SPA}, redirect_uri: "{REDIRECT_URI}", scope: read write}}
              readonly_client: {{client_id: {CC[0]}, client_secret: {CC[1]}}}
              foreign_audience: http://127.0.0.1:9/another-api
            """) + extra

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture(scope="module")
def dot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DOT]:
    root = tmp_path_factory.mktemp("dot")
    app = root / "dotapi"
    (app / "templates" / "registration").mkdir(parents=True)
    (root / "templates").mkdir()
    (app / "__init__.py").write_text("")
    (app / "settings.py").write_text(SETTINGS.replace("HERE = Path(__file__).resolve().parent",
                                                      "HERE = Path(__file__).resolve().parent.parent"))
    (app / "urls.py").write_text(URLS)
    (app / "views.py").write_text(VIEWS)
    (app / "templates" / "registration" / "login.html").write_text(LOGIN_TEMPLATE)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (root / "oidc.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (root / "items-api.json").write_text(json.dumps(description()))
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "dotapi.settings", "PYTHONPATH": str(root),
           "PYTHONWARNINGS": "ignore"}
    for args in (["-m", "django", "migrate", "-v", "0"], ["-c", SEED]):
        done = subprocess.run([sys.executable, *args], cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
    port = free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
                            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = DOT(f"http://127.0.0.1:{port}", root, proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (root / "server.log").read_text()[-3000:]
        try:
            if httpx.get(f"{server.base_url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        pytest.fail("django-oauth-toolkit did not start: " + (root / "server.log").read_text()[-2000:])
    yield server
    server.stop()
    log.close()


def by_id(run: SuiteRun) -> dict[str, dict[str, Any]]:
    return {r["check_id"]: r for r in run.results}


def p0s(run: SuiteRun) -> list[dict[str, Any]]:
    return [r for r in run.results if r["status"] == "failed" and r["severity"] == "P0"]


def test_the_suite_passes_against_django_oauth_toolkit_by_configuration_alone(dot: DOT, tmp_path: Path) -> None:
    (tmp_path / "dot.yaml").write_text(dot.config())
    run = run_suite(tmp_path, "--config", "dot.yaml", "-k", "oauth or auth")
    results = by_id(run)
    failed = [(r["check_id"], r["error"]) for r in run.results if r["status"] in ("failed", "error")]
    assert run.code == 0 and not failed, (failed, run.out[-3000:], run.err[-2000:])
    passed = {c for c, r in results.items() if r["status"] == "passed"}
    # Every flow DOT offers works, through its own pages and endpoints.
    assert {"auth · login", "auth · oauth · discovery document", "auth · oauth · client credentials grant",
            "auth · oauth · password grant", "auth · oauth · authorization code + PKCE",
            "auth · oauth · refresh token rotation", "auth · oauth · refresh token reuse is refused",
            "auth · oauth · revoked token is refused", "auth · oauth · introspection",
            "auth · oauth · wrong PKCE verifier is refused", "auth · oauth · reused authorization code is refused",
            "auth · oauth · unregistered redirect URI is refused", "auth · oauth · missing scope is refused (403)",
            } <= passed, sorted(set(results) - passed)
    # What does not apply is skipped, with the reason.
    for check in ("tampered signature is refused", "token from an unknown key is refused", "alg: none is refused"):
        assert results[f"auth · oauth · {check}"]["status"] == "skipped"
        assert "opaque" in results[f"auth · oauth · {check}"]["skip_reason"]
    assert "short-lived" in results["auth · oauth · expired token is refused"]["skip_reason"]
    other = results["auth · oauth · token for another audience is refused"]  # used to crash: DecodeError
    assert other["status"] == "skipped" and ("opaque" in other["skip_reason"]
                                             or "issues no token" in other["skip_reason"]), other
    probes = [r for c, r in results.items() if c.endswith("auth enforced")]
    assert len(probes) == 3 and all(r["status"] == "passed" for r in probes)
    # The code flow went through Django's login page and DOT's consent form.
    walk = [e for e in results["auth · oauth · authorization code + PKCE"]["evidence"]]
    paths = [e["url"].split("?")[0].removeprefix(dot.base_url) for e in walk]
    assert "/accounts/login/" in paths and paths.count("/o/authorize/") >= 2 and "/o/token/" in paths, paths
    # Token, introspection and revocation requests show the client authentication actually sent.
    token_calls = [e for r in run.results for e in r["evidence"] if e["url"].endswith(("/o/token/",
                                                                                       "/o/introspect/"))]
    basic = [e for e in token_calls if e["request_headers"].get("authorization", "").startswith("Basic")]
    assert basic and all('-u "$ATOM_CLIENT_ID:' in e["curl"] for e in basic)
    assert not any("$ATOM_TOKEN" in e["curl"] for e in token_calls)
    text = "\n".join(p.read_text(errors="replace") for p in run.reports.rglob("*") if p.is_file())
    for secret in SECRETS:
        assert secret not in text, secret


def test_oidc_discovery_with_configured_endpoints(dot: DOT, tmp_path: Path) -> None:
    # OIDC discovery names no revocation or introspection endpoint: configured ones are used, and
    # without them those checks are skipped with the reason (never a P0 for a missing feature).
    oidc = f"{dot.base_url}/o/.well-known/openid-configuration"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "dot.yaml").write_text(dot.config(
        extra=f"  discovery_url: {oidc}\n  revocation_url: {dot.base_url}/o/revoke_token/\n"
              f"  introspection_url: {dot.base_url}/o/introspect/\n"))
    run = run_suite(tmp_path / "a", "--config", "dot.yaml", "-k", "test_oauth")
    assert run.code == 0, ([(r["check_id"], r["error"]) for r in run.results if r["status"] == "failed"], run.err)
    results = by_id(run)
    assert results["auth · oauth · revoked token is refused"]["status"] == "passed"
    assert results["auth · oauth · introspection"]["status"] == "passed"

    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "dot.yaml").write_text(dot.config(extra=f"  discovery_url: {oidc}\n"))
    run = run_suite(tmp_path / "b", "--config", "dot.yaml", "-k", "test_oauth")
    assert run.code == 0 and not p0s(run)
    results = by_id(run)
    assert "names no revocation_endpoint" in results["auth · oauth · revoked token is refused"]["skip_reason"]
    assert "names no introspection_endpoint" in results["auth · oauth · introspection"]["skip_reason"]


def test_a_wrong_secret_and_a_stopped_provider_are_each_one_p0(dot: DOT, tmp_path: Path) -> None:
    (tmp_path / "wrong").mkdir()
    (tmp_path / "wrong" / "dot.yaml").write_text(dot.config(secret="not-the-dot-secret"))
    run = run_suite(tmp_path / "wrong", "--config", "dot.yaml", "-k", "oauth or auth")
    assert run.code == 1
    assert [r["check_id"] for r in p0s(run)] == ["auth · login"], [(r["check_id"], r["error"]) for r in p0s(run)]
    assert "invalid_client" in p0s(run)[0]["error"]

    dot.stop()  # last: the module's server is not needed after this
    (tmp_path / "down").mkdir()
    (tmp_path / "down" / "dot.yaml").write_text(dot.config())
    run = run_suite(tmp_path / "down", "--config", "dot.yaml", "-k", "oauth or auth")
    assert run.code == 1
    found = p0s(run)  # DOT serves the API too: the one finding is that nothing answers
    assert [(r["check_id"], r["rule"]) for r in found] == [("platform · target reachable", "PLATFORM_DOWN")], found
