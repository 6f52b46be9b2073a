"""What the OAuth checks share: the provider's metadata, skips for what it lacks, judging tokens on the API."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from sloguard.auth import AuthConfigError, Discovery, DiscoveryError, OAuth2Login, Token, TokenError, is_jwt
from sloguard.catalog import Entry
from sloguard.severity import Rule

from ..context import RunContext
from ..probe import Probe


class Unsupported(Exception):
    """The provider or the config does not offer what the check needs: a skip with this reason."""


async def metadata(ctx: RunContext) -> Discovery:
    """The provider's metadata, or Unsupported with why there is none."""
    try:
        return await ctx.tokens.metadata()
    except DiscoveryError as exc:
        raise Unsupported(f"no OAuth authorization server metadata: {exc}") from None


def expects_oauth(ctx: RunContext) -> bool:
    """Whether the target is known to run an OAuth server (so broken discovery is a failure)."""
    auth = ctx.config.auth
    return isinstance(ctx.login, OAuth2Login) or auth.issuer is not None or auth.discovery_url is not None


def offered(disc: Discovery, grant: str) -> None:
    if disc.offers_grant(grant) is False:
        raise Unsupported(f"the provider does not offer the {grant} grant (grant_types_supported: "
                          f"{', '.join(disc.grant_types_supported) or 'none'})")


def confidential(ctx: RunContext) -> None:
    if not ctx.config.auth.client_id or ctx.config.auth.client_secret is None:
        raise Unsupported("no confidential client configured (auth.client_id, auth.client_secret)")


def _readable(ctx: RunContext) -> list[Entry]:
    """Cheap protected GETs without path parameters that the suite's scopes allow."""
    if ctx.catalog is None:
        return []
    return [e for kind in ("list", "search", "get") for e in ctx.catalog
            if e.kind == kind and e.method == "GET" and e.auth.required and "{" not in e.path
            and not ctx.missing_scopes(e) and not any(p.required for p in e.parameters if p.location == "query")]


async def protected_read(ctx: RunContext) -> Entry | None:
    """A protected GET that answers 200 to the suite's own valid credentials, to try other tokens on.

    Checking the operation first means a refused forged token is evidence about the token, not about
    an integration that happens to be down.
    """
    if ctx.token_probe_target is not None:
        return ctx.token_probe_target if isinstance(ctx.token_probe_target, Entry) else None
    async with ctx.token_probe_lock:
        if ctx.token_probe_target is None:
            found: Entry | bool = False
            try:
                headers = await ctx.auth_headers()
            except Exception:  # no token: the login check reports why
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


async def use(probe: Probe, authorization: str, *, expect: set[int]) -> int | None:
    """The status a protected read answers to ``authorization`` (None: nothing to try it on)."""
    entry = await protected_read(probe.ctx)
    if entry is None:
        raise Unsupported("no protected read operation without parameters answered 200 to the suite's own "
                          "credentials, so other tokens cannot be judged")
    response = await probe.call("GET", entry.path, expect=expect, auth=authorization, measure=False, retry=False)
    return response.status_code if response is not None else None


async def accepted_by_api(probe: Probe, token: Token, what: str) -> None:
    status = await use(probe, token.authorization, expect={200})
    if status is not None and status != 200:
        probe.fail(f"{what} was refused by the API ({status})", Rule.AUTH_FAILURE)


async def refused(probe: Probe, authorization: str, what: str) -> None:
    """The API must refuse ``authorization``: 401 (RFC 6750), or 403; 2xx is a breach."""
    status = await use(probe, authorization, expect={401, 403})
    if status is None:
        return
    if 200 <= status < 300:
        probe.fail(f"{what} was accepted by the API ({status})", Rule.SECURITY_BREACH)
    elif status == 403:
        probe.note(f"{what} got 403; RFC 6750 asks for 401 invalid_token")
    elif status in (429, 503) or status >= 500:
        probe.inconclusive(f"{what} got {status}, so the API judged nothing")
    elif status != 401:
        probe.fail(f"{what} answered {status}, expected 401", Rule.OPERATION_FAILED)


async def verified(ctx: RunContext, probe: Probe, token: Token) -> None:
    """A JWT access token is verified against the JWKS; an opaque one is judged by using it."""
    if not is_jwt(token.access_token):
        probe.note("the access token is opaque (not a JWT): it is judged by the API accepting it")
        return
    audience = ctx.config.auth.audience
    if not audience:
        probe.note("auth.audience is not set: the token's signature, exp and iss were not verified")
        return
    try:
        verifier = await ctx.tokens.verifier(audience)
    except (AuthConfigError, DiscoveryError) as exc:
        probe.note(f"the JWT was not verified: {exc}")
        return
    await verifier.verify(token.access_token)


async def accepted(call: Awaitable[Any]) -> bool:
    try:
        await call
    except TokenError as exc:
        if exc.status is not None and exc.status >= 500:
            raise
        return False
    return True
