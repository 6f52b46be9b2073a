"""The auth errors: a configuration that cannot work (a usage error) and failures at run time."""

from __future__ import annotations

from sloguard.errors import UsageError


class AuthConfigError(UsageError):
    """The auth configuration cannot work (issuer unreachable, bad discovery document, missing setting)."""


class AuthError(Exception):
    """An auth step failed at run time: a check failure, not a usage problem."""


class DiscoveryError(AuthError):
    """The authorization server's metadata could not be had: unreachable, missing or invalid."""


class LoginFailed(AuthError):
    """The login failed; ``reason`` says why in one line (never a secret). Remembered for the run."""

    def __init__(self, reason: str, cause: AuthError | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause = cause

    @property
    def status(self) -> int | None:
        return getattr(self.cause, "status", None)


class TokenError(AuthError):
    """An endpoint of the authorization server refused or failed a request.

    The message names the endpoint URL, the HTTP status and the OAuth error code; never a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str,
        status: int | None = None,
        error: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.error = error
        self.retry_after = retry_after


class TokenInvalid(AuthError):
    """A JWT failed verification; ``reason`` is a short stable code a check can assert on."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"JWT rejected ({reason}): {detail}")
        self.reason = reason
        self.detail = detail
