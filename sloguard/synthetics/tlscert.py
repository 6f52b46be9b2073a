"""Read a server's TLS certificate without trusting it, so expiry can be judged on its own."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from dataclasses import dataclass

from cryptography import x509


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    not_after: dt.datetime
    days_left: float
    trusted: bool
    trust_error: str | None


async def _peer_cert(host: str, port: int, context: ssl.SSLContext, timeout_s: float) -> bytes:
    _reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout_s
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
        if not der:
            raise ssl.SSLError("the server presented no certificate")
        return bytes(der)
    finally:
        writer.close()
        with contextlib.suppress(ssl.SSLError, OSError):
            await writer.wait_closed()


async def inspect(host: str, port: int, *, timeout_s: float = 10.0, cafile: str | None = None) -> CertInfo:
    """Fetch the certificate (unverified), then check separately whether it is trusted."""
    loose = ssl.create_default_context()
    loose.check_hostname = False
    loose.verify_mode = ssl.CERT_NONE
    der = await _peer_cert(host, port, loose, timeout_s)
    cert = x509.load_der_x509_certificate(der)
    trusted, trust_error = True, None
    try:
        await _peer_cert(host, port, ssl.create_default_context(cafile=cafile), timeout_s)
    except ssl.SSLCertVerificationError as exc:
        trusted, trust_error = False, exc.verify_message or str(exc)
    not_after = cert.not_valid_after_utc
    days_left = (not_after - dt.datetime.now(dt.UTC)).total_seconds() / 86_400
    return CertInfo(cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), not_after, days_left,
                    trusted, trust_error)
