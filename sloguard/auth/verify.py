"""JWT verification against the issuer's JWKS: RS256/ES256 only, exp, aud and iss required."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

from sloguard.tls import client_tls

from ._protocol import one_line, status_error, transport_reason
from .errors import AuthConfigError, TokenError, TokenInvalid

log = logging.getLogger(__name__)

ALLOWED_JWT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256")


class JWTVerifier:
    """Verifies access tokens against the issuer's JWKS: RS256/ES256 only, ``exp``, ``aud`` and ``iss``.

    Keys are cached; an unknown ``kid`` triggers one JWKS refetch (key rotation), at most one per
    ``min_refetch_s`` so a flood of forged kids cannot turn into a flood of JWKS requests.
    """

    def __init__(
        self,
        jwks_uri: str,
        *,
        issuer: str,
        audience: str,
        http: httpx.AsyncClient | None = None,
        verify_tls: bool = True,
        timeout_s: float = 10.0,
        algorithms: tuple[str, ...] = ALLOWED_JWT_ALGORITHMS,
        leeway_s: float = 0.0,
        min_refetch_s: float = 1.0,
        negative_ttl_s: float = 30.0,
    ) -> None:
        unsupported = set(algorithms) - set(ALLOWED_JWT_ALGORITHMS)
        if unsupported:
            raise AuthConfigError(
                f"JWT algorithms {sorted(unsupported)} are not allowed; use RS256 and/or ES256"
            )
        self.jwks_uri = jwks_uri
        self.issuer = issuer
        self.audience = audience
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(verify=client_tls(verify_tls), timeout=timeout_s)
        self.timeout_s = timeout_s
        self.algorithms = algorithms
        self.leeway_s = leeway_s
        self.min_refetch_s = min_refetch_s
        self.negative_ttl_s = negative_ttl_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._missing: dict[str, float] = {}
        self._lock = asyncio.Lock()
        self.jwks_fetches = 0

    def __repr__(self) -> str:
        return f"JWTVerifier(jwks_uri={self.jwks_uri!r}, issuer={self.issuer!r}, audience={self.audience!r})"

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def refresh_keys(self) -> None:
        """Fetch the JWKS and keep the keys whose algorithm is allowed."""
        self.jwks_fetches += 1
        url = self.jwks_uri
        try:
            response = await self.http.get(
                url, timeout=self.timeout_s, headers={"Accept": "application/json"}
            )
        except httpx.TransportError as exc:
            raise TokenError(f"JWKS request to {url} failed: {transport_reason(exc)}", url=url) from None
        if response.status_code != 200:
            raise status_error("JWKS request", response)
        try:
            doc = response.json()
        except ValueError:
            raise TokenError(f"JWKS at {url} is not JSON", url=url, status=200) from None
        raw_keys = doc.get("keys") if isinstance(doc, dict) else None
        if not isinstance(raw_keys, list):
            raise TokenError(f"JWKS at {url} has no 'keys' list", url=url, status=200)
        keys: dict[str, jwt.PyJWK] = {}
        for raw in raw_keys:
            if (
                not isinstance(raw, dict)
                or raw.get("use", "sig") != "sig"
                or raw.get("kty") not in ("RSA", "EC")
            ):
                continue
            try:
                key = jwt.PyJWK(raw)
            except jwt.PyJWTError:
                continue
            if key.algorithm_name in self.algorithms:
                keys[str(key.key_id or "")] = key
        if not keys:
            raise TokenError(
                f"JWKS at {url} has no usable {'/'.join(self.algorithms)} signing key", url=url, status=200
            )
        self._keys = keys
        self._fetched_at = time.monotonic()
        self._missing.clear()
        log.debug("JWKS from %s: %d keys", url, len(keys))

    async def _key_for(self, kid: str | None) -> jwt.PyJWK:
        if not self._keys:
            async with self._lock:
                if not self._keys:
                    await self.refresh_keys()
        if kid is None:
            if len(self._keys) == 1:
                return next(iter(self._keys.values()))
            raise TokenInvalid(
                "unknown_kid", f"the token header has no kid and the JWKS has {len(self._keys)} keys"
            )
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            seen_missing = self._missing.get(kid)
            if seen_missing is None or time.monotonic() - seen_missing > self.negative_ttl_s:
                since = time.monotonic() - (self._fetched_at or 0.0)
                if since < self.min_refetch_s:
                    await asyncio.sleep(self.min_refetch_s - since)
                await self.refresh_keys()
                if kid in self._keys:
                    return self._keys[kid]
                self._missing[kid] = time.monotonic()
        raise TokenInvalid("unknown_kid", f"no key {one_line(kid, 80)!r} in the JWKS at {self.jwks_uri}")

    async def verify(
        self, token: str, *, audience: str | None = None, issuer: str | None = None
    ) -> dict[str, Any]:
        """The verified claims, or TokenInvalid naming why the token must be rejected."""
        audience = audience or self.audience
        issuer = issuer or self.issuer
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed", f"not a JWS compact token ({one_line(str(exc), 80)})") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenInvalid(
                "alg_not_allowed",
                f"algorithm {alg!r} is not allowed (accepted: {', '.join(self.algorithms)})",
            )
        kid = header.get("kid")
        key = await self._key_for(str(kid) if kid is not None else None)
        if key.algorithm_name != alg:
            raise TokenInvalid(
                "alg_not_allowed", f"header alg {alg} does not match key {kid!r} ({key.algorithm_name})"
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=audience,
                issuer=issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid("expired", "the token's exp is in the past") from None
        except jwt.InvalidAudienceError:
            raise TokenInvalid("wrong_audience", f"the token's aud does not include {audience!r}") from None
        except jwt.InvalidIssuerError:
            raise TokenInvalid("wrong_issuer", f"the token's iss is not {issuer!r}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenInvalid("missing_claim", f"the token has no {exc.claim!r} claim") from None
        except jwt.ImmatureSignatureError:
            raise TokenInvalid("not_yet_valid", "the token's nbf/iat is in the future") from None
        except jwt.InvalidSignatureError:
            raise TokenInvalid("bad_signature", f"the signature does not verify with key {kid!r}") from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid("malformed", one_line(str(exc), 120)) from None
        return claims
