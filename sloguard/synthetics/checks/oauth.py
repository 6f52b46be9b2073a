"""OAuth flow checks: each grant works, and each attack on the flows is refused.

Positive flows failing is an auth-system failure (P0); a negative case accepted (a reused code,
a wrong verifier, an expired or forged token) is a security breach (P0).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from sloguard.auth import AuthConfigError, AuthError, Token, TokenError
from sloguard.catalog import Entry
from sloguard.severity import Rule

from ..context import RunContext
from ..probe import CheckSpec, Probe, current_probe
from .security import forged_token, tampered, unsigned_token

OAuthCheck = Callable[[RunContext, Probe], Awaitable[None]]


def _readable(ctx: RunContext) -> list[Entry]:
    """Cheap protected GETs without path parameters that the suite's scopes allow."""
    if ctx.catalog is None:
        return []
    return [e for kind in ("list", "search", "get") for e in ctx.catalog
            if e.kind == kind and e.method == "GET" and e.auth.required and "{" not in e.path
            and not ctx.missing_scopes(e) and not any(p.required for p in e.parameters if p.location == "query")]


async def protected_read(ctx: RunContext) -> Entry | None:
    """A protected GET that answers 200 to the suite's own valid token, to try other tokens on.

    Checking the operation first means a refused forged token is evidence about the token, not about
    an integration that happens to be down.
    """
    if ctx.token_probe_target is not None:
        return ctx.token_probe_target if isinstance(ctx.token_probe_target, Entry) else None
    async with ctx.token_probe_lock:
        if ctx.token_probe_target is None:
            found: Entry | bool = False
            try:
                headers = {"Authorization": await ctx.default_authorization()}
            except Exception:  # no token: the grant checks report why
                headers = {}
            for entry in _readable(ctx)[:20] if headers else []:
                async with ctx.limiter:
                    response, _ = await ctx.client.request("GET", ctx.url(entry.path), headers=headers)
                if response is not None and response.status_code == 200:
                    found = entry
                    break
            ctx.token_probe_target = found
    return ctx.token_probe_target if isinstance(ctx.token_probe_target, Entry) else None


def protected_write(ctx: RunContext) -> Entry | None:
    """A write operation to try a read-only token on (with a body that cannot create anything)."""
    if ctx.catalog is None:
        return None
    for entry in ctx.catalog:
        if entry.kind == "delete" and entry.auth.required:
            return entry
    return None


async def _use(probe: Probe, authorization: str, *, expect: set[int]) -> int | None:
    entry = await protected_read(probe.ctx)
    if entry is None:
        probe.fail("no protected read operation answered 200 to the suite's own token, so other tokens "
                   "cannot be judged", Rule.AUTH_FAILURE)
        return None
    response = await probe.call("GET", entry.path, expect=expect, auth=authorization, measure=False, retry=False)
    return response.status_code if response is not None else None


async def _refused(probe: Probe, authorization: str, what: str) -> None:
    status = await _use(probe, authorization, expect={401})
    if status is None:
        return
    if 200 <= status < 300:
        probe.fail(f"{what} was accepted by the API ({status})", Rule.SECURITY_BREACH)
    elif status != 401:
        probe.fail(f"{what} answered {status}, expected 401", Rule.OPERATION_FAILED)


async def discovery(ctx: RunContext, probe: Probe) -> None:
    disc = await ctx.tokens.discovery()
    for name in ("token_endpoint", "jwks_uri"):
        disc.endpoint(name)
    if disc.issuer.rstrip("/") != ctx.config.issuer.rstrip("/"):
        probe.fail(f"discovery names issuer {disc.issuer}, the config says {ctx.config.issuer}", Rule.AUTH_FAILURE)


async def client_credentials(ctx: RunContext, probe: Probe) -> None:
    token = await ctx.tokens.client_credentials()
    await _verified(ctx, probe, token.access_token)
    status = await _use(probe, token.authorization, expect={200})
    if status is not None and status != 200:
        probe.fail(f"a fresh client-credentials token was refused by the API ({status})", Rule.AUTH_FAILURE)


async def _verified(ctx: RunContext, probe: Probe, access_token: str) -> None:
    audience = ctx.config.auth.audience
    if not audience:
        probe.note("auth.audience is not set: the token's signature, exp and iss were checked, not its aud")
        return
    verifier = await ctx.tokens.verifier(audience)
    await verifier.verify(access_token)


async def password(ctx: RunContext, probe: Probe) -> None:
    if ctx.config.auth.user is None:
        probe.skip("no test user configured (auth.user)")
        return
    token = await ctx.tokens.password()
    await _verified(ctx, probe, token.access_token)
    if not token.refresh_token:
        probe.note("the password grant returned no refresh token")


async def authorization_code(ctx: RunContext, probe: Probe) -> None:
    if not _pkce_ready(ctx, probe):
        return
    token = await ctx.tokens.authorization_code_flow()
    await _verified(ctx, probe, token.access_token)
    status = await _use(probe, token.authorization, expect={200})
    if status is not None and status != 200:
        probe.fail(f"a token from the code flow was refused by the API ({status})", Rule.AUTH_FAILURE)


def _pkce_ready(ctx: RunContext, probe: Probe) -> bool:
    if ctx.config.auth.pkce is None or ctx.config.auth.user is None:
        probe.skip("no PKCE client and test user configured (auth.pkce, auth.user)")
        return False
    return True


async def _refreshed(ctx: RunContext, probe: Probe) -> tuple[Token, Token] | None:
    """A password-grant token and the one its refresh token was exchanged for (None: skipped)."""
    if ctx.config.auth.user is None:
        probe.skip("no test user configured (auth.user)")
        return None
    first = await ctx.tokens.password()
    if not first.refresh_token:
        probe.skip("the platform issues no refresh tokens")
        return None
    return first, await ctx.tokens.refresh(first.refresh_token)


async def refresh_rotation(ctx: RunContext, probe: Probe) -> None:
    pair = await _refreshed(ctx, probe)
    if pair is None:
        return
    first, second = pair
    if second.refresh_token == first.refresh_token:
        probe.note("refresh tokens are not rotated")
    status = await _use(probe, second.authorization, expect={200})
    if status is not None and status != 200:
        probe.fail(f"a refreshed access token was refused ({status})", Rule.AUTH_FAILURE)


async def refresh_reuse(ctx: RunContext, probe: Probe) -> None:
    pair = await _refreshed(ctx, probe)
    if pair is None:
        return
    first, second = pair
    if second.refresh_token == first.refresh_token or first.refresh_token is None:
        probe.skip("refresh tokens are not rotated, so reuse cannot be detected")
        return
    if await _accepted(ctx.tokens.refresh(first.refresh_token)):
        probe.fail("a used refresh token was accepted again (replay)", Rule.SECURITY_BREACH)
    if second.refresh_token and await _accepted(ctx.tokens.refresh(second.refresh_token)):
        probe.fail("after a replay, the rest of the token family still works", Rule.SECURITY_BREACH)


async def _accepted(call: Awaitable[Any]) -> bool:
    try:
        await call
    except TokenError as exc:
        if exc.status is not None and exc.status >= 500:
            raise
        return False
    return True


async def revocation(ctx: RunContext, probe: Probe) -> None:
    token = await ctx.tokens.client_credentials()
    await ctx.tokens.revoke(token.access_token, "access_token")
    await _refused(probe, token.authorization, "a revoked access token")
    info = await ctx.tokens.introspect(token.access_token, "access_token")
    if info.get("active"):
        probe.fail("introspection says a revoked token is active", Rule.SECURITY_BREACH)


async def introspection(ctx: RunContext, probe: Probe) -> None:
    token = await ctx.tokens.client_credentials()
    info = await ctx.tokens.introspect(token.access_token, "access_token")
    if info.get("active") is not True:
        probe.fail("introspection says a fresh token is inactive", Rule.AUTH_FAILURE)
    bogus = await ctx.tokens.introspect("sloguard-not-a-token-" + secrets.token_hex(8))
    if bogus.get("active"):
        probe.fail("introspection says a made-up token is active", Rule.SECURITY_BREACH)


async def wrong_verifier(ctx: RunContext, probe: Probe) -> None:
    if not _pkce_ready(ctx, probe):
        return
    grant = await ctx.tokens.authorize_code()
    exchange = ctx.tokens.exchange_code(grant.code, "wrong-" + secrets.token_urlsafe(40), grant.redirect_uri)
    if await _accepted(exchange):
        probe.fail("a code was exchanged with the wrong PKCE verifier", Rule.SECURITY_BREACH)


async def reused_code(ctx: RunContext, probe: Probe) -> None:
    if not _pkce_ready(ctx, probe):
        return
    grant = await ctx.tokens.authorize_code()
    await ctx.tokens.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri)
    if await _accepted(ctx.tokens.exchange_code(grant.code, grant.code_verifier, grant.redirect_uri)):
        probe.fail("an authorization code was exchanged twice", Rule.SECURITY_BREACH)


async def wrong_redirect(ctx: RunContext, probe: Probe) -> None:
    if not _pkce_ready(ctx, probe):
        return
    evil = "http://127.0.0.1:9/sloguard-not-registered"
    try:
        await ctx.tokens.authorize_code(redirect_uri=evil)
    except TokenError as exc:
        if exc.error == "unexpected_redirect" or (exc.status is not None and exc.status >= 500):
            raise
        return
    probe.fail("the authorization server redirected a code to an unregistered redirect URI", Rule.SECURITY_BREACH)


async def expired_token(ctx: RunContext, probe: Probe) -> None:
    short = ctx.config.auth.short_lived_client
    if short is None:
        probe.skip("no short-lived client configured (auth.short_lived_client)")
        return
    secret = short.client_secret.get_secret_value() if short.client_secret else None
    client = ctx.tokens.client("client_credentials", short.client_id, secret)
    token = await ctx.tokens.client_credentials(client=client)
    # Wait until just past the token's own exp claim (the server's clock), not the client's estimate.
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    expires = float(claims.get("exp") or token.expires_at or time.time())
    wait = expires + ctx.config.auth.expiry_leeway_s - time.time() + 0.25
    if wait > 30:
        probe.skip(f"the short-lived client's token is good for {wait:.0f} s more (lifetime + "
                   "auth.expiry_leeway_s); the check waits at most 30 s")
        return
    await asyncio.sleep(max(wait, 0))
    await _refused(probe, token.authorization, "an expired access token")


async def tampered_signature(ctx: RunContext, probe: Probe) -> None:
    token = await ctx.tokens.client_credentials()
    await _refused(probe, f"Bearer {tampered(token.access_token)}", "a token with a tampered signature")


async def alg_none(ctx: RunContext, probe: Probe) -> None:
    disc = await ctx.tokens.discovery()
    await _refused(probe, f"Bearer {unsigned_token(disc.issuer, ctx.config.auth.audience)}",
                   "an unsigned token (alg: none)")


async def forged_signature(ctx: RunContext, probe: Probe) -> None:
    disc = await ctx.tokens.discovery()
    await _refused(probe, f"Bearer {forged_token(disc.issuer, ctx.config.auth.audience, None)}",
                   "a token signed by an unknown key")


async def wrong_audience(ctx: RunContext, probe: Probe) -> None:
    other = ctx.config.auth.foreign_audience
    if not other:
        probe.skip("no second audience configured (auth.foreign_audience): a correctly signed token for "
                   "another API is needed")
        return
    client = ctx.tokens.client("client_credentials")
    data = {"grant_type": "client_credentials", "resource": other}
    response = await ctx.tokens.raw_token_request(data, client.httpx_auth())
    token = response.json().get("access_token") if response.status_code == 200 else None
    if not token:
        probe.skip(f"the authorization server issues no token for resource {other!r} ({response.status_code})")
        return
    aud = jwt.decode(token, options={"verify_signature": False}).get("aud")
    if aud != other and other not in (aud or []):
        probe.skip(f"the authorization server ignored resource={other!r} (the token's aud is {aud!r})")
        return
    await _refused(probe, f"Bearer {token}", f"a token for audience {other!r}")


async def missing_scope(ctx: RunContext, probe: Probe) -> None:
    readonly = ctx.config.auth.readonly_client
    entry = protected_write(ctx)
    if readonly is None or entry is None:
        probe.skip("no read-only client (auth.readonly_client) or no protected delete operation")
        return
    secret = readonly.client_secret.get_secret_value() if readonly.client_secret else None
    token = await ctx.tokens.client_credentials(client=ctx.tokens.client("client_credentials", readonly.client_id,
                                                                         secret))
    url = entry.path
    for name in [p.name for p in entry.parameters if p.location == "path"] or ["id"]:
        url = url.replace("{" + name + "}", "sloguard-probe-" + secrets.token_hex(4))
    response = await probe.call(entry.method, url, expect={403}, auth=token.authorization, measure=False,
                                retry=False)
    if response is None:
        return
    if response.status_code != 403:
        rule = Rule.SECURITY_BREACH if response.status_code not in (401,) else Rule.OPERATION_FAILED
        probe.fail(f"a token without the write scope got {response.status_code} on {entry.method} {entry.path}, "
                   "expected 403", rule)


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
    "expired-token": ("expired token is refused", Rule.SECURITY_BREACH, expired_token),
    "tampered-signature": ("tampered signature is refused", Rule.SECURITY_BREACH, tampered_signature),
    "forged-signature": ("token from an unknown key is refused", Rule.SECURITY_BREACH, forged_signature),
    "alg-none": ("alg: none is refused", Rule.SECURITY_BREACH, alg_none),
    "wrong-audience": ("token for another audience is refused", Rule.SECURITY_BREACH, wrong_audience),
    "missing-scope": ("missing scope is refused (403)", Rule.SECURITY_BREACH, missing_scope),
}


async def run(ctx: RunContext, spec: CheckSpec, name: str) -> None:
    probe = ctx.probe(spec)
    current_probe.set(probe)
    check = CHECKS[name][2]
    try:
        await check(ctx, probe)
    except AuthConfigError as exc:
        probe.skip(str(exc))
    except AuthError as exc:
        status = getattr(exc, "status", None)
        rule = Rule.AUTH_FAILURE
        probe.fail(f"{exc}" + (f" (HTTP {status})" if status else ""), rule)
    finally:
        current_probe.set(None)
