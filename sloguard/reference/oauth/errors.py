"""The two error kinds of the authorization server: protocol errors and bearer-token rejections."""

from __future__ import annotations


class OAuthError(Exception):
    """An RFC 6749 §5.2 error of the token, revocation or introspection endpoint.

    Rendered as ``{"error", "error_description"}``; the description never contains a secret.
    """

    def __init__(
        self, error: str, description: str, status_code: int = 400, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status_code = status_code
        self.headers = headers or {}

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid_client(description: str) -> OAuthError:
    # RFC 6749 §5.2: 401 with a WWW-Authenticate challenge for the scheme the client may use.
    return OAuthError("invalid_client", description, 401, {"WWW-Authenticate": 'Basic realm="atom"'})


class AuthError(Exception):
    """A rejected bearer token: 401 (no/invalid token) or 403 (valid token, scope missing).

    ``headers`` carries the RFC 6750 ``WWW-Authenticate`` challenge the API must send back.
    """

    def __init__(self, status_code: int, error: str, detail: str, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.headers = headers

    @classmethod
    def unauthorized(cls, detail: str) -> AuthError:
        challenge = f'Bearer realm="atom-api", error="invalid_token", error_description="{detail}"'
        return cls(401, "invalid_token", detail, {"WWW-Authenticate": challenge})

    @classmethod
    def forbidden(cls, scope: str) -> AuthError:
        detail = f"the token lacks the '{scope}' scope"
        challenge = (
            f'Bearer realm="atom-api", error="insufficient_scope", error_description="{detail}", scope="{scope}"'
        )
        return cls(403, "insufficient_scope", detail, {"WWW-Authenticate": challenge})
