"""Hashing of the secrets the server stores: user passwords, client secrets, opaque tokens.

Passwords are low-entropy, so they get a slow, salted KDF: PBKDF2-SHA256. (Not scrypt: its 16 MiB
per hash, times the thread pool's concurrent logins, kept the server's memory near 1 GB after a
burst of logins, which would read as a leak in soak tests.) Client secrets are checked on
every token request and opaque tokens (codes, refresh tokens) are long random strings, so a fast
salted/unsalted SHA-256 is enough for them: nothing readable is ever stored.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os

KIND = "pbkdf2_sha256"
ITERATIONS = 100_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"{KIND}${ITERATIONS}${_b64(salt)}${_b64(key)}"


def is_current(stored: str) -> bool:
    return stored.startswith(f"{KIND}${ITERATIONS}$")


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, iterations, salt, key = stored.split("$")
        if kind != KIND or not 1 <= int(iterations) <= 10 * ITERATIONS:
            return False
        got = hashlib.pbkdf2_hmac("sha256", password.encode(), _unb64(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(got, _unb64(key))


@functools.cache
def dummy_password_hash() -> str:
    """Verified against when the username is unknown, so a miss costs as much as a wrong password."""
    return hash_password("not-a-real-password")


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    return f"sha256${_b64(salt)}${hashlib.sha256(salt + secret.encode()).hexdigest()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        kind, salt, digest = stored.split("$")
    except ValueError:
        return False
    got = hashlib.sha256(_unb64(salt) + secret.encode()).hexdigest()
    return kind == "sha256" and hmac.compare_digest(got, digest)


def token_digest(token: str) -> str:
    """The lookup key of an opaque token (authorization code, refresh token)."""
    return hashlib.sha256(token.encode()).hexdigest()
