"""The RS256 signing keys: generation, rotation, the JWKS, and sharing them between workers.

Private keys are kept in SQLite as PEM so they survive a restart and every worker signs with the
same key. After a rotation the old key is still served (and accepted) until every token it signed
has expired: rotation time + the longest access-token lifetime.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from .store import Store

COUNTER = "keys"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey
    jwk: dict[str, Any]
    created_at: float
    retired_at: float | None


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint, used as the kid: stable and derived from the key itself."""
    canonical = json.dumps({"e": jwk["e"], "kty": "RSA", "n": jwk["n"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip("=")


def _load(kid: str, pem: str, created_at: float, retired_at: float | None) -> SigningKey:
    private_key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise TypeError(f"signing key {kid} in the database is not an RSA key")
    public_key = private_key.public_key()
    jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
    return SigningKey(kid, private_key, public_key, jwk, created_at, retired_at)


def _new_pem() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return _thumbprint(RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)), pem


class KeyRing:
    def __init__(self, store: Store, max_token_ttl_s: Callable[[], float]) -> None:
        self._store = store
        self._max_ttl = max_token_ttl_s
        self._lock = threading.Lock()
        self._keys: dict[str, SigningKey] = {}
        self._active: SigningKey | None = None
        self._version = -1
        if store.one("SELECT 1 FROM oauth_keys WHERE retired_at IS NULL") is None:
            kid, pem = _new_pem()  # generated outside the transaction: other workers wait on its lock
            with store.transaction() as conn:
                if conn.execute("SELECT 1 FROM oauth_keys WHERE retired_at IS NULL").fetchone() is None:
                    conn.execute("INSERT INTO oauth_keys VALUES (?, ?, ?, NULL)", (kid, pem, time.time()))
                    store.bump(conn, COUNTER)
        self.reload()

    def reload(self, force: bool = False) -> None:
        """Re-read the keys if another process changed them (cheap when nothing changed)."""
        version = self._store.counter(COUNTER)
        if version == self._version and not force:
            return
        rows = self._store.all("SELECT kid, private_pem, created_at, retired_at FROM oauth_keys ORDER BY created_at")
        with self._lock:
            keys = {}
            for kid, pem, created_at, retired_at in rows:
                old = self._keys.get(kid)
                keys[kid] = (
                    _load(kid, pem, created_at, retired_at)
                    if old is None
                    else dataclasses.replace(old, retired_at=retired_at)
                )
            current = [k for k in keys.values() if k.retired_at is None]
            self._keys = keys
            self._active = current[-1] if current else self._active
            self._version = version

    def active(self) -> SigningKey:
        assert self._active is not None, "no signing key: the key table is empty"
        return self._active

    def _served(self, key: SigningKey, now: float) -> bool:
        return key.retired_at is None or now < key.retired_at + self._max_ttl()

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        key = self._keys.get(kid)
        return key.public_key if key is not None and self._served(key, time.time()) else None

    def knows(self, kid: str) -> bool:
        return kid in self._keys

    def served_kids(self) -> list[str]:
        now = time.time()
        return [k.kid for k in self._keys.values() if self._served(k, now)]

    def jwks(self) -> dict[str, Any]:
        now = time.time()
        return {"keys": [dict(k.jwk) for k in self._keys.values() if self._served(k, now)]}

    def rotate(self) -> SigningKey:
        """A new signing key; the previous ones retire now and are dropped once their tokens expired."""
        kid, pem = _new_pem()
        now = time.time()
        with self._store.transaction() as conn:
            conn.execute("UPDATE oauth_keys SET retired_at = ? WHERE retired_at IS NULL", (now,))
            conn.execute("INSERT INTO oauth_keys VALUES (?, ?, ?, NULL)", (kid, pem, now))
            # Keys no token can still need: forget the private key altogether.
            conn.execute(
                "DELETE FROM oauth_keys WHERE retired_at IS NOT NULL AND retired_at < ?",
                (now - self._max_ttl(),),
            )
            self._store.bump(conn, COUNTER)
        self.reload()
        return self.active()
