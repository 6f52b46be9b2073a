"""Security probes: what must be refused is refused.

Every protected operation is called without credentials and with a forged token; a 2xx answer is a
security breach (P0). The probes never send a valid body or a real id to a write operation on a
read-only target, so a broken endpoint cannot change production data while being probed.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from sloguard.auth import AuthConfigError, DiscoveryError, JSONLogin, OAuth2Login
from sloguard.catalog import Entry
from sloguard.severity import Rule

from ..context import RunContext
from ..probe import CheckSpec, rate_limit_text
from .endpoints import _fill, wait_for_ids

DENIED = {401, 403}


@cache
def _forging_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged_token(issuer: str, audience: str | None, kid: str | None, *, scope: str = "read write admin",
                 expires_in: int = 600) -> str:
    """A well-formed RS256 JWT with plausible claims, signed by a key the platform has never seen."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": "sloguard-forged", "aud": audience or "atom-api", "scope": scope,
              "client_id": "sloguard-forged", "tenant": "acme", "iat": now, "exp": now + expires_in,
              "jti": uuid.uuid4().hex}
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, _forging_key(), algorithm="RS256", headers=headers)


def unsigned_token(issuer: str, audience: str | None, *, scope: str = "read write") -> str:
    """``alg: none``: claims with no signature at all."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": "sloguard-unsigned", "aud": audience or "atom-api", "scope": scope,
              "client_id": "sloguard-unsigned", "tenant": "acme", "iat": now, "exp": now + 600,
              "jti": uuid.uuid4().hex}
    return jwt.encode(claims, "", algorithm="none")


def tampered(token: str) -> str:
    """The same token with its signature's first bytes changed."""
    head, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{payload}.{flipped}"


def _probe_request(ctx: RunContext, entry: Entry) -> tuple[str, Any]:
    """A URL and body that cannot change data even if the operation wrongly lets us in."""
    if entry.method == "GET" or not entry.side_effects:
        data = ctx.data.for_entry(entry, ctx.ids)
        return data.url_path, data.body
    if ctx.read_only:
        return _made_up(entry), {}
    data = ctx.data.for_entry(entry, None)
    if "{" in entry.path:  # never a real id: a probe must not delete the records other checks use
        return _made_up(entry), data.body
    return data.url_path, data.body


def _made_up(entry: Entry) -> str:
    """The path with a made-up id in every template (``/workflows/{id}/run``, not ``/workflows//run``).

    The id has the parameter's documented type, so the request reaches the operation and its
    credentials are judged: a string where a route takes an integer gets a 404 from the router, and a
    404 says nothing about authentication.
    """
    schemas = {p.name: p.schema for p in entry.parameters if p.location == "path"}
    return re.sub(r"\{([^}/]+)\}", lambda m: quote(_made_up_value(schemas.get(m.group(1), {})), safe=""),
                  entry.path)


def _made_up_value(schema: Mapping[str, Any]) -> str:
    if schema.get("enum"):
        return str(schema["enum"][0])
    if schema.get("type") in ("integer", "number"):
        # far above any real row id, inside a signed 32-bit column and any documented maximum
        top = min(int(schema.get("maximum", 2_147_483_647)), 2_147_483_647)
        return str(max(int(schema.get("minimum", 1)), top - secrets.randbelow(1_000_000)))
    if schema.get("format") == "uuid":
        return str(uuid.uuid4())
    return "sloguard-probe-" + secrets.token_hex(4)


async def probe_access(ctx: RunContext, spec: CheckSpec, entry: Entry, forged: str) -> None:
    """No credentials, then a forged token: both must be refused.

    401/403 is a refusal (pass); 2xx/3xx is a breach; anything else — no answer, 404, 405, 400/422,
    429, 5xx — verified nothing about the credentials (the request was refused or lost before they
    were judged), so the probe is inconclusive with that reason, never passed.
    """
    probe = ctx.probe(spec)
    await wait_for_ids(ctx, entry)
    url, body = _probe_request(ctx, entry)
    undecided: list[str] = []
    for label, auth in (("without credentials", None), ("with a forged token", f"Bearer {forged}")):
        response = await probe.call(entry.method, url, expect=DENIED, auth=auth, json=body, measure=False)
        if response is None:
            undecided.append(f"{label} — no answer ({probe.last.error if probe.last else 'no answer'})")
            continue
        status = response.status_code
        if 200 <= status < 400:
            # " — ", not ": " after "token": the redactor rightly masks whatever follows "token:"
            probe.fail(f"{entry.method} {entry.path} answered {status} {label} — a protected operation is open",
                       Rule.SECURITY_BREACH)
        elif status == 429 and probe.last is not None:
            undecided.append(f"{label} — {rate_limit_text(probe.last)}")
        elif status not in DENIED:
            undecided.append(f"{label} — answered {status}, not 401/403 (refused before its credentials were judged)")
    if undecided and not probe.failures:
        probe.inconclusive("; ".join(undecided))


async def cross_tenant(ctx: RunContext, spec: CheckSpec, list_entry: Entry, get_entry: Entry,
                       create_entry: Entry | None) -> None:
    """A record of one tenant must be invisible to, and unwritable by, another tenant."""
    probe = ctx.probe(spec)
    other = ctx.config.auth.other_tenant_client
    if other is None:
        probe.skip("no second tenant configured (auth.other_tenant_client)")
        return
    record_id: Any = None
    created = False
    if create_entry is not None and not ctx.read_only:
        data = ctx.data.for_entry(create_entry, None)
        response = await probe.call(create_entry.method, data.url_path, expect={create_entry.success_status},
                                    json=data.body, retry=False, measure=False)
        if response is not None and response.status_code == create_entry.success_status:
            record_id = response.json().get("id")
            created = record_id is not None
    if record_id is None:
        data = ctx.data.for_entry(list_entry, None)
        response = await probe.call("GET", data.url_path, expect={200}, params=data.query, measure=False)
        items = response.json().get("items", []) if response is not None and response.status_code == 200 else []
        record_id = items[0].get("id") if items and isinstance(items[0], dict) else None
    if record_id is None:
        probe.skip("no record of the first tenant to try with")
        return
    secret = other.client_secret.get_secret_value() if other.client_secret else None
    try:
        token = await ctx.tokens.get_token("client_credentials", client_id=other.client_id, client_secret=secret)
    except Exception as exc:
        probe.fail(f"could not get a token for the second tenant's client: {exc}", Rule.AUTH_FAILURE)
        return
    url = _fill(get_entry.path, None, record_id)
    read = await probe.call("GET", url, expect={403, 404}, auth=token.authorization, measure=False)
    if read is not None and read.status_code == 200:
        probe.fail(f"tenant B read tenant A's record {get_entry.path} (200)", Rule.SECURITY_BREACH)
    if created:
        write = await probe.call("PATCH", url, expect={403, 404}, auth=token.authorization, json={},
                                 measure=False, retry=False)
        if write is not None and 200 <= write.status_code < 300:
            probe.fail(f"tenant B changed tenant A's record {get_entry.path} ({write.status_code})",
                       Rule.SECURITY_BREACH)
        await probe.call("DELETE", url, expect={204, 200, 404}, measure=False, retry=False)


async def failed_login(ctx: RunContext, username: str) -> tuple[str, dict[str, Any]] | str:
    """The suite's user login (its URL and body) for a made-up user, or why there is none to throttle."""
    login = ctx.login
    if ctx.config.target.environment == "production":
        return "off on production targets: the probe sends failed logins to the real user login"
    password = secrets.token_hex(8)
    if isinstance(login, JSONLogin):
        return login.url, {"json": {login.username_field: username, login.password_field: password}}
    if not isinstance(login, OAuth2Login) or ctx.config.auth.user is None:
        return f"the suite has no user login to throttle ({login.describe()})"
    try:
        disc = await ctx.tokens.metadata()
    except DiscoveryError:
        disc = None
    token_url = login.token_url or (disc.token_endpoint if disc is not None else None)
    if token_url is None:
        return "no token endpoint known (no discovery document, no auth.token_url)"
    if disc is not None and disc.offers_grant("password") is False:
        return "the provider does not offer the password grant: there is no user login to throttle"
    try:
        client = ctx.tokens.client("password")
    except AuthConfigError as exc:
        return str(exc)
    data = {"grant_type": "password", "username": username, "password": password}
    headers = client.apply(data)
    return token_url, {"data": data, "headers": headers}


async def login_throttling(ctx: RunContext, spec: CheckSpec, attempts: int = 8) -> None:
    """Repeated failed logins must be throttled (429), for a username that does not exist."""
    probe = ctx.probe(spec)
    down = await ctx.login_failure()
    if down is not None:  # the login itself fails: "auth · login" carries that finding
        probe.skip(down)
        return
    username = f"sloguard-probe-{secrets.token_hex(4)}@invalid.test"
    found = await failed_login(ctx, username)
    if isinstance(found, str):
        probe.skip(found)
        return
    url, request = found
    for _ in range(attempts):
        response = await probe.call("POST", url, expect={400, 401, 422, 429}, auth=None, retry=False,
                                    measure=False, **request)
        if response is None or response.status_code >= 500:
            probe.inconclusive(f"the login answered {response.status_code if response else 'nothing'}, so "
                               "throttling was not judged")
            return
        if response.status_code == 429:
            if not response.headers.get("retry-after"):
                probe.note("429 without Retry-After")
            return
        if response.status_code == 200:
            probe.fail("a login with a random password succeeded", Rule.SECURITY_BREACH)
            return
    probe.fail(f"{attempts} failed logins for one username were never throttled (no 429)", Rule.SECURITY_BREACH)


__all__ = ["cross_tenant", "forged_token", "login_throttling", "probe_access", "tampered", "unsigned_token"]
