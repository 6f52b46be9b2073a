"""Reading token answers: RFC 6749 section 5.1 token responses and JSON logins' own shapes."""

from __future__ import annotations

import logging
from typing import Any

from ._protocol import answer_error
from .errors import TokenError
from .tokens import Token, unverified_exp
from .transport import HttpAnswer, HttpCall

log = logging.getLogger(__name__)


def _pointer(document: Any, pointer: str) -> Any:
    """The value at an RFC 6901 JSON pointer (``/access_token``, ``/data/token``), or None."""
    node = document
    for raw in pointer.split("/")[1:] if pointer.startswith("/") else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def read_token(
    call: HttpCall,
    answer: HttpAnswer,
    *,
    grant: str,
    client_id: str,
    sent_at: float,
    token_pointer: str = "/access_token",
    refresh_pointer: str = "/refresh_token",
    requested_scope: str | None = None,
    ok: tuple[int, ...] = (200,),
) -> Token:
    """The token in ``answer``, or a TokenError naming the endpoint, the status and the OAuth error."""
    what, url = call.what, call.endpoint
    if answer.status not in ok:
        raise answer_error(what, answer, call.secrets)
    try:
        body = answer.json()
    except ValueError:
        raise TokenError(f"{what} to {url}: HTTP {answer.status} with a body that is not JSON "
                         f"({answer.content_type})", url=url, status=answer.status) from None
    access = _pointer(body, token_pointer)
    if not isinstance(access, str) or not access:
        where = "an access_token" if token_pointer == "/access_token" else f"a token at {token_pointer}"
        raise TokenError(f"{what} to {url}: HTTP {answer.status} without {where}", url=url, status=answer.status)
    fields = body if isinstance(body, dict) else {}
    token_type = str(fields.get("token_type") or "Bearer")
    if token_type.lower() != "bearer":
        raise TokenError(f"{what} to {url}: token_type {token_type!r}, expected Bearer", url=url,
                         status=answer.status)
    expires_at: float | None = None
    expires_in = fields.get("expires_in")
    try:
        if expires_in is not None:
            expires_at = sent_at + float(expires_in)
    except (TypeError, ValueError):
        raise TokenError(f"{what} to {url}: expires_in {expires_in!r} is not a number", url=url,
                         status=answer.status) from None
    jwt_exp = unverified_exp(access)
    if jwt_exp is not None and jwt_exp > sent_at:
        # exp is whole seconds on the server's clock and may end up to 1 s before sent_at + expires_in:
        # the earlier one wins so a short-lived token is never handed out after it expired.
        expires_at = jwt_exp if expires_at is None else min(expires_at, jwt_exp)
    elif jwt_exp is not None:
        log.warning("the access token's exp is already past on this clock: is the clock skewed?")
    refresh = _pointer(body, refresh_pointer)
    scope = fields.get("scope")
    return Token(
        access_token=access,
        token_type="Bearer",
        issued_at=sent_at,
        expires_at=expires_at,
        grant=grant,
        client_id=client_id,
        scope=str(scope) if scope is not None else requested_scope,
        refresh_token=refresh if isinstance(refresh, str) and refresh else None,
        id_token=fields.get("id_token") if isinstance(fields.get("id_token"), str) else None,
        raw={k: v for k, v in fields.items() if k not in ("access_token", "refresh_token", "id_token")},
    )
