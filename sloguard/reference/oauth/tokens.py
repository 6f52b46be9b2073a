"""Access tokens (RFC 9068 JWT profile, RS256) and ID tokens: minting and verification.

Verification is the hot path of every API request, so a verified token's principal is cached by
the raw token string; expiry and revocation are still checked on every call.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt

from ..settings import PlatformSettings
from .errors import AuthError
from .keys import KeyRing

ACCESS_TYP = "at+jwt"
REQUIRED = ("iss", "aud", "sub", "client_id", "scope", "tenant", "iat", "exp", "jti")


@dataclass(frozen=True, slots=True)
class Principal:
    sub: str
    client_id: str
    tenant: str
    scopes: frozenset[str]
    jti: str
    is_user: bool


@dataclass(frozen=True)
class Minted:
    token: str
    jti: str
    exp: int


def principal_from(claims: dict[str, Any]) -> Principal:
    for name in ("sub", "client_id", "scope", "tenant", "jti"):
        if not isinstance(claims.get(name), str):
            raise AuthError.unauthorized(f"token claim '{name}' is missing or not a string")
    return Principal(
        claims["sub"],
        claims["client_id"],
        claims["tenant"],
        frozenset(claims["scope"].split()),
        claims["jti"],
        claims["sub"] != claims["client_id"],
    )


class AccessTokens:
    def __init__(self, keys: KeyRing, settings: PlatformSettings, cache_size: int = 10_000) -> None:
        self._keys = keys
        self._settings = settings
        self._cache_size = cache_size
        # raw token -> (principal, exp); insertion-ordered, the oldest entry is evicted first.
        self.cache: dict[str, tuple[Principal, float]] = {}

    @property
    def issuer(self) -> str:
        return self._settings.issuer  # read late: the port may be chosen after this object exists

    @property
    def audience(self) -> str:
        return self._settings.audience

    def mint(
        self, *, sub: str, client_id: str, scope: str, tenant: str, ttl_s: int, audience: str | None = None
    ) -> Minted:
        key = self._keys.active()
        now = int(time.time())
        jti = secrets.token_urlsafe(16)
        claims = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": sub,
            "client_id": client_id,
            "scope": scope,
            "tenant": tenant,
            "iat": now,
            "exp": now + ttl_s,
            "jti": jti,
        }
        token = jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": ACCESS_TYP})
        return Minted(token, jti, now + ttl_s)

    def mint_id_token(
        self,
        *,
        sub: str,
        client_id: str,
        ttl_s: int,
        auth_time: int,
        nonce: str | None,
        claims: dict[str, Any],
    ) -> str:
        key = self._keys.active()
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": client_id,
            "sub": sub,
            "iat": now,
            "exp": now + ttl_s,
            "auth_time": auth_time,
            **claims,
        }
        if nonce:
            body["nonce"] = nonce
        return jwt.encode(body, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})

    def decode(self, token: str, *, verify_exp: bool = True) -> dict[str, Any]:
        """The claims of a token this server signed for the API; AuthError(401) names what is wrong."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError.unauthorized("malformed token: not a JWT") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise AuthError.unauthorized("unsigned tokens (alg none) are not accepted")
        if alg != "RS256":
            raise AuthError.unauthorized(f"token algorithm {alg} is not accepted; tokens are RS256")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in (ACCESS_TYP, "application/" + ACCESS_TYP):
            raise AuthError.unauthorized("not an access token (header typ must be at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise AuthError.unauthorized("token header has no kid")
        if not self._keys.knows(kid):
            self._keys.reload()  # another worker may have just rotated the key
        public_key = self._keys.public_key(kid)
        if public_key is None:
            raise AuthError.unauthorized("token signed with an unknown or retired key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED), "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError.unauthorized("token expired") from None
        except jwt.InvalidSignatureError:
            raise AuthError.unauthorized("token signature does not verify") from None
        except jwt.InvalidAudienceError:
            raise AuthError.unauthorized(f"token audience is not {self.audience}") from None
        except jwt.InvalidIssuerError:
            raise AuthError.unauthorized("token issuer is not this server") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError.unauthorized(f"token claim '{exc.claim}' is missing") from None
        except jwt.PyJWTError:
            raise AuthError.unauthorized("malformed or invalid token") from None
        return claims

    def verify(self, token: str, *, accept_expired: bool, accept_alg_none: bool) -> tuple[Principal, float]:
        """(principal, exp) of a token not yet in the cache; signed tokens are cached."""
        if accept_alg_none and _is_unsigned(token):
            # Deliberate hole (fault accept_alg_none): trust the claims without any signature. Not cached,
            # so clearing the fault closes the hole at once.
            try:
                claims = jwt.decode(token, options={"verify_signature": False})
            except jwt.PyJWTError:
                raise AuthError.unauthorized("malformed token") from None
            exp = claims.get("exp")
            return principal_from(claims), float(exp) if isinstance(exp, int | float) else float("inf")
        claims = self.decode(token, verify_exp=not accept_expired)
        entry = (principal_from(claims), float(claims["exp"]))
        if len(self.cache) >= self._cache_size:
            # RuntimeError/StopIteration: another thread changed the dict meanwhile; fine.
            with contextlib.suppress(RuntimeError, StopIteration):
                self.cache.pop(next(iter(self.cache)), None)
        self.cache[token] = entry
        return entry


def _is_unsigned(token: str) -> bool:
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        return False
    return isinstance(alg, str) and alg.lower() == "none"
