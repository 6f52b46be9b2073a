"""The authorization endpoint's request validation, authorization codes and PKCE (RFC 7636).

Errors about the client or the redirect URI are shown to the user (never redirected: the URI is
not trusted); every other error is sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from .clients import Client, ClientRegistry
from .errors import OAuthError
from .families import Families
from .passwords import token_digest
from .store import Store

CODE_TTL_S = 60
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url(SHA-256), no padding
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class PageError(Exception):
    """Shown as a 400 page: the client or redirect URI cannot be trusted with a redirect."""


class RedirectError(Exception):
    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    redirect_given: bool
    scope: str
    state: str | None
    challenge: str | None
    nonce: str | None

    def redirect(self, **params: str) -> str:
        if self.state is not None:
            params["state"] = self.state
        sep = "&" if "?" in self.redirect_uri else "?"
        return f"{self.redirect_uri}{sep}{urlencode(params)}"

    def error(self, error: str, description: str) -> RedirectError:
        return RedirectError(self.redirect(error=error, error_description=description))


@dataclass(frozen=True)
class CodeGrant:
    user_id: str
    scope: str
    nonce: str | None
    auth_time: int
    family_id: str


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


def validate(params: Mapping[str, str], clients: ClientRegistry) -> AuthorizationRequest:
    client = clients.get(params.get("client_id"))
    if client is None:
        raise PageError("unknown or missing client_id")
    given = params.get("redirect_uri")
    if given is not None and given not in client.redirect_uris:
        raise PageError(f"redirect_uri is not registered for {client.client_id} (it must match exactly)")
    if given is None and len(client.redirect_uris) != 1:
        raise PageError(f"redirect_uri is required for {client.client_id}")
    redirect_uri = given if given is not None else client.redirect_uris[0]
    req = AuthorizationRequest(
        client,
        redirect_uri,
        given is not None,
        "",
        params.get("state"),
        params.get("code_challenge"),
        params.get("nonce"),
    )
    if "authorization_code" not in client.grants:
        raise req.error("unauthorized_client", f"{client.client_id} may not use the authorization code grant")
    if params.get("response_type") != "code":
        raise req.error("unsupported_response_type", "response_type must be code")
    try:
        scope = client.grant_scope(params.get("scope"), for_user=True)
    except OAuthError as exc:
        raise req.error(exc.error, exc.description) from None
    method = params.get("code_challenge_method")
    if req.challenge is None:
        if method is not None:
            raise req.error("invalid_request", "code_challenge_method given without code_challenge")
        if client.public:
            raise req.error("invalid_request", "PKCE required: send code_challenge with code_challenge_method=S256")
    else:
        if method != "S256":
            raise req.error("invalid_request", "code_challenge_method must be S256 (plain is not supported)")
        if not _CHALLENGE.match(req.challenge):
            raise req.error(
                "invalid_request",
                "code_challenge must be the 43-character base64url SHA-256 of the code_verifier",
            )
    return AuthorizationRequest(client, redirect_uri, given is not None, scope, req.state, req.challenge, req.nonce)


class Codes:
    def __init__(self, store: Store, families: Families) -> None:
        self._store = store
        self._families = families

    def issue(self, req: AuthorizationRequest, user_id: str) -> str:
        code = secrets.token_urlsafe(32)
        now = time.time()
        self._store.run(
            "INSERT INTO oauth_codes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                token_digest(code),
                req.client.client_id,
                user_id,
                req.redirect_uri,
                int(req.redirect_given),
                req.scope,
                req.challenge,
                req.nonce,
                int(now),
                now + CODE_TTL_S,
            ),
        )
        return code

    def redeem(self, code: str, client: Client, redirect_uri: str | None, verifier: str | None) -> CodeGrant:
        """Spend a code once; a second use also revokes what the first one issued (RFC 6749 §4.1.2)."""
        digest = token_digest(code)
        row = self._store.one(
            "SELECT client_id, user_id, redirect_uri, redirect_given, scope, challenge, nonce, auth_time, "
            "expires_at, used_at, family_id FROM oauth_codes WHERE code_hash = ?",
            (digest,),
        )
        if row is None:
            raise OAuthError("invalid_grant", "unknown authorization code")
        (
            client_id,
            user_id,
            code_redirect,
            redirect_given,
            scope,
            challenge,
            nonce,
            auth_time,
            expires_at,
            used_at,
            family_id,
        ) = row
        if client_id != client.client_id:
            raise OAuthError("invalid_grant", "the authorization code was issued to another client")
        if used_at is not None:
            if family_id is not None:
                self._families.revoke(family_id)
            raise OAuthError(
                "invalid_grant", "authorization code already used: the tokens issued from it are now revoked"
            )
        if expires_at <= time.time():
            raise OAuthError("invalid_grant", "the authorization code expired")
        if (redirect_given or redirect_uri is not None) and redirect_uri != code_redirect:
            raise OAuthError("invalid_grant", "redirect_uri does not match the one of the authorization request")
        if challenge is not None:
            if verifier is None:
                raise OAuthError("invalid_grant", "code_verifier required (the request used PKCE)")
            if not _VERIFIER.match(verifier):
                raise OAuthError("invalid_grant", "code_verifier must be 43-128 characters of [A-Za-z0-9._~-]")
            if not hmac.compare_digest(s256(verifier), challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        elif verifier is not None:
            raise OAuthError("invalid_grant", "code_verifier given but the authorization request had no code_challenge")
        family_id = self._families.start(client.client_id, user_id)
        claimed = self._store.run(
            "UPDATE oauth_codes SET used_at = ?, family_id = ? WHERE code_hash = ? AND used_at IS NULL",
            (time.time(), family_id, digest),
        )
        if claimed != 1:  # another request spent it a moment ago: a replay, so revoke both grants
            self._families.revoke(family_id)
            winner = self._store.one("SELECT family_id FROM oauth_codes WHERE code_hash = ?", (digest,))
            if winner is not None and winner[0] is not None:
                self._families.revoke(winner[0])
            raise OAuthError("invalid_grant", "authorization code already used")
        return CodeGrant(user_id, scope, nonce, auth_time, family_id)

    def prune(self) -> None:
        self._store.run("DELETE FROM oauth_codes WHERE expires_at < ?", (time.time() - 86_400,))
