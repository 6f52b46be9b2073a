"""Real receivers on loopback for the alert tests.

* `Sink`: a small threaded HTTP server that records every request and answers like the service it
  stands in for — after validating the payload shape that service documents (PagerDuty Events v2,
  Slack incoming webhooks, a signed sloguard webhook). An invalid payload gets the service's 4xx, so a
  shape bug fails the delivery instead of passing silently. ``fail_next(n, status)`` makes it answer
  ``status`` (e.g. 503) for a while: a real outage of the receiver, not a mock of the sender.
* `Alertmanager`: Debian's prometheus-alertmanager, started with a temporary config.
* `SMTPServer`: aiosmtpd with STARTTLS (a self-signed certificate made here) and AUTH.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from sloguard.cli.launch import free_port

Validator = Callable[["Request"], tuple[int, str] | None]


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Sink:
    """An HTTP receiver on 127.0.0.1 that records what it is sent and answers like its service."""

    validate: Validator | None = None
    ok_status: int = 200
    ok_body: str | Callable[[Request], str] = "ok"
    received: list[Request] = field(default_factory=list)  # accepted (2xx)
    attempts: list[Request] = field(default_factory=list)  # everything, refused included
    refused: list[tuple[int, str]] = field(default_factory=list)
    _failing: int = 0
    _fail_status: int = 503
    _retry_after: str | None = None

    def __post_init__(self) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request("POST", self.path, {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length))
                status, body, extra = sink._answer(request)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                data = body.encode("utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        with self._lock:
            self._failing, self._fail_status, self._retry_after = count, status, retry_after

    def recover(self) -> None:
        self.fail_next(0)

    def _answer(self, request: Request) -> tuple[int, str, dict[str, str]]:
        with self._lock:
            self.attempts.append(request)
            if self._failing:
                self._failing -= 1
                extra = {"Retry-After": self._retry_after} if self._retry_after else {}
                return self._fail_status, "service unavailable", extra
            problem = self.validate(request) if self.validate else None
            if problem is not None:
                self.refused.append(problem)
                return problem[0], problem[1], {}
            self.received.append(request)
            body = self.ok_body(request) if callable(self.ok_body) else self.ok_body
            return self.ok_status, body, {}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- payload shapes

PD_SEVERITIES = {"critical", "error", "warning", "info"}


def pagerduty_validator(routing_key: str) -> Validator:
    """PagerDuty Events API v2: answers 202 for a valid event, 400 'invalid event' otherwise."""

    def check(request: Request) -> tuple[int, str] | None:
        errors: list[str] = []
        try:
            event = request.json()
        except ValueError:
            return 400, json.dumps({"status": "invalid event", "errors": ["body is not JSON"]})
        if request.path != "/v2/enqueue":
            return 404, "not found"
        if event.get("routing_key") != routing_key:
            return 400, json.dumps({"status": "invalid event", "errors": ["Invalid routing key"]})
        action = event.get("event_action")
        if action not in ("trigger", "resolve", "acknowledge"):
            errors.append("'event_action' is invalid")
        dedup = event.get("dedup_key")
        if action != "trigger" and not dedup:
            errors.append("'dedup_key' is required for resolve")
        if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
            errors.append("'dedup_key' must be a string of at most 255 characters")
        if action == "trigger":
            payload = event.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing")
            else:
                summary = payload.get("summary")
                if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
                    errors.append("'payload.summary' must be 1..1024 characters")
                if not isinstance(payload.get("source"), str) or not payload["source"]:
                    errors.append("'payload.source' is missing")
                if payload.get("severity") not in PD_SEVERITIES:
                    errors.append("'payload.severity' is invalid")
            for link in event.get("links", []):
                if not isinstance(link, dict) or not str(link.get("href", "")).startswith("http"):
                    errors.append("a link needs an href")
        if errors:
            return 400, json.dumps({"status": "invalid event", "message": "Event object is invalid", "errors": errors})
        return None

    return check


def pagerduty_ok(request: Request) -> str:
    return json.dumps({"status": "success", "message": "Event processed", "dedup_key": request.json()["dedup_key"]})


_BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "image"}


def slack_validator(path: str) -> Validator:
    """Slack incoming webhooks: the URL path is the credential; blocks must follow Block Kit's limits."""

    def check(request: Request) -> tuple[int, str] | None:
        if request.path != path:
            return 404, "no_service"
        try:
            message = request.json()
        except ValueError:
            return 400, "invalid_payload"
        if not isinstance(message.get("text"), str) and not message.get("blocks"):
            return 400, "no_text"
        for block in message.get("blocks", []):
            kind = block.get("type")
            if kind not in _BLOCK_TYPES:
                return 400, "invalid_blocks"
            if kind == "header" and (block["text"]["type"] != "plain_text" or len(block["text"]["text"]) > 150):
                return 400, "invalid_blocks"
            if kind == "section":
                if "text" not in block and "fields" not in block:
                    return 400, "invalid_blocks"
                if "text" in block and len(block["text"]["text"]) > 3000:
                    return 400, "invalid_blocks"
                fields = block.get("fields", [])
                if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
                    return 400, "invalid_blocks"
            if kind == "context" and not 0 < len(block.get("elements", [])) <= 10:
                return 400, "invalid_blocks"
        return None

    return check


# ---------------------------------------------------------------- Alertmanager (Debian)

AM_CONFIG = """\
route:
  receiver: blackhole
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""


@dataclass
class Alertmanager:
    binary: str
    workdir: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> Alertmanager:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "alertmanager.yml"
        config.write_text(AM_CONFIG)
        self.port = free_port()
        log = (self.workdir / "alertmanager.log").open("wb")
        self.proc = subprocess.Popen(
            [self.binary, f"--config.file={config}", f"--storage.path={self.workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address=",
             "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited: {(self.workdir / 'alertmanager.log').read_text()[-800:]}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("alertmanager did not become ready")

    def alerts(self, **params: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v2/alerts", params=params, timeout=5.0)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


# ---------------------------------------------------------------- SMTP (aiosmtpd)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1/localhost and its key, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sloguard test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    tls: bool
    login: str | None


@dataclass
class SMTPServer:
    """aiosmtpd on 127.0.0.1 requiring STARTTLS before AUTH, with one account."""

    workdir: Path
    username: str = "sloguard-bot"
    password: str = "smtp-pass-Q7w9Zr"
    messages: list[Mail] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, accepted)

    def start(self) -> SMTPServer:
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.cert, key = self_signed(self.workdir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                data = session.auth_data
                login = data.login.decode() if session.authenticated and isinstance(data, LoginPassword) else None
                server.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                            session.ssl is not None, login))
                return "250 OK"

        def authenticator(smtp: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            ok = (isinstance(data, LoginPassword) and data.login.decode() == server.username
                  and data.password.decode() == server.password)
            server.logins.append((data.login.decode() if isinstance(data, LoginPassword) else "?", ok))
            return AuthResult(success=ok, handled=False, auth_data=data)

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, tls_context=context,
                                     require_starttls=True, authenticator=authenticator, auth_require_tls=True)
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


__all__ = ["Alertmanager", "Request", "SMTPServer", "Sink", "pagerduty_ok", "pagerduty_validator",
           "slack_validator", "wait_for"]
