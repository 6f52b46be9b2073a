"""Serve the reference platform on uvicorn, sized to be a load-test target.

The listening socket is created here rather than by uvicorn so that a port in use is a clear
error before anything starts, and so the listen backlog and file-descriptor limit can be raised
for 10,000 keep-alive connections (uvicorn's default backlog of 2048 silently stalls the rest).
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import resource
import socket
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import Any

from .faults import FaultSet, parse
from .settings import PlatformSettings

BACKLOG = 16_384
KEEP_ALIVE_S = 75
SETTINGS_ENV = "SLOGUARD_PLATFORM_SETTINGS"


class ServeError(Exception):
    """A start-up problem the user can fix; the message says how."""


def raise_fd_limit() -> int:
    """Raise the soft open-file limit to the hard limit; returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1_048_576
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(
                f"port {port} on {host} is already in use: stop the other server or choose another with --port"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"cannot bind {host}: no such local address; use --host 127.0.0.1") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def self_signed_certificate(host: str, days_left: int, directory: Path) -> tuple[Path, Path]:
    """A certificate for ``host`` that expires in ``days_left`` days (negative: already expired)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    not_after = now + dt.timedelta(days=days_left)
    not_before = min(now - dt.timedelta(days=1), not_after - dt.timedelta(days=1))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "atom-reference.local")])
    try:
        alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alt = x509.DNSName(host)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([alt, x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def settings_to_env(settings: PlatformSettings) -> str:
    data: dict[str, Any] = {f.name: getattr(settings, f.name) for f in fields(settings) if f.name != "faults"}
    data["db_path"] = str(settings.db_path)
    data["faults"] = [f"{k}={v}" for k, v in settings.faults.raw.items()]
    return json.dumps(data)


def settings_from_env() -> PlatformSettings:
    data = json.loads(os.environ[SETTINGS_ENV])
    faults = parse(data.pop("faults"))
    data["db_path"] = Path(data["db_path"])
    data["other_audiences"] = tuple(data["other_audiences"])
    return PlatformSettings(**data, faults=faults)


def app_from_env() -> Any:
    """uvicorn factory for worker processes: they rebuild the app from the parent's settings."""
    from .app import create_app

    return create_app(settings_from_env())


def validate(settings: PlatformSettings) -> Any:
    """Build the app once in this process, to fail fast on bad settings before serving."""
    from .app import create_app

    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    operation_ids: set[str] = set(getattr(app.state, "operation_ids", set()))
    unknown = sorted(op for op in settings.faults.open_endpoints if operation_ids and op not in operation_ids)
    if unknown:
        raise ServeError(
            f"fault open_endpoint: unknown operationId {', '.join(unknown)}; "
            "see the operationIds in /api/v1/openapi.json"
        )
    return app


def serve(settings: PlatformSettings) -> None:
    import uvicorn

    raise_fd_limit()
    sock = bind_socket(settings.host, settings.port)
    if settings.port == 0:
        settings.port = sock.getsockname()[1]
    app = validate(settings)
    ssl: dict[str, Any] = {}
    tmp: tempfile.TemporaryDirectory[str] | None = None
    metrics_dir: tempfile.TemporaryDirectory[str] | None = None
    if settings.scheme == "https":
        tmp = tempfile.TemporaryDirectory(prefix="sloguard-tls-")
        days = settings.faults.tls_days_left if settings.faults.tls_days_left is not None else 365
        cert, key = self_signed_certificate(settings.host, days, Path(tmp.name))
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    common: dict[str, Any] = {
        "loop": "uvloop",
        "http": "httptools",
        "backlog": BACKLOG,
        "timeout_keep_alive": KEEP_ALIVE_S,
        "access_log": False,
        "log_level": "warning",
        "lifespan": "on",
        **ssl,
    }
    public = f", public URL {settings.issuer}" if settings.public_url else ""
    print(f"ATOM reference platform listening on {settings.scheme}://{settings.host}:{settings.port}{public} "
          f"({settings.workers} worker(s))", flush=True)
    try:
        if settings.workers <= 1:
            uvicorn.Server(uvicorn.Config(app, **common)).run(sockets=[sock])
        else:
            os.environ[SETTINGS_ENV] = settings_to_env(settings)
            # Each worker counts its own requests; prometheus_client's multiprocess mode sums them
            # so /metrics reports the whole server whichever worker answers the scrape.
            metrics_dir = tempfile.TemporaryDirectory(prefix="sloguard-metrics-")
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir.name
            sock.close()  # uvicorn's supervisor binds its own shared socket for the workers
            uvicorn.run(
                "sloguard.reference.server:app_from_env", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, **common,
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
        if metrics_dir is not None:
            metrics_dir.cleanup()


__all__ = ["FaultSet", "PlatformSettings", "ServeError", "serve"]
