"""The registered OAuth clients (docs/reference-platform.md) and client authentication.

Clients authenticate with client_secret_basic or client_secret_post (RFC 6749 §2.3.1); the
public SPA client only names itself with ``client_id``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote_plus

from .errors import OAuthError, invalid_client
from .passwords import hash_secret, verify_secret
from .store import Store

REDIRECT_URI = "http://127.0.0.1:8765/callback"
USER_GRANTS = frozenset({"password", "authorization_code", "refresh_token"})
OIDC_SCOPES = frozenset({"openid", "profile", "email"})


@dataclass(frozen=True)
class Client:
    client_id: str
    name: str
    public: bool
    grants: frozenset[str]
    scopes: frozenset[str]
    tenant: str | None  # None: tokens take the user's tenant
    redirect_uris: tuple[str, ...] = ()
    short_lived: bool = False  # tokens live settings.short_token_ttl_s (for expired-token checks)
    secret_hash: str | None = None

    def allowed_scopes(self, for_user: bool) -> frozenset[str]:
        """OIDC scopes are open to grants that involve a user; API scopes are the client's."""
        return self.scopes | OIDC_SCOPES if for_user else self.scopes

    def grant_scope(self, requested: str | None, for_user: bool) -> str:
        """The scope to grant (space-separated, sorted); all of the client's API scopes by default."""
        if requested is None or not requested.strip():
            return " ".join(sorted(self.scopes))
        wanted = set(requested.split())
        extra = wanted - self.allowed_scopes(for_user)
        if extra:
            shown = ", ".join(sorted(s[:40] for s in extra)[:5])
            raise OAuthError(
                "invalid_scope",
                f"scope not allowed for {self.client_id}: {shown}; allowed: "
                f"{' '.join(sorted(self.allowed_scopes(for_user)))}",
            )
        return " ".join(sorted(wanted))


def _c(
    client_id: str,
    name: str,
    grants: str,
    scopes: str,
    tenant: str | None,
    *,
    public: bool = False,
    redirect: bool = False,
    short: bool = False,
) -> tuple[Client, str | None]:
    secret = None if public else f"{client_id}-secret"
    client = Client(
        client_id,
        name,
        public,
        frozenset(grants.split()),
        frozenset(scopes.split()),
        tenant,
        (REDIRECT_URI,) if redirect else (),
        short,
    )
    return client, secret


SEED_CLIENTS: list[tuple[Client, str | None]] = [
    _c(
        "sloguard-ci",
        "sloguard CI",
        "client_credentials password authorization_code refresh_token",
        "read write",
        "acme",
        redirect=True,
    ),
    _c(
        "sloguard-spa",
        "sloguard single-page app",
        "authorization_code refresh_token",
        "read write",
        None,
        public=True,
        redirect=True,
    ),
    _c("sloguard-admin", "sloguard admin", "client_credentials", "read write admin", "acme"),
    _c("sloguard-readonly", "sloguard read-only", "client_credentials", "read", "acme"),
    _c("sloguard-globex", "sloguard for Globex", "client_credentials", "read write", "globex"),
    _c("sloguard-short", "sloguard short-lived tokens", "client_credentials", "read", "acme", short=True),
]


class ClientRegistry:
    def __init__(self, store: Store) -> None:
        present = {row[0] for row in store.all("SELECT client_id FROM oauth_clients")}
        missing = [(c, s) for c, s in SEED_CLIENTS if c.client_id not in present]
        if missing:
            with store.transaction() as conn:
                for c, secret in missing:
                    conn.execute(
                        "INSERT OR IGNORE INTO oauth_clients VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            c.client_id,
                            c.name,
                            hash_secret(secret) if secret else None,
                            int(c.public),
                            " ".join(sorted(c.grants)),
                            " ".join(sorted(c.scopes)),
                            c.tenant,
                            " ".join(c.redirect_uris),
                        ),
                    )
        short = {c.client_id for c, _ in SEED_CLIENTS if c.short_lived}
        self._clients: dict[str, Client] = {}
        for cid, name, secret_hash, public, grants, scopes, tenant, uris in store.all(
            "SELECT client_id, name, secret_hash, public, grants, scopes, tenant, redirect_uris FROM oauth_clients"
        ):
            self._clients[cid] = Client(
                cid,
                name,
                bool(public),
                frozenset(grants.split()),
                frozenset(scopes.split()),
                tenant,
                tuple(uris.split()),
                cid in short,
                secret_hash,
            )

    def get(self, client_id: str | None) -> Client | None:
        return self._clients.get(client_id) if client_id else None

    def authenticate(self, form: Mapping[str, str], authorization: str | None, *, allow_public: bool = True) -> Client:
        """The client making a token/revocation/introspection request; OAuthError if unproven."""
        basic = _basic(authorization)
        form_id, form_secret = form.get("client_id"), form.get("client_secret")
        if basic is not None:
            if form_secret is not None:
                raise OAuthError(
                    "invalid_request",
                    "use one client authentication method, not both HTTP Basic and client_secret in the body",
                )
            client_id, secret_given = basic
            secret: str | None = secret_given
            if form_id is not None and form_id != client_id:
                raise OAuthError("invalid_request", "client_id in the body differs from the HTTP Basic client")
        elif form_id:
            client_id, secret = form_id, form_secret
        else:
            raise invalid_client(
                "client authentication required: send HTTP Basic credentials "
                "(client_secret_basic) or client_id and client_secret in the form"
            )
        client = self._clients.get(client_id)
        if client is None:
            raise invalid_client("unknown client or wrong client secret")
        if client.public:
            if secret:
                raise invalid_client(f"{client_id} is a public client and has no secret; send only client_id")
            if not allow_public:
                raise invalid_client("this endpoint needs a confidential client's credentials")
            return client
        if not secret or client.secret_hash is None or not verify_secret(secret, client.secret_hash):
            raise invalid_client("unknown client or wrong client secret")
        return client


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_client("malformed HTTP Basic credentials: expected base64(client_id:client_secret)") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        raise invalid_client("malformed HTTP Basic credentials: expected base64(client_id:client_secret)")
    return unquote_plus(client_id), unquote_plus(secret)
