"""What the auth modules share about the authorization server's answers: one-line, secret-free errors."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from sloguard.redact import redact_secrets

from .errors import TokenError


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def transport_reason(exc: httpx.TransportError) -> str:
    detail = one_line(str(exc), 120)
    kind = type(exc).__name__
    if "CERTIFICATE_VERIFY_FAILED" in detail or "SSL" in detail:
        return f"TLS verification failed ({detail}); for a self-signed test server set auth.verify_tls: false"
    return f"{kind}: {detail}" if detail else kind


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_fields(response: httpx.Response) -> tuple[str | None, str | None]:
    """The OAuth ``error`` and a description from an error body (RFC 6749 5.2 or the platform's shape)."""
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    description = body.get("error_description") or body.get("detail")
    return (
        one_line(str(error), 60) if error is not None else None,
        one_line(str(description)) if description is not None else None,
    )


def status_error(what: str, response: httpx.Response, secrets: tuple[str | None, ...] = ()) -> TokenError:
    url = str(response.request.url.copy_with(query=None))
    error, description = _error_fields(response)
    text = f"{what} to {url} failed: HTTP {response.status_code}"
    if response.reason_phrase:
        text += f" {response.reason_phrase}"
    if error:
        text += f" ({error}{': ' + description if description else ''})"
    elif description:
        text += f" ({description})"
    return TokenError(
        redact_secrets(text, secrets),
        url=url,
        status=response.status_code,
        error=error,
        retry_after=_retry_after(response),
    )
