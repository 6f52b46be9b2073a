"""Authorization server metadata: RFC 8414 discovery with the OIDC fallback, validated.

The fetch is a sans-I/O flow (:func:`discovery_flow`), so every runner's driver can send it; a
failure is a :class:`DiscoveryError` (an auth failure at run time), not a usage error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from sloguard.tls import client_tls

from ._protocol import is_http_url
from .errors import AuthConfigError, DiscoveryError, TokenError
from .transport import Flow, HttpAnswer, HttpCall, drive_async, httpx_async_sender

RFC8414_PATH = "/.well-known/oauth-authorization-server"
OIDC_PATH = "/.well-known/openid-configuration"


def discovery_urls(issuer: str) -> tuple[str, str]:
    """RFC 8414 (well-known inserted before the issuer's path) and OIDC (appended) discovery URLs."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"{origin}{RFC8414_PATH}{path}", f"{origin}{path}{OIDC_PATH}"


@dataclass(frozen=True)
class Discovery:
    """The authorization server's metadata, validated: it names this issuer and a token endpoint."""

    issuer: str
    token_endpoint: str
    source_url: str
    authorization_endpoint: str | None = None
    jwks_uri: str | None = None
    revocation_endpoint: str | None = None
    introspection_endpoint: str | None = None
    userinfo_endpoint: str | None = None
    grant_types_supported: tuple[str, ...] = ()
    code_challenge_methods_supported: tuple[str, ...] = ()
    token_endpoint_auth_methods_supported: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    ENDPOINTS = (
        "token_endpoint",
        "authorization_endpoint",
        "jwks_uri",
        "revocation_endpoint",
        "introspection_endpoint",
        "userinfo_endpoint",
    )

    def endpoint(self, name: str) -> str:
        """The URL of ``name`` (e.g. ``revocation_endpoint``), or a clear error when not advertised."""
        value = getattr(self, name, None)
        if not value:
            raise AuthConfigError(
                f"the provider's metadata ({self.source_url}) names no {name}; "
                "the authorization server does not offer this step"
            )
        return str(value)

    def offers_grant(self, grant: str) -> bool | None:
        """True/False when the metadata lists its grants, None when it does not say (OIDC discovery
        often omits ``grant_types_supported``: then the grant is tried)."""
        if "grant_types_supported" not in self.raw:
            return None
        return grant in self.grant_types_supported

    def offers_pkce(self, method: str = "S256") -> bool | None:
        if "code_challenge_methods_supported" not in self.raw:
            return None
        return method in self.code_challenge_methods_supported

    def with_endpoints(self, **urls: str | None) -> Discovery:
        """The metadata with configured endpoints (auth.revocation_url, ...) over what it names."""
        given: dict[str, Any] = {name: url for name, url in urls.items() if url}
        return replace(self, **given) if given else self

    @classmethod
    async def fetch(
        cls,
        issuer: str,
        http: httpx.AsyncClient | None = None,
        *,
        verify_tls: bool = True,
        timeout_s: float = 10.0,
        url: str | None = None,
    ) -> Discovery:
        """Fetch RFC 8414 metadata, falling back to OIDC discovery; errors are one clear line."""
        if http is None:
            async with httpx.AsyncClient(verify=client_tls(verify_tls), timeout=timeout_s) as own:
                return await drive_async(discovery_flow(issuer, url), httpx_async_sender(own, timeout_s=timeout_s))
        return await drive_async(discovery_flow(issuer, url), httpx_async_sender(http, timeout_s=timeout_s))

    @classmethod
    def parse(cls, issuer: str | None, url: str, answer: HttpAnswer) -> Discovery:
        """Validate a metadata document; ``issuer`` None accepts the issuer it names (an explicit
        ``auth.discovery_url`` with no ``auth.issuer``)."""
        try:
            doc = answer.json()
        except ValueError:
            raise DiscoveryError(
                f"the discovery document at {url} is not JSON ({answer.content_type}); "
                "check that auth.issuer points at the authorization server, not a web page"
            ) from None
        if not isinstance(doc, dict):
            raise DiscoveryError(f"the discovery document at {url} is not a JSON object")
        named = doc.get("issuer")
        if not isinstance(named, str) or not named:
            raise DiscoveryError(f"the discovery document at {url} has no issuer (RFC 8414 section 2)")
        if issuer is not None and named.rstrip("/") != issuer.rstrip("/"):
            raise DiscoveryError(
                f"the discovery document at {url} names issuer {named!r}, not {issuer!r} "
                "(RFC 8414 section 3.3); set auth.issuer to the issuer the server names if you trust it, "
                "or start a proxied server with its public URL"
            )
        if not doc.get("token_endpoint"):
            raise DiscoveryError(f"the discovery document at {url} has no token_endpoint; the server cannot "
                                 "issue tokens")
        for name in cls.ENDPOINTS:
            value = doc.get(name)
            if value is not None and not (isinstance(value, str) and is_http_url(value)):
                raise DiscoveryError(f"the discovery document at {url} has {name} {value!r}, not an http(s) URL")

        def strings(name: str) -> tuple[str, ...]:
            value = doc.get(name)
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        return cls(
            issuer=named,
            token_endpoint=doc["token_endpoint"],
            source_url=url,
            authorization_endpoint=doc.get("authorization_endpoint"),
            jwks_uri=doc.get("jwks_uri"),
            revocation_endpoint=doc.get("revocation_endpoint"),
            introspection_endpoint=doc.get("introspection_endpoint"),
            userinfo_endpoint=doc.get("userinfo_endpoint"),
            grant_types_supported=strings("grant_types_supported"),
            code_challenge_methods_supported=strings("code_challenge_methods_supported"),
            token_endpoint_auth_methods_supported=strings("token_endpoint_auth_methods_supported"),
            raw=doc,
        )


def discovery_flow(issuer: str | None, url: str | None = None) -> Flow[Discovery]:
    """GET the metadata: at ``url`` when given (``auth.discovery_url`` or an ``openIdConnectUrl``),
    else RFC 8414 then OIDC discovery at the issuer. One clear DiscoveryError when nothing works."""
    if url is None and (issuer is None or not is_http_url(issuer)):
        raise AuthConfigError(
            f"auth.issuer {issuer!r} is not an http(s) URL; set it to the authorization server's base URL"
        )
    urls = (url,) if url is not None else discovery_urls(issuer or "")
    content_error: DiscoveryError | None = None
    statuses: list[str] = []
    for candidate in urls:
        call = HttpCall.get(candidate, what="discovery request")
        try:
            answer = yield call
        except TokenError as exc:  # the driver's transport failure, thrown back into the flow
            raise DiscoveryError(
                f"cannot reach the OAuth issuer {issuer or candidate} ({exc}); check auth.issuer and that the "
                "server is running"
            ) from None
        if answer.status != 200:
            statuses.append(f"{candidate} answered HTTP {answer.status}")
            continue
        try:
            return Discovery.parse(issuer, candidate, answer)
        except DiscoveryError as exc:
            content_error = content_error or exc
    if content_error is not None:
        raise content_error
    raise DiscoveryError(
        f"no discovery document for issuer {issuer or url}: {'; '.join(statuses)}; "
        "set auth.issuer (or auth.discovery_url, auth.token_url) to where the authorization server is"
    )
