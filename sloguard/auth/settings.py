"""Plain inputs of the OAuth client the OAuth checks use (built from the ``auth:`` section)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sloguard.redact import masked

from .errors import AuthConfigError
from .styles import AudienceParam, ClientAuthMethod, OAuthClient

Grant = Literal["client_credentials", "password", "authorization_code"]
GRANTS: tuple[str, ...] = ("client_credentials", "password", "authorization_code")


@dataclass(frozen=True, repr=False)
class AuthSettings:
    """Plain auth inputs, built from the ``auth:`` section of the config."""

    issuer: str
    client_id: str | None = None
    client_secret: str | None = None
    scope: str | None = None
    username: str | None = None
    password: str | None = None
    pkce_client_id: str | None = None
    pkce_client_secret: str | None = None
    pkce_scope: str | None = None
    redirect_uri: str | None = None
    audience: str | None = None
    audience_param: AudienceParam = "resource"
    verify_tls: bool = True
    timeout_s: float = 10.0
    grant: Grant = "client_credentials"
    token_endpoint_auth_method: ClientAuthMethod = "client_secret_basic"
    password_client_id: str | None = None
    password_client_secret: str | None = None
    discovery_url: str | None = None
    issuer_pinned: bool = True  # False: accept the issuer the discovery_url document names
    token_url: str | None = None  # the token endpoint when there is no discovery document
    revocation_url: str | None = None
    introspection_url: str | None = None
    extra_params: dict[str, str] = field(default_factory=dict)
    pkce_login: str | None = None  # module:function of a login hook (walker.load_hook)
    config_dir: Path | None = None

    def __post_init__(self) -> None:
        if self.grant not in GRANTS:
            raise AuthConfigError(
                f"auth.grant {self.grant!r} is not supported; use one of {', '.join(GRANTS)}"
            )
        if self.timeout_s <= 0:
            raise AuthConfigError(f"auth.timeout_s must be > 0 (got {self.timeout_s})")

    def __repr__(self) -> str:
        return (
            f"AuthSettings(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"client_secret={masked(self.client_secret)!r}, scope={self.scope!r}, username={self.username!r}, "
            f"password={masked(self.password)!r}, pkce_client_id={self.pkce_client_id!r}, "
            f"pkce_client_secret={masked(self.pkce_client_secret)!r}, redirect_uri={self.redirect_uri!r}, "
            f"audience={self.audience!r}, verify_tls={self.verify_tls!r}, timeout_s={self.timeout_s!r}, "
            f"grant={self.grant!r})"
        )


__all__ = ["GRANTS", "AuthSettings", "Grant", "OAuthClient"]
