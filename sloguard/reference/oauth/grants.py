"""The token endpoint (every grant), revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..settings import PlatformSettings
from .clients import Client, ClientRegistry
from .codes import Codes
from .errors import AuthError, OAuthError
from .families import Families
from .revocation import RevocationList
from .throttle import LoginThrottle
from .tokens import AccessTokens
from .users import User, UserDirectory

GRANTS = ("authorization_code", "client_credentials", "password", "refresh_token")
# The client_id of tokens from the JSON login (the ATOM web app's own login, not an OAuth client).
FIRST_PARTY_CLIENT = "atom-web"
FIRST_PARTY_SCOPE = "read write"
MAX_USERNAME = 320


class LoginLocked(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError("invalid_request", f"missing parameter: {name}")
    return value


class TokenEndpoint:
    def __init__(
        self,
        settings: PlatformSettings,
        clients: ClientRegistry,
        users: UserDirectory,
        tokens: AccessTokens,
        families: Families,
        codes: Codes,
        throttle: LoginThrottle,
        revocations: RevocationList,
    ) -> None:
        self._settings = settings
        self._clients = clients
        self._users = users
        self._tokens = tokens
        self._families = families
        self._codes = codes
        self._throttle = throttle
        self._revocations = revocations

    def ttl_for(self, client: Client) -> int:
        return self._settings.short_token_ttl_s if client.short_lived else self._settings.access_token_ttl_s

    # -- users -------------------------------------------------------------------------------
    def login(self, username: str, password: str) -> User | None:
        """The user if the password is right; LoginLocked while the username is throttled."""
        if len(username) > MAX_USERNAME:
            return None
        retry = self._throttle.retry_after(username)
        if retry is not None:
            raise LoginLocked(retry)
        user = self._users.check_password(username, password)
        if user is None:
            self._throttle.failed(username)
        else:
            self._throttle.succeeded(username)
        return user

    def first_party(self, user: User) -> dict[str, Any]:
        """The JSON login's answer, shaped like the real ATOM's ``Token {access_token, token_type}``."""
        minted = self._tokens.mint(sub=user.id, client_id=FIRST_PARTY_CLIENT, scope=FIRST_PARTY_SCOPE,
                                   tenant=user.tenant, ttl_s=self._settings.access_token_ttl_s)
        return {"access_token": minted.token, "token_type": "bearer"}

    # -- the token endpoint ------------------------------------------------------------------
    def token(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        grant = _required(form, "grant_type")
        client = self._clients.authenticate(form, authorization)
        if grant not in GRANTS:
            raise OAuthError("unsupported_grant_type", f"grant_type must be one of: {', '.join(GRANTS)}")
        if grant not in client.grants:
            raise OAuthError("unauthorized_client", f"{client.client_id} may not use the {grant} grant")
        if grant == "client_credentials":
            scope = client.grant_scope(form.get("scope"), for_user=False)
            minted = self._tokens.mint(
                sub=client.client_id,
                client_id=client.client_id,
                scope=scope,
                tenant=client.tenant or "",
                ttl_s=self.ttl_for(client),
                audience=self._audience(form.get("resource")),
            )
            return self._response(client, minted.token, scope)
        if grant == "password":
            return self._password(client, form)
        if grant == "authorization_code":
            code = self._codes.redeem(
                _required(form, "code"), client, form.get("redirect_uri"), form.get("code_verifier")
            )
            user = self._user(code.user_id)
            return self._issue(client, user, code.scope, code.family_id, code.auth_time, code.nonce)
        refresh = self._families.use(_required(form, "refresh_token"), client.client_id)
        scope = refresh.scope
        if form.get("scope"):
            narrower = set(form["scope"].split())
            if not narrower <= set(refresh.scope.split()):
                raise OAuthError(
                    "invalid_scope",
                    f"a refreshed token may not have more scope than the grant: {refresh.scope}",
                )
            scope = " ".join(sorted(narrower))
        return self._issue(
            client,
            self._user(refresh.user_id),
            scope,
            refresh.family_id,
            refresh.auth_time,
            None,
            refresh_scope=refresh.scope,
        )

    def _audience(self, resource: str | None) -> str | None:
        """RFC 8707 resource indicator: a token for another API this server also issues for."""
        if not resource:
            return None
        allowed = (self._tokens.audience, *self._settings.other_audiences)
        if resource not in allowed:
            raise OAuthError("invalid_target", f"resource must be one of: {', '.join(allowed)}")
        return resource

    def _password(self, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        username, password = _required(form, "username"), _required(form, "password")
        scope = client.grant_scope(form.get("scope"), for_user=True)
        try:
            user = self.login(username, password)
        except LoginLocked as exc:
            raise OAuthError(
                "too_many_requests",
                f"too many failed logins for this username; retry after {exc.retry_after} s",
                429,
                {"Retry-After": str(exc.retry_after)},
            ) from None
        if user is None:
            raise OAuthError("invalid_grant", "invalid username or password")
        family_id = self._families.start(client.client_id, user.id)
        return self._issue(client, user, scope, family_id, int(time.time()), None)

    def _user(self, user_id: str) -> User:
        user = self._users.get(user_id)
        if user is None:
            raise OAuthError("invalid_grant", "the user of this grant no longer exists")
        return user

    def _issue(
        self,
        client: Client,
        user: User,
        scope: str,
        family_id: str,
        auth_time: int,
        nonce: str | None,
        refresh_scope: str | None = None,
    ) -> dict[str, Any]:
        ttl = self.ttl_for(client)
        minted = self._tokens.mint(sub=user.id, client_id=client.client_id, scope=scope, tenant=user.tenant, ttl_s=ttl)
        refresh = self._families.issue(
            family_id,
            minted,
            client_id=client.client_id,
            user_id=user.id,
            scope=refresh_scope or scope,
            auth_time=auth_time,
            with_refresh="refresh_token" in client.grants,
        )
        body = self._response(client, minted.token, scope)
        if refresh is not None:
            body["refresh_token"] = refresh
        if "openid" in scope.split():
            body["id_token"] = self._tokens.mint_id_token(
                sub=user.id,
                client_id=client.client_id,
                ttl_s=ttl,
                auth_time=auth_time,
                nonce=nonce,
                claims={
                    "email": user.email,
                    "email_verified": True,
                    "name": user.name,
                    "tenant": user.tenant,
                },
            )
        return body

    def _response(self, client: Client, token: str, scope: str) -> dict[str, Any]:
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.ttl_for(client),
            "scope": scope,
        }

    # -- revocation and introspection --------------------------------------------------------
    def _access_claims(self, token: str, verify_exp: bool) -> dict[str, Any] | None:
        if token.count(".") != 2:
            return None
        try:
            return self._tokens.decode(token, verify_exp=verify_exp)
        except AuthError:
            return None

    def revoke(self, form: Mapping[str, str], authorization: str | None) -> None:
        """RFC 7009: revoke an access or refresh token of this client; unknown tokens are fine."""
        client = self._clients.authenticate(form, authorization)
        token = _required(form, "token")
        claims = self._access_claims(token, verify_exp=False)
        if claims is not None:
            if claims["client_id"] != client.client_id:
                raise OAuthError("invalid_request", "the token was issued to another client")
            self._revocations.revoke_now(claims["jti"], float(claims["exp"]))
            return
        found = self._families.lookup(token)
        if found is not None:
            grant, _ = found
            if grant.client_id != client.client_id:
                raise OAuthError("invalid_request", "the token was issued to another client")
            self._families.revoke(grant.family_id)

    def introspect(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        """RFC 7662, for confidential clients; anything not currently valid is just inactive."""
        self._clients.authenticate(form, authorization, allow_public=False)
        token = _required(form, "token")
        claims = self._access_claims(token, verify_exp=True)
        if claims is not None:
            if claims["jti"] in self._revocations:
                return {"active": False}
            body = {
                "active": True,
                "token_type": "Bearer",
                **{k: claims[k] for k in ("scope", "client_id", "sub", "aud", "iss", "iat", "exp", "jti", "tenant")},
            }
            user = self._users.get(claims["sub"])
            if user is not None:
                body["username"] = user.email
            return body
        found = self._families.lookup(token)
        if found is not None and found[1]:
            grant = found[0]
            return {
                "active": True,
                "token_type": "refresh_token",
                "scope": grant.scope,
                "client_id": grant.client_id,
                "sub": grant.user_id,
                "exp": int(grant.expires_at),
                "iss": self._tokens.issuer,
            }
        return {"active": False}
