"""Issued tokens and authorization codes: what the checks hold, never shown with their secrets."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sloguard.redact import MASK, masked


@dataclass(frozen=True, repr=False)
class Token:
    """An issued token set. ``expires_at`` is on the provider's clock and never later than the JWT's exp."""

    access_token: str
    token_type: str
    issued_at: float
    expires_at: float | None
    grant: str
    client_id: str
    scope: str | None = None
    refresh_token: str | None = None
    id_token: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lifetime_s(self) -> float | None:
        return None if self.expires_at is None else self.expires_at - self.issued_at

    def remaining_s(self, now: float | None = None) -> float | None:
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value."""
        return f"Bearer {self.access_token}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.authorization}

    def __repr__(self) -> str:
        lifetime = self.lifetime_s
        return (
            f"Token(grant={self.grant!r}, client_id={self.client_id!r}, scope={self.scope!r}, "
            f"lifetime_s={None if lifetime is None else round(lifetime, 1)!r}, "
            f"access_token={MASK!r}, refresh_token={masked(self.refresh_token)!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class AuthorizationCode:
    """The result of the consent step: what ``exchange_code`` needs, kept for negative checks."""

    code: str
    code_verifier: str
    state: str
    redirect_uri: str
    client_id: str
    scope: str | None

    def __repr__(self) -> str:
        return (
            f"AuthorizationCode(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r}, "
            f"scope={self.scope!r}, code={MASK!r}, code_verifier={MASK!r})"
        )

    __str__ = __repr__


def unverified_exp(access_token: str) -> float | None:
    """The JWT's ``exp`` if the access token is a JWT (unverified), so no cache outlives it."""
    import jwt

    if access_token.count(".") != 2:
        return None
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None


def is_jwt(access_token: str) -> bool:
    """Whether the token is a JWS compact JWT (three base64url parts with a JSON header), not opaque."""
    import jwt

    if access_token.count(".") != 2:
        return False
    try:
        jwt.get_unverified_header(access_token)
    except jwt.PyJWTError:
        return False
    return True
