"""What the auth modules share about the authorization server's answers: one-line, secret-free errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from sloguard.redact import redact_secrets, redact_text

from .errors import TokenError
from .transport import HttpAnswer
from .transport import transport_reason as _transport_reason


def one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def transport_reason(exc: httpx.TransportError) -> str:
    return _transport_reason(exc)


def is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _detail(value: Any) -> str:
    """FastAPI's 422 ``detail`` is a list of {loc, msg}: say which field and why, in one line."""
    if isinstance(value, list):
        parts = []
        for item in value[:3]:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc") or ())
                parts.append(f"{item['msg']} ({loc})" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(value)


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """The OAuth ``error`` and a description from an error body (RFC 6749 5.2, or FastAPI's ``detail``)."""
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    description = body.get("error_description") or body.get("detail") or body.get("message")
    return (
        one_line(str(error), 60) if error is not None else None,
        one_line(_detail(description)) if description is not None else None,
    )


def answer_error(what: str, answer: HttpAnswer, secrets: tuple[str | None, ...] = ()) -> TokenError:
    """The TokenError for a refused call: endpoint, HTTP status and OAuth error, never a secret."""
    url = answer.url.split("?", 1)[0]
    try:
        body = answer.json()
    except ValueError:
        body = None
    error, description = error_fields(body)
    text = f"{what} to {url} failed: HTTP {answer.status}"
    if answer.reason:
        text += f" {answer.reason}"
    if error:
        text += f" ({error}{': ' + description if description else ''})"
    elif description:
        text += f" ({description})"
    return TokenError(
        redact_text(redact_secrets(text, secrets)),
        url=url,
        status=answer.status,
        error=error,
        retry_after=_retry_after(answer.headers),
    )


def status_error(what: str, response: httpx.Response, secrets: tuple[str | None, ...] = ()) -> TokenError:
    answer = HttpAnswer(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                        response.content, str(response.request.url), response.reason_phrase)
    return answer_error(what, answer, secrets)
