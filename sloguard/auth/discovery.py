"""Authorization server metadata: RFC 8414 discovery with the OIDC fallback, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._protocol import is_http_url, transport_reason
from .errors import AuthConfigError

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
                f"the discovery document at {self.source_url} names no {name}; "
                "the authorization server does not support this step or its metadata is incomplete"
            )
        return str(value)

    @classmethod
    async def fetch(
        cls,
        issuer: str,
        http: httpx.AsyncClient | None = None,
        *,
        verify_tls: bool = True,
        timeout_s: float = 10.0,
    ) -> Discovery:
        """Fetch RFC 8414 metadata, falling back to OIDC discovery; errors are one clear line."""
        if not is_http_url(issuer):
            raise AuthConfigError(
                f"auth.issuer {issuer!r} is not an http(s) URL; set it to the authorization server's base URL"
            )
        if http is None:
            async with httpx.AsyncClient(verify=verify_tls, timeout=timeout_s) as own:
                return await cls._fetch(issuer, own, timeout_s)
        return await cls._fetch(issuer, http, timeout_s)

    @classmethod
    async def _fetch(cls, issuer: str, http: httpx.AsyncClient, timeout_s: float) -> Discovery:
        content_error: AuthConfigError | None = None
        statuses: list[str] = []
        for url in discovery_urls(issuer):
            try:
                response = await http.get(url, timeout=timeout_s, headers={"Accept": "application/json"})
            except httpx.TransportError as exc:
                raise AuthConfigError(
                    f"cannot reach the OAuth issuer {issuer} (GET {url}: {transport_reason(exc)}); "
                    "check auth.issuer and that the server is running"
                ) from None
            if response.status_code != 200:
                statuses.append(f"{url} answered HTTP {response.status_code}")
                continue
            try:
                return cls.parse(issuer, url, response)
            except AuthConfigError as exc:
                content_error = content_error or exc
        if content_error is not None:
            raise content_error
        raise AuthConfigError(
            f"no discovery document for issuer {issuer}: {'; '.join(statuses)}; "
            "set auth.issuer to the authorization server's base URL"
        )

    @classmethod
    def parse(cls, issuer: str, url: str, response: httpx.Response) -> Discovery:
        try:
            doc = response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "no content-type")
            raise AuthConfigError(
                f"the discovery document at {url} is not JSON ({ctype}); "
                "check that auth.issuer points at the authorization server, not a web page"
            ) from None
        if not isinstance(doc, dict):
            raise AuthConfigError(f"the discovery document at {url} is not a JSON object")
        named = doc.get("issuer")
        if not isinstance(named, str) or not named:
            raise AuthConfigError(f"the discovery document at {url} has no issuer (RFC 8414 section 2)")
        if named.rstrip("/") != issuer.rstrip("/"):
            raise AuthConfigError(
                f"the discovery document at {url} names issuer {named!r}, not {issuer!r} "
                "(RFC 8414 section 3.3); set auth.issuer to the issuer the server names if you trust it"
            )
        if not doc.get("token_endpoint"):
            raise AuthConfigError(
                f"the discovery document at {url} has no token_endpoint; the server cannot issue tokens"
            )
        for name in cls.ENDPOINTS:
            value = doc.get(name)
            if value is not None and not (isinstance(value, str) and is_http_url(value)):
                raise AuthConfigError(
                    f"the discovery document at {url} has {name} {value!r}, not an http(s) URL"
                )

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
            raw=doc,
        )
