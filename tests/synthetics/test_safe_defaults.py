"""Safe defaults on a target that is not the reference platform, even on localhost.

A real ATOM running on 127.0.0.1 must not get the reference platform's test credentials, its write
operations or invented path values. The stand-in here is a real HTTP server on loopback that serves
an ATOM-shaped description (the reference platform's, without its fault-injection admin API) and
records every request it is sent.
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

from tests.synthetics.test_suite_against_faults import run_suite

pytestmark = pytest.mark.slow


class RecordingAPI:
    """Serves a description and answers every other request 404, recording method, path and headers."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.serve(spec)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                api.seen.append((self.command, self.path, dict(self.headers.items()), self.rfile.read(length)))
                found = self.path == "/api/v1/openapi.json"
                payload = api.body if found else b'{"detail": "Not Found"}'
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def serve(self, spec: dict[str, Any]) -> None:
        """From now on, serve this description (a new release of the API)."""
        self.body = json.dumps(spec).encode()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def real_atom_on_localhost(platform) -> Iterator[RecordingAPI]:
    spec = httpx.get(f"{platform.base_url}/api/v1/openapi.json").json()
    spec["paths"] = {p: item for p, item in spec["paths"].items() if not p.startswith("/api/admin")}
    api = RecordingAPI(spec)
    spec["servers"] = [{"url": api.base_url}]
    yield api
    api.stop()


def test_a_real_atom_on_localhost_gets_no_reference_credentials_writes_or_invented_ids(
    real_atom_on_localhost: RecordingAPI, tmp_path: Path
) -> None:
    api = real_atom_on_localhost
    run = run_suite(tmp_path, "--target", api.base_url, "-k", "slack or github or auth")
    sent = "\n".join(f"{m} {p} {h} {b!r}" for m, p, h, b in api.seen)
    for secret in ("sloguard-ci-secret", "alice-password", "sloguard-spa", "c2xvZ3VhcmQtY2k"):  # base64 sloguard-ci
        assert secret not in sent, secret
    # only security probes write, with a made-up id or an empty body that cannot create anything
    writes = [(m, p, b) for m, p, _, b in api.seen if m in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes and all("sloguard-probe-" in p or b in (b"", b"{}") for _, p, b in writes), writes[:5]
    by_id = [r for r in run.results if r.get("path") and "{" in r["path"] and r["kind"] == "endpoint"]
    assert by_id and all(r["status"] == "skipped" for r in by_id), [r["status"] for r in by_id][:5]
    reason = by_id[0]["skip_reason"]
    assert "no list operation provides one" in reason or "the list call returned no records" in reason
    assert "catalog.overrides." in reason and ".path_params." in reason
    throttling = run.result("auth · failed logins are throttled")
    assert throttling["status"] == "skipped" and "production" in throttling["skip_reason"]
    # 404s to security probes verified nothing: inconclusive, never passed
    probes = [r for r in run.results if r["kind"] == "security" and r["check_id"].endswith("auth enforced")]
    assert probes and not [r for r in probes if r["status"] == "passed"]
    assert run.summary["checks"]["inconclusive"] >= len([r for r in probes if r["status"] == "inconclusive"]) > 0
