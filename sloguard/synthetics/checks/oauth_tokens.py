"""OAuth checks on the tokens themselves: expired, tampered, forged, unsigned, for another audience,
lacking a scope, or sent to an unregistered redirect URI.

The JWT checks need JWT access tokens: against a provider that issues opaque tokens they skip with
that reason (a forged JWT is refused trivially by an API that never reads JWTs, which proves nothing).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from typing import Any
from urllib.parse import urlsplit

import jwt

from sloguard.auth import LoginWalkError, Token, is_jwt
from sloguard.severity import Rule

from ..context import RunContext
from ..probe import Probe
from .oauth_support import Unsupported, confidential, protected_write, refused
from .security import forged_token, tampered, unsigned_token

OPAQUE = "the access tokens are opaque (not JWTs), so JWT signature checks do not apply"
EVIL_REDIRECT = "http://127.0.0.1:9/sloguard-not-registered"


async def jwt_sample(ctx: RunContext) -> Token:
    """A JWT access token of this provider: the suite's own, else a client-credentials one."""
    own = await ctx.session.token()
    if own is not None and is_jwt(own.access_token):
        return own
    try:
        confidential(ctx)
        token = await ctx.tokens.client_credentials()
    except Unsupported:
        token = None
    if token is not None and is_jwt(token.access_token):
        return token
    if own is None and token is None:
        raise Unsupported("no access token to learn the token format from (auth.token or a confidential client)")
    raise Unsupported(OPAQUE)


def _claims(token: Token) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token.access_token, options={"verify_signature": False})
    return claims


def _issuer_audience(ctx: RunContext, token: Token) -> tuple[str, str | None]:
    claims = _claims(token)
    aud = claims.get("aud")
    audience = ctx.config.auth.audience or (aud if isinstance(aud, str) else (aud or [None])[0])
    return str(claims.get("iss") or ctx.config.issuer), audience


async def tampered_signature(ctx: RunContext, probe: Probe) -> None:
    token = await jwt_sample(ctx)
    await refused(probe, f"Bearer {tampered(token.access_token)}", "a token with a tampered signature")


async def alg_none(ctx: RunContext, probe: Probe) -> None:
    issuer, audience = _issuer_audience(ctx, await jwt_sample(ctx))
    await refused(probe, f"Bearer {unsigned_token(issuer, audience)}", "an unsigned token (alg: none)")


async def forged_signature(ctx: RunContext, probe: Probe) -> None:
    issuer, audience = _issuer_audience(ctx, await jwt_sample(ctx))
    await refused(probe, f"Bearer {forged_token(issuer, audience, None)}", "a token signed by an unknown key")


async def wrong_audience(ctx: RunContext, probe: Probe) -> None:
    other = ctx.config.auth.foreign_audience
    if not other:
        raise Unsupported("no second audience configured (auth.foreign_audience): a correctly signed token for "
                          "another API is needed")
    confidential(ctx)
    client = ctx.tokens.client("client_credentials")
    answer = await ctx.tokens.raw_token_request({"grant_type": "client_credentials", "resource": other}, client)
    try:
        token = answer.json().get("access_token") if answer.status == 200 else None
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise Unsupported(f"the authorization server issues no token for resource {other!r} ({answer.status})")
    if not is_jwt(token):
        raise Unsupported(f"{OPAQUE}: the audience of an opaque token cannot be read")
    aud = jwt.decode(token, options={"verify_signature": False}).get("aud")
    if aud != other and other not in (aud or []):
        raise Unsupported(f"the authorization server ignored resource={other!r} (the token's aud is {aud!r})")
    await refused(probe, f"Bearer {token}", f"a token for audience {other!r}")


async def expired_token(ctx: RunContext, probe: Probe) -> None:
    short = ctx.config.auth.short_lived_client
    if short is None:
        raise Unsupported("no short-lived client configured (auth.short_lived_client)")
    secret = short.client_secret.get_secret_value() if short.client_secret else None
    client = ctx.tokens.client("client_credentials", short.client_id, secret)
    token = await ctx.tokens.client_credentials(client=client)
    # Wait until just past the token's own exp claim (the server's clock), not the client's estimate.
    expires = float(_claims(token).get("exp") or 0) if is_jwt(token.access_token) else token.expires_at
    if not expires:
        raise Unsupported("the short-lived client's token does not say when it expires (no exp, no expires_in)")
    wait = expires + ctx.config.auth.expiry_leeway_s - time.time() + 0.25
    if wait > 30:
        raise Unsupported(f"the short-lived client's token is good for {wait:.0f} s more (lifetime + "
                          "auth.expiry_leeway_s); the check waits at most 30 s")
    await asyncio.sleep(max(wait, 0))
    await refused(probe, token.authorization, "an expired access token")


async def missing_scope(ctx: RunContext, probe: Probe) -> None:
    readonly = ctx.config.auth.readonly_client
    entry = protected_write(ctx)
    if readonly is None or entry is None:
        raise Unsupported("no read-only client (auth.readonly_client) or no protected delete operation")
    secret = readonly.client_secret.get_secret_value() if readonly.client_secret else None
    client = ctx.tokens.client("client_credentials", readonly.client_id, secret)
    # Ask for the suite's scopes without the ones the write needs (a provider may grant all by default).
    needed = set(entry.auth.scopes) or {"write"}
    scope = " ".join(s for s in (ctx.config.auth.scope or "").split() if s not in needed)
    token = await ctx.tokens.client_credentials(client=client, scope=scope)
    url = entry.path
    for param in [p for p in entry.parameters if p.location == "path"]:
        url = url.replace("{" + param.name + "}", _unlikely_id(param.schema))
    response = await probe.call(entry.method, url, expect={403}, auth=token.authorization, measure=False,
                                retry=False)
    if response is None:
        return
    status = response.status_code
    if status == 403:
        return
    if 200 <= status < 300:
        probe.fail(f"a token without the write scope got {status} on {entry.method} {entry.path}, expected 403",
                   Rule.SECURITY_BREACH)
    elif status == 429 or status >= 500:
        probe.inconclusive(f"{entry.method} {entry.path} answered {status} to a token without the write scope, "
                           "so the scope was not judged")
    else:
        probe.fail(f"a token without the write scope got {status} on {entry.method} {entry.path}, expected 403",
                   Rule.OPERATION_FAILED)


def _unlikely_id(schema: Any) -> str:
    """A path value of the documented type that names no real record (the request must not get that far)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind in ("integer", "number"):
        return str(900_000_000 + secrets.randbelow(99_999_999))
    if isinstance(schema, dict) and schema.get("format") == "uuid":
        return str(uuid.uuid4())
    return "sloguard-probe-" + secrets.token_hex(4)


async def wrong_redirect(ctx: RunContext, probe: Probe) -> None:
    """An authorization request naming an unregistered redirect URI must end on the provider's refusal
    (an error page or an OAuth error), never at that URI."""
    tokens = ctx.tokens
    auth = ctx.config.auth
    assert auth.pkce is not None and auth.user is not None
    client = tokens.client("authorization_code")
    url = await tokens.authorization_url(client=client, redirect_uri=EVIL_REDIRECT, scope=auth.pkce.scope or None,
                                         state=secrets.token_urlsafe(16), code_verifier=secrets.token_urlsafe(48))
    registered = auth.pkce.redirect_uri
    try:
        location = await tokens.login_redirect(url, EVIL_REDIRECT, username=auth.user.username,
                                               password=auth.user.password.get_secret_value(),
                                               also_stop=(registered,))
    except LoginWalkError as exc:
        if exc.status in (400, 401, 403):
            return  # the provider's error page: the request was refused before anything was sent anywhere
        if exc.error == "login_rejected":
            raise
        probe.inconclusive(f"the walk ended on HTTP {exc.status or 'no answer'}, not a recognisable refusal: {exc}")
        return
    target = urlsplit(location)
    if (target.scheme, target.netloc, target.path) == tuple(urlsplit(EVIL_REDIRECT)[:3]):
        probe.fail("the authorization server redirected to an unregistered redirect URI", Rule.SECURITY_BREACH)
    elif "error=" not in target.query:
        probe.inconclusive(f"the provider redirected to {target.scheme}://{target.netloc}{target.path} without "
                           "an error: it did not refuse the unregistered redirect URI clearly")
