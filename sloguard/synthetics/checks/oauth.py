"""The suite's login, and OAuth flow checks against any standards-compliant provider.

"auth · login" carries the verdict on the suite's own login: when the identity provider is down or
the secret is wrong it is the one P0 AUTH_FAILURE, and every check that needs a token (these included)
is skipped with "no access token — <cause>". The OAuth checks read the provider's metadata and skip,
with the reason, what it does not offer (a grant, PKCE, introspection, JWT access tokens) — a missing
feature is never a P0. A positive flow failing is an auth-system failure (P0); a negative case
accepted (a reused code, a wrong verifier, a forged token) is a security breach (P0).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sloguard.auth import AuthConfigError, AuthError, Discovery, DiscoveryError, JSONLogin, Token, TokenError, is_jwt
from sloguard.severity import Rule

from ..context import NO_TOKEN, RunContext
from ..probe import CheckSpec, Probe, current_probe
from . import oauth_tokens as tokens
from .oauth_support import (
    Unsupported,
    accepted,
    accepted_by_api,
    confidential,
    expects_oauth,
    metadata,
    offered,
    refused,
    verified,
)

OAuthCheck = Callable[[RunContext, Probe], Awaitable[None]]


# ------------------------------------------------------------------------------------ the login


async def login(ctx: RunContext, spec: CheckSpec) -> None:
    """The suite's own login (the first task of the batch): its exchanges are this check's evidence."""
    probe = ctx.probe(spec)
    current_probe.set(probe)
    try:
        failure = await ctx.login_failure()
        if failure is not None:
            probe.fail(f"the suite cannot log in ({ctx.login.describe()}): {failure.removeprefix(NO_TOKEN)}",
                       Rule.AUTH_FAILURE)
            return
        token = await ctx.session.token()
        if token is not None:
            kind = "a JWT" if is_jwt(token.access_token) else "an opaque token"
            life = f", good for {token.lifetime_s:.0f} s" if token.lifetime_s else ""
            probe.note(f"logged in: {ctx.login.describe()}; the access token is {kind}{life}")
    finally:
        current_probe.set(None)


# ------------------------------------------------------------------------------------ grants


async def discovery(ctx: RunContext, probe: Probe) -> None:
    try:
        disc = await ctx.tokens.discovery()
    except DiscoveryError as exc:
        if not expects_oauth(ctx):
            raise Unsupported(f"the target publishes no OAuth discovery document ({exc})") from None
        probe.fail(str(exc), Rule.AUTH_FAILURE)
        return
    disc.endpoint("token_endpoint")
    if disc.issuer.rstrip("/") != ctx.config.issuer.rstrip("/") and ctx.config.auth.discovery_url is None:
        probe.fail(f"discovery names issuer {disc.issuer}, the config says {ctx.config.issuer}", Rule.AUTH_FAILURE)
    if not disc.jwks_uri:
        probe.note("the metadata names no jwks_uri: JWT access tokens cannot be verified")


async def client_credentials(ctx: RunContext, probe: Probe) -> None:
    confidential(ctx)
    offered(await metadata(ctx), "client_credentials")
    token = await ctx.tokens.client_credentials()
    await verified(ctx, probe, token)
    await accepted_by_api(probe, token, "a fresh client-credentials token")


def _user(ctx: RunContext) -> None:
    if ctx.config.auth.user is None:
        raise Unsupported("no test user configured (auth.user)")


async def _password_token(ctx: RunContext) -> Token:
    _user(ctx)
    offered(await metadata(ctx), "password")
    if not ctx.config.auth.client_id and ctx.config.auth.password_client is None:
        raise Unsupported("no OAuth client for the password grant (auth.client_id or auth.password_client)")
    return await ctx.tokens.password()


async def password(ctx: RunContext, probe: Probe) -> None:
    if isinstance(ctx.login, JSONLogin) and ctx.config.auth.client_id is None and ctx.config.auth.password_client \
            is None:
        raise Unsupported(f"the user logs in with a JSON login, not the OAuth password grant ({ctx.login.source})")
    token = await _password_token(ctx)
    await verified(ctx, probe, token)
    if not token.refresh_token:
        probe.note("the password grant returned no refresh token")


async def pkce_ready(ctx: RunContext) -> Discovery:
    auth = ctx.config.auth
    if auth.pkce is None or auth.user is None:
        raise Unsupported("no PKCE client and test user configured (auth.pkce, auth.user)")
    disc = await metadata(ctx)
    if not disc.authorization_endpoint:
        raise Unsupported(f"the provider's metadata ({disc.source_url}) names no authorization_endpoint")
    offered(disc, "authorization_code")
    if disc.offers_pkce("S256") is False:
        raise Unsupported(f"the provider does not support PKCE S256 (code_challenge_methods_supported: "
                          f"{', '.join(disc.code_challenge_methods_supported) or 'none'})")
    return disc


async def authorization_code(ctx: RunContext, probe: Probe) -> None:
    await pkce_ready(ctx)
    token = await ctx.tokens.authorization_code_flow()
    await verified(ctx, probe, token)
    await accepted_by_api(probe, token, "a token from the code flow")


async def user_token(ctx: RunContext) -> Token:
    """A token with a refresh token: the password grant where offered, else the code flow."""
    reasons: list[str] = []
    for grant in (_password_token, _code_token):
        try:
            token = await grant(ctx)
        except Unsupported as exc:
            reasons.append(str(exc))
            continue
        if token.refresh_token:
            return token
        reasons.append(f"the {token.grant.replace('_', ' ')} grant returned no refresh token")
    raise Unsupported("no refresh token to test: " + "; ".join(reasons))


async def _code_token(ctx: RunContext) -> Token:
    await pkce_ready(ctx)
    return await ctx.tokens.authorization_code_flow()


async def refresh_rotation(ctx: RunContext, probe: Probe) -> None:
    first = await user_token(ctx)
    offered(await metadata(ctx), "refresh_token")
    second = await ctx.tokens.refresh(first)
    if second.refresh_token == first.refresh_token:
        probe.note("refresh tokens are not rotated")
    await accepted_by_api(probe, second, "a refreshed access token")


async def refresh_reuse(ctx: RunContext, probe: Probe) -> None:
    first = await user_token(ctx)
    offered(await metadata(ctx), "refresh_token")
    second = await ctx.tokens.refresh(first)
    if second.refresh_token == first.refresh_token or first.refresh_token is None:
        raise Unsupported("refresh tokens are not rotated, so reuse cannot be detected")
    owner = ctx.tokens.owner(first)
    if await accepted(ctx.tokens.refresh(first.refresh_token, client=owner)):
        probe.fail("a used refresh token was accepted again (replay)", Rule.SECURITY_BREACH)
    if second.refresh_token and await accepted(ctx.tokens.refresh(second.refresh_token, client=owner)):
        probe.fail("after a replay, the rest of the token family still works", Rule.SECURITY_BREACH)


async def _any_token(ctx: RunContext) -> Token:
    """A token of the confidential client when there is one, else a user's token."""
    try:
        confidential(ctx)
        offered(await metadata(ctx), "client_credentials")
        return await ctx.tokens.client_credentials()
    except Unsupported:
        return await user_token(ctx)


async def _unsupported_type(call: Awaitable[Any]) -> bool:
    """True when the provider refuses the token's type by design (RFC 7009 2.2.1 unsupported_token_type)."""
    try:
        await call
    except TokenError as exc:
        if exc.error == "unsupported_token_type":
            return True
        raise
    return False


async def revocation(ctx: RunContext, probe: Probe) -> None:
    disc = await metadata(ctx)
    if not disc.revocation_endpoint:
        raise Unsupported(f"the provider's metadata ({disc.source_url}) names no revocation_endpoint "
                          "(set auth.revocation_url if it has one)")
    token = await _any_token(ctx)
    owner = ctx.tokens.owner(token)
    if not await _unsupported_type(ctx.tokens.revoke(token.access_token, "access_token", client=owner)):
        await refused(probe, token.authorization, "a revoked access token")
        if disc.introspection_endpoint and ctx.config.auth.client_secret is not None:
            info = await ctx.tokens.introspect(token.access_token, "access_token")
            if info.get("active"):
                probe.fail("introspection says a revoked token is active", Rule.SECURITY_BREACH)
        return
    if not token.refresh_token:
        raise Unsupported("the provider does not revoke access tokens (unsupported_token_type, allowed by RFC 7009) "
                          "and the token has no refresh token to revoke instead")
    await ctx.tokens.revoke(token.refresh_token, "refresh_token", client=owner)
    probe.note("access tokens cannot be revoked (unsupported_token_type): the refresh token was revoked instead")
    if await accepted(ctx.tokens.refresh(token.refresh_token, client=owner)):
        probe.fail("a revoked refresh token still issues tokens", Rule.SECURITY_BREACH)


async def introspection(ctx: RunContext, probe: Probe) -> None:
    disc = await metadata(ctx)
    if not disc.introspection_endpoint:
        raise Unsupported(f"the provider's metadata ({disc.source_url}) names no introspection_endpoint "
                          "(set auth.introspection_url if it has one)")
    confidential(ctx)
    token = await _any_token(ctx)
    subject, hint = token.access_token, "access_token"
    try:
        info = await ctx.tokens.introspect(subject, hint)
    except TokenError as exc:
        if exc.error != "unsupported_token_type" or not token.refresh_token:
            raise
        probe.note("the provider does not introspect access tokens (unsupported_token_type): the refresh token "
                   "was introspected instead")
        info = await ctx.tokens.introspect(token.refresh_token, "refresh_token")
    if info.get("active") is not True:
        probe.fail("introspection says a fresh token is inactive", Rule.AUTH_FAILURE)
    bogus = await ctx.tokens.introspect("sloguard-not-a-token-" + secrets.token_hex(8))
    if bogus.get("active"):
        probe.fail("introspection says a made-up token is active", Rule.SECURITY_BREACH)


async def wrong_verifier(ctx: RunContext, probe: Probe) -> None:
    await pkce_ready(ctx)
    grant = await ctx.tokens.authorize_code()
    exchange = ctx.tokens.exchange_code(grant.code, "wrong-" + secrets.token_urlsafe(40), grant.redirect_uri)
    if await accepted(exchange):
        probe.fail("a code was exchanged with the wrong PKCE verifier", Rule.SECURITY_BREACH)


async def reused_code(ctx: RunContext, probe: Probe) -> None:
    await pkce_ready(ctx)
    grant = await ctx.tokens.authorize_code()
    await ctx.tokens.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri)
    if await accepted(ctx.tokens.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri)):
        probe.fail("an authorization code was exchanged twice", Rule.SECURITY_BREACH)


async def wrong_redirect(ctx: RunContext, probe: Probe) -> None:
    await pkce_ready(ctx)
    await tokens.wrong_redirect(ctx, probe)


CHECKS: dict[str, tuple[str, Rule, OAuthCheck]] = {
    "discovery": ("discovery document", Rule.AUTH_FAILURE, discovery),
    "client-credentials": ("client credentials grant", Rule.AUTH_FAILURE, client_credentials),
    "password": ("password grant", Rule.AUTH_FAILURE, password),
    "authorization-code": ("authorization code + PKCE", Rule.AUTH_FAILURE, authorization_code),
    "refresh-rotation": ("refresh token rotation", Rule.AUTH_FAILURE, refresh_rotation),
    "refresh-reuse": ("refresh token reuse is refused", Rule.SECURITY_BREACH, refresh_reuse),
    "revocation": ("revoked token is refused", Rule.SECURITY_BREACH, revocation),
    "introspection": ("introspection", Rule.AUTH_FAILURE, introspection),
    "wrong-verifier": ("wrong PKCE verifier is refused", Rule.SECURITY_BREACH, wrong_verifier),
    "reused-code": ("reused authorization code is refused", Rule.SECURITY_BREACH, reused_code),
    "wrong-redirect": ("unregistered redirect URI is refused", Rule.SECURITY_BREACH, wrong_redirect),
    "expired-token": ("expired token is refused", Rule.SECURITY_BREACH, tokens.expired_token),
    "tampered-signature": ("tampered signature is refused", Rule.SECURITY_BREACH, tokens.tampered_signature),
    "forged-signature": ("token from an unknown key is refused", Rule.SECURITY_BREACH, tokens.forged_signature),
    "alg-none": ("alg: none is refused", Rule.SECURITY_BREACH, tokens.alg_none),
    "wrong-audience": ("token for another audience is refused", Rule.SECURITY_BREACH, tokens.wrong_audience),
    "missing-scope": ("missing scope is refused (403)", Rule.SECURITY_BREACH, tokens.missing_scope),
}


async def run(ctx: RunContext, spec: CheckSpec, name: str) -> None:
    probe = ctx.probe(spec)
    current_probe.set(probe)
    check = CHECKS[name][2]
    try:
        await check(ctx, probe)
    except Unsupported as exc:
        probe.skip(str(exc))
    except AuthConfigError as exc:
        probe.skip(str(exc))
    except DiscoveryError as exc:
        probe.skip(f"no OAuth authorization server metadata: {exc}")
    except AuthError as exc:
        status = getattr(exc, "status", None)
        probe.fail(f"{exc}" + (f" (HTTP {status})" if status and f"HTTP {status}" not in str(exc) else ""),
                   Rule.AUTH_FAILURE)
    finally:
        current_probe.set(None)
    if probe.failures or probe.undecided is not None:
        # Asked only now, so the checks start with the rest of the batch instead of waiting for the
        # suite's login; but when that login failed, it is the one root cause: "auth · login" carries it.
        failure = await ctx.login_failure()
        if failure is not None:
            probe.findings.clear()
            probe.undecided = None
            probe.skip(failure)
