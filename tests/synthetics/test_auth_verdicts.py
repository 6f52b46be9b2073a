"""Auth verdicts on targets run as users run them (`sloguard check synthetics`): one root cause is one
finding, a login that works is found from the description, and a target without auth gets no auth
failures.

Every run is against the real reference platform on loopback (or a loopback reverse proxy in front
of it); the FastAPI-shaped description in specs/ is the real ATOM's login, as FastAPI publishes it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningPlatform, free_port, start_platform
from tests.synthetics.test_suite_against_faults import SuiteRun, run_suite

pytestmark = pytest.mark.slow

ATOM_SPEC = Path(__file__).parent / "specs" / "atom-fastapi.json"
NO_TOKEN = "no access token — "


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """A private reference platform for this module, so its suite runs (failed logins, wrong secrets)
    leave the session's shared platform as the other modules expect it."""
    running = start_platform(tmp_path_factory.mktemp("auth-verdicts-platform"))
    yield running
    running.stop()


def p0s(run: SuiteRun) -> list[dict[str, Any]]:
    return [r for r in run.results if r["status"] == "failed" and r["severity"] == "P0"]


def test_provider_down_is_one_p0_and_every_check_needing_a_token_is_skipped(
    platform_factory: Any, tmp_path: Path
) -> None:
    down = platform_factory("auth_down=true")
    run = run_suite(tmp_path, "--target", down.base_url)
    assert run.code == 1, run.err[-2000:]
    found = p0s(run)
    assert [r["check_id"] for r in found] == ["auth · login"], [(r["check_id"], r["error"]) for r in found]
    assert found[0]["rule"] == "AUTH_FAILURE" and "HTTP 503" in found[0]["error"], found[0]
    assert "/api/auth/token" in found[0]["error"] and found[0]["evidence"], found[0]  # the refused request
    assert not [r for r in run.results if r["rule"] == "CHECK_ERROR"]  # never hundreds of harness errors
    skipped = [r for r in run.results if r["status"] == "skipped" and (r["skip_reason"] or "").startswith(NO_TOKEN)]
    assert len(skipped) > 300, len(skipped)
    assert all("HTTP 503" in r["skip_reason"] for r in skipped)
    oauth = [r for r in run.results if r["check_id"].startswith("auth · oauth · ")]
    # Discovery still answers (only the token endpoints are down): it needs no token and truly passes.
    assert run.status_of("auth · oauth · discovery document") == "passed"
    unjudged = [r for r in oauth if r["status"] != "skipped" and r["check_id"] != "auth · oauth · discovery document"]
    assert oauth and not unjudged, unjudged
    assert run.status_of("auth · failed logins are throttled") == "skipped"
    # Selecting only some checks (-k slack) still runs the login they need: the run is not green.
    some = run_suite(tmp_path / "some", "--target", down.base_url, "-k", "slack and GET and not auth")
    assert some.code == 1 and [r["check_id"] for r in p0s(some)] == ["auth · login"], some.err[-1000:]


def test_unreachable_or_broken_discovery_is_one_p0_with_dash_k_oauth(platform: RunningPlatform,
                                                                     tmp_path: Path) -> None:
    # -k oauth used to pass with rc 0 while the provider was down (every check "skipped" by the error).
    # ("and not connect": -k oauth also selects the 33 integrations' /oauth/connect endpoints, whose
    # concurrent SQLite writes on the reference platform are slow on a loaded machine; not auth.)
    dead = f"http://127.0.0.1:{free_port()}"
    for name, discovery_url, cause in (
        ("unreachable", f"{dead}/.well-known/openid-configuration", "cannot reach the OAuth issuer"),
        ("broken", f"{platform.base_url}/health", "has no issuer"),
    ):
        config = f"auth:\n  discovery_url: {discovery_url}\n"
        run = run_suite(tmp_path / name, "--target", platform.base_url, "-k", "oauth and not connect", config=config)
        assert run.code == 1, (name, run.out[-2000:])
        found = p0s(run)
        assert [r["check_id"] for r in found] == ["auth · login"], (name, [r["error"] for r in found])
        assert cause in found[0]["error"], found[0]["error"]
        others = [r for r in run.results if r["check_id"].startswith("auth · oauth")]
        assert others and all(r["status"] == "skipped" and cause in r["skip_reason"] for r in others)
        assert run.summary["verdict"] == "fail"


def test_a_wrong_client_secret_is_one_p0_not_six(platform: RunningPlatform, tmp_path: Path) -> None:
    config = "auth:\n  client_id: sloguard-ci\n  client_secret: not-the-secret\n"
    run = run_suite(tmp_path, "--target", platform.base_url, "-k", "(oauth or auth) and not connect", config=config)
    assert run.code == 1
    found = p0s(run)
    assert [r["check_id"] for r in found] == ["auth · login"], [(r["check_id"], r["error"]) for r in found]
    assert "invalid_client" in found[0]["error"] and "HTTP 401" in found[0]["error"]
    assert "not-the-secret" not in json.dumps(run.results)
    probes = [r for r in run.results if r["check_id"].endswith("auth enforced")]
    assert probes and all(r["status"] == "passed" for r in probes)  # probes need no token: they still judge


def test_no_security_declared_and_no_auth_configured_fails_nothing_auth_related(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    spec = json.loads(ATOM_SPEC.read_text())
    spec["paths"] = {"/health": spec["paths"]["/health"]}
    spec["components"].pop("securitySchemes")
    (tmp_path / "public.json").write_text(json.dumps(spec))
    config = (f"target:\n  base_url: {platform.base_url}\n  openapi: file:public.json\n  environment: staging\n"
              "checks:\n  sync: []\n")
    run = run_suite(tmp_path, config=config)
    assert run.code == 0, run.out[-3000:]
    auth = [r for r in run.results if r["check_id"].startswith("auth")]
    assert auth and all(r["status"] == "skipped" for r in auth), [r for r in auth if r["status"] != "skipped"]
    assert "auth · login" not in {r["check_id"] for r in run.results}  # nothing to log in to
    assert all("declares no authentication" in r["skip_reason"] for r in auth if "oauth" in r["check_id"])
    throttle = run.result("auth · failed logins are throttled")
    assert "no user login" in throttle["skip_reason"]
    assert run.status_of("platform · GET /health") == "passed"


def test_the_real_atoms_json_login_needs_only_a_username_and_a_password(
    platform: RunningPlatform, tmp_path: Path
) -> None:
    config = (f"target:\n  base_url: {platform.base_url}\n  openapi: file:{ATOM_SPEC}\n  environment: staging\n"
              "auth:\n  user: {username: alice@acme.test, password: alice-password}\n"
              "checks:\n  sync: []\n")
    run = run_suite(tmp_path, config=config)
    assert run.code == 0, run.out[-3000:]
    login = run.result("auth · login")
    assert login["status"] == "passed"
    assert "JSON login" in login["title"] and "OAuth2PasswordBearer" in login["title"]
    sent = login["evidence"][0]
    assert sent["method"] == "POST" and sent["url"].endswith("/api/auth/login")
    assert sent["request_headers"]["content-type"] == "application/json"
    assert json.loads(sent["request_body"])["username"] == "alice@acme.test" and sent["status"] == 200
    for protected in ("users · GET /api/v1/users/me", "slack · GET /api/slack/messages"):
        assert run.status_of(protected) == "passed", run.result(protected)
    # The login operation is the login's, not swept with made-up credentials.
    assert run.summary["coverage"]["checked"] == run.summary["coverage"]["total"] == 4
    assert not [r for r in run.results if r["method"] == "POST" and r["check_id"] != "auth · login"
                and r["kind"] != "security"]
    for jwt_check in ("tampered signature is refused", "alg: none is refused"):
        assert run.status_of(f"auth · oauth · {jwt_check}") == "passed"
    assert "JSON login" in run.result("auth · oauth · password grant")["skip_reason"]
    assert run.status_of("auth · failed logins are throttled") == "passed"  # via the JSON login
    text = "\n".join(p.read_text(errors="replace") for p in run.reports.rglob("*") if p.is_file())
    assert "alice-password" not in text


# ------------------------------------------------------------------------------ behind a reverse proxy


class Proxy:
    """A small reverse proxy on loopback: what a deployment behind nginx looks like to the suite."""

    def __init__(self, upstream: str, port: int) -> None:
        client = httpx.Client(base_url=upstream, timeout=30)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "content-length", "accept-encoding")}
                headers["X-Forwarded-Host"] = self.headers.get("host", "")
                answer = client.request(self.command, self.path, headers=headers, content=body)
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        self._client = client
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._client.close()


@pytest.fixture
def proxied(platform_factory: Any) -> Iterator[tuple[Proxy, Proxy]]:
    """Two proxies: one in front of a platform started with --public-url (its own URL), one in front of
    a platform that announces its bind address."""
    port = free_port()
    announced = platform_factory(extra_args=("--public-url", f"http://127.0.0.1:{port}/"))
    plain = platform_factory()
    good, bad = Proxy(announced.base_url, port), Proxy(plain.base_url, free_port())
    yield good, bad
    good.stop()
    bad.stop()


def test_public_url_behind_a_reverse_proxy(proxied: tuple[Proxy, Proxy], tmp_path: Path) -> None:
    good, bad = proxied
    doc = httpx.get(f"{good.url}/.well-known/oauth-authorization-server").json()
    assert doc["issuer"] == good.url and doc["jwks_uri"] == f"{good.url}/.well-known/jwks.json"
    spec = httpx.get(f"{good.url}/api/v1/openapi.json").json()
    assert spec["servers"] == [{"url": good.url}]
    flows = spec["components"]["securitySchemes"]["oauth2"]["flows"]
    assert all(f["tokenUrl"].startswith(good.url) for f in flows.values())

    run = run_suite(tmp_path / "good", "--target", good.url, "-k", "test_oauth")
    assert run.code == 0, run.out[-3000:]
    assert run.status_of("auth · oauth · discovery document") == "passed"
    assert run.status_of("auth · oauth · authorization code + PKCE") == "passed"
    urls = {e["url"].split("?")[0] for r in run.results for e in r.get("evidence", [])}
    assert urls and all(u.startswith(good.url) for u in urls), sorted(urls)[:5]

    # Without --public-url the platform announces its bind address: the suite says so, once.
    run = run_suite(tmp_path / "bad", "--target", bad.url, "-k", "test_oauth")
    assert run.code == 1
    found = p0s(run)
    assert [r["check_id"] for r in found] == ["auth · login"], [(r["check_id"], r["error"]) for r in found]
    assert "another host" in found[0]["error"] and "public URL" in found[0]["error"]
