"""Which login a target gets: from the config, else its description, else discovery.

Order (docs/auth.md): ``auth.style`` when it is not ``auto``; a static ``auth.token`` or
``auth.api_key``; ``auth.token_url`` / ``auth.discovery_url``; the description's security schemes
(``oauth2`` flows' ``tokenUrl``, ``openIdConnect``'s ``openIdConnectUrl``, ``apiKey``'s name);
then RFC 8414 / OIDC discovery at the issuer. When the token URL is an operation the description
documents with a JSON request body (FastAPI's ``OAuth2PasswordBearer`` pointing at a JSON
``LoginRequest``, as on the real ATOM), the login is a JSON login with the fields it names, so a
username and a password are all there is to configure.

Pure: nothing is sent; the session drivers send what the style builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urljoin, urlsplit

from .errors import AuthConfigError
from .styles import (
    APIKey,
    JSONLogin,
    LoginStyle,
    NoAuth,
    NoCredentials,
    OAuth2Login,
    OAuthClient,
    StaticBearer,
)

if TYPE_CHECKING:
    from sloguard.catalog import Catalog, Entry
    from sloguard.config import Config

USERNAME_FIELDS = ("username", "email", "login", "user", "user_name", "userName", "email_address")
PASSWORD_FIELDS = ("password", "pass", "passwd", "secret")
TOTP_FIELDS = ("totp_code", "totp", "otp", "otp_code", "mfa_code", "two_factor_code")
TOKEN_FIELDS = ("access_token", "accessToken", "token", "jwt", "id_token", "auth_token")
FLOW_FOR_GRANT = {"client_credentials": "clientCredentials", "password": "password"}


@dataclass(frozen=True)
class SecurityScheme:
    name: str
    type: str
    raw: Mapping[str, Any]

    def token_url(self, flow: str | None = None) -> tuple[str, str] | None:
        """(flow name, tokenUrl) of ``flow``, else of the first flow that has one."""
        flows = self.raw.get("flows")
        if not isinstance(flows, Mapping):
            return None
        order = [flow] if flow else []
        order += [name for name in ("password", "clientCredentials", "authorizationCode") if name not in order]
        for name in order:
            spec = flows.get(name) if name else None
            if isinstance(spec, Mapping) and isinstance(spec.get("tokenUrl"), str) and spec["tokenUrl"]:
                return name, str(spec["tokenUrl"])
        return None

    def refresh_url(self) -> str | None:
        flows = self.raw.get("flows")
        for spec in flows.values() if isinstance(flows, Mapping) else ():
            if isinstance(spec, Mapping) and isinstance(spec.get("refreshUrl"), str) and spec["refreshUrl"]:
                return str(spec["refreshUrl"])
        return None


def security_schemes(catalog: Catalog | None) -> list[SecurityScheme]:
    """The schemes the description's operations use (declared but unused ones are ignored)."""
    if catalog is None:
        return []
    components = catalog.spec.get("components")
    declared = components.get("securitySchemes") if isinstance(components, Mapping) else None
    if not isinstance(declared, Mapping):
        return []
    used = list(dict.fromkeys(name for e in catalog.all_entries for name in e.auth.schemes))
    return [SecurityScheme(name, str(declared[name].get("type", "")), declared[name])
            for name in used if isinstance(declared.get(name), Mapping)]


def declares_security(catalog: Catalog | None) -> bool:
    """Whether any operation of the description needs credentials."""
    return catalog is not None and any(e.auth.required for e in catalog.all_entries)


def _server_url(config: Config, catalog: Catalog | None) -> str:
    base = config.target.base_url.rstrip("/")
    prefix = catalog.base_path.rstrip("/") if catalog is not None else ""
    return base if not prefix or urlsplit(base).path.rstrip("/").endswith(prefix) else base + prefix


def _absolute(url: str, base: str) -> str:
    """A URL from the config or the description: absolute as is, a path below ``base``."""
    if urlsplit(url).scheme:
        return url
    return base.rstrip("/") + "/" + url.lstrip("/") if not url.startswith("//") else urljoin(base, url)


def _login_operation(catalog: Catalog | None, url: str, server: str) -> Entry | None:
    """The POST operation of the description at ``url`` (the description's paths are below ``server``)."""
    if catalog is None:
        return None
    path = urlsplit(url).path.rstrip("/")
    server_path = urlsplit(server).path.rstrip("/")
    candidates = {path, path.removeprefix(server_path) if server_path else path}
    for entry in catalog.all_entries:
        if entry.method == "POST" and entry.path.rstrip("/") in candidates:
            return entry
    return None


def _json_body_fields(catalog: Catalog, entry: Entry) -> dict[str, Any] | None:
    """The properties of the operation's JSON request body, or None when it takes no JSON."""
    body = entry.request_body
    if body is None or "json" not in body.content_type.split(";")[0].lower():
        return None
    schema = catalog.resolve(body.schema)
    props = schema.get("properties")
    return dict(props) if isinstance(props, Mapping) else {}


def _pick(props: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    lowered = {p.lower(): p for p in props}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def _token_pointer(catalog: Catalog, entry: Entry) -> str | None:
    if entry.response is None:
        return None
    props = catalog.resolve(entry.response.schema).get("properties")
    name = _pick(props, TOKEN_FIELDS) if isinstance(props, Mapping) else None
    return f"/{name}" if name else None


def _refresh_operation(catalog: Catalog, login: Entry) -> tuple[str, str] | None:
    """A documented JSON refresh call next to the login (``POST …/refresh {"refresh_token"}``)."""
    prefix = login.path.rsplit("/", 1)[0]
    for entry in catalog.all_entries:
        if entry.method == "POST" and entry.path.startswith(prefix) and entry.path.rstrip("/").endswith("refresh"):
            props = _json_body_fields(catalog, entry) or {}
            field = _pick(props, ("refresh_token", "refreshToken", "refresh"))
            if field:
                return entry.path, field
    return None


def _json_login(config: Config, catalog: Catalog | None, url: str, source: str, server: str,
                entry: Entry | None) -> JSONLogin:
    auth = config.auth
    if auth.user is None:
        raise AuthConfigError(f"the JSON login at {url} needs a test user: set auth.user.username and password")
    conf = auth.json_login
    props = _json_body_fields(catalog, entry) if catalog is not None and entry is not None else None
    props = props or {}
    username_field = (conf.username_field if conf else None) or _pick(props, USERNAME_FIELDS) or "username"
    password_field = (conf.password_field if conf else None) or _pick(props, PASSWORD_FIELDS) or "password"
    fields = dict(conf.fields) if conf else {}
    if auth.user.totp_code is not None:
        fields[_pick(props, TOTP_FIELDS) or "totp_code"] = auth.user.totp_code.get_secret_value()
    pointer = (conf.token_pointer if conf else None) or (
        _token_pointer(catalog, entry) if catalog is not None and entry is not None else None) or "/access_token"
    refresh_url, refresh_field = (conf.refresh_url, conf.refresh_field) if conf else (None, "refresh_token")
    if refresh_url is None and catalog is not None and entry is not None:
        found = _refresh_operation(catalog, entry)
        if found is not None:
            refresh_url, refresh_field = _absolute(found[0], server), found[1]
    elif refresh_url is not None:
        refresh_url = _absolute(refresh_url, config.target.base_url)
    return JSONLogin(url=url, username=auth.user.username, password=auth.user.password.get_secret_value(),
                     source=source, username_field=username_field, password_field=password_field,
                     fields=fields, token_pointer=pointer, refresh_url=refresh_url, refresh_field=refresh_field,
                     refresh_pointer=conf.refresh_token_pointer if conf else "/refresh_token")


def _grant(config: Config) -> Literal["client_credentials", "password"] | None:
    auth = config.auth
    if auth.grant is not None:
        return auth.grant
    if auth.client_id and auth.client_secret is not None:
        return "client_credentials"
    if auth.user is not None:
        return "password"
    return None


def _client(config: Config, grant: str) -> OAuthClient | None:
    auth = config.auth
    method = auth.client_auth
    if grant == "password" and auth.password_client is not None:
        given = auth.password_client.client_secret
        return OAuthClient(auth.password_client.client_id, given.get_secret_value() if given else None, method)
    if auth.client_id:
        secret = auth.client_secret.get_secret_value() if auth.client_secret else None
        return OAuthClient(auth.client_id, secret, method)
    return None


def _trusted(url: str, config: Config) -> bool:
    """A URL from the description may receive credentials only on the target's or the issuer's host."""
    host = urlsplit(url).netloc.lower()
    return host in {urlsplit(config.target.base_url).netloc.lower(), urlsplit(config.issuer).netloc.lower()}


def resolve_login(config: Config, catalog: Catalog | None) -> LoginStyle:
    """The login style for this config and description (see the module docstring for the order).

    Raises AuthConfigError (a usage error, exit 2) when the config asks for something impossible,
    such as ``auth.style: json`` with no URL anywhere.
    """
    auth = config.auth
    style = auth.style
    server = _server_url(config, catalog)
    schemes = security_schemes(catalog)
    if style == "none":
        return NoAuth()
    if style in ("auto", "bearer") and auth.token is not None:
        return StaticBearer(auth.token.get_secret_value(), "auth.token", auth.token_scheme)
    if style in ("auto", "api_key") and auth.api_key is not None:
        return _api_key(config, schemes)
    configured = auth.client_id is not None or auth.user is not None or auth.token_url or auth.discovery_url
    if style == "auto" and not configured:
        if not declares_security(catalog):
            return NoAuth("the target declares no authentication and none is configured")
        kinds = ", ".join(sorted({s.type or "?" for s in schemes})) or "security"
        return NoCredentials(f"the description declares {kinds} security but no credentials are configured: "
                             "set auth.user (username, password), auth.client_id/client_secret, auth.token "
                             "or auth.api_key")
    if style == "json":
        return _explicit_json(config, catalog, schemes, server)

    grant = _grant(config)
    if grant is None:
        return NoCredentials("no credentials for an OAuth2 login are configured: set auth.client_id and "
                             "auth.client_secret, or auth.user")
    oauth: dict[str, Any] = {
        "grant": grant, "client": _client(config, grant), "scope": auth.scope or None, "audience": auth.audience,
        "audience_param": auth.audience_param, "extra_params": dict(auth.extra_params),
        "issuer": config.issuer,
    }
    if grant == "password":
        assert auth.user is not None
        oauth["username"], oauth["password"] = auth.user.username, auth.user.password.get_secret_value()

    if auth.token_url:
        url = _absolute(auth.token_url, config.target.base_url)
        return _at(config, catalog, url, "auth.token_url", server, style, oauth)
    if auth.discovery_url:
        return OAuth2Login(source="auth.discovery_url", discovery_url=_absolute(auth.discovery_url, server),
                           **{**oauth, "issuer": auth.issuer and config.issuer})
    for scheme in schemes:
        if scheme.type == "oauth2":
            found = scheme.token_url(FLOW_FOR_GRANT.get(grant))
            if found is None:
                continue
            flow, token_url = found
            url = _absolute(token_url, server)
            source = f"the description's {scheme.name} scheme ({flow} flow)"
            if not _trusted(url, config):
                return NoCredentials(f"{source} names a token URL on another host ({urlsplit(url).netloc}); "
                                     "set auth.token_url to it if you trust it with the credentials (behind a "
                                     "proxy, the server may need its public URL)", fatal=True)
            refresh = scheme.refresh_url()
            if refresh:
                oauth["refresh_url"] = _absolute(refresh, server)
            return _at(config, catalog, url, source, server, style, oauth)
        if scheme.type == "openIdConnect" and isinstance(scheme.raw.get("openIdConnectUrl"), str):
            url = _absolute(scheme.raw["openIdConnectUrl"], server)
            return OAuth2Login(source=f"the description's {scheme.name} scheme (openIdConnectUrl)",
                               discovery_url=url, **{**oauth, "issuer": auth.issuer and config.issuer})
    where = "auth.issuer" if auth.issuer else "the target (auth.issuer unset)"
    return OAuth2Login(source=f"discovery at {where}", **oauth)


def _at(config: Config, catalog: Catalog | None, url: str, source: str, server: str, style: str,
        oauth: dict[str, Any]) -> LoginStyle:
    """An OAuth2 token endpoint, or the JSON login the description documents at that URL."""
    entry = _login_operation(catalog, url, server)
    takes_json = catalog is not None and entry is not None and _json_body_fields(catalog, entry) is not None
    if style == "auto" and takes_json and oauth["grant"] == "password":
        assert entry is not None
        return _json_login(config, catalog, url, f"{source}; its operation {entry.label} takes JSON", server,
                           entry)
    return OAuth2Login(source=source, token_url=url, **oauth)


def _explicit_json(config: Config, catalog: Catalog | None, schemes: list[SecurityScheme],
                   server: str) -> JSONLogin:
    auth = config.auth
    conf_url = auth.json_login.url if auth.json_login else None
    if conf_url or auth.token_url:
        key = "auth.json.url" if conf_url else "auth.token_url"
        url = _absolute(str(conf_url or auth.token_url), config.target.base_url)
        return _json_login(config, catalog, url, key, server, _login_operation(catalog, url, server))
    for scheme in schemes:
        found = scheme.token_url("password") if scheme.type == "oauth2" else None
        if found is not None:
            url = _absolute(found[1], server)
            return _json_login(config, catalog, url, f"the description's {scheme.name} scheme ({found[0]} flow)",
                               server, _login_operation(catalog, url, server))
    raise AuthConfigError("auth.style json needs the login URL: set auth.json.url (or auth.token_url), or "
                          "describe the login in the OpenAPI description's securitySchemes")


def _api_key(config: Config, schemes: list[SecurityScheme]) -> APIKey:
    key = config.auth.api_key
    assert key is not None
    if key.header or key.query:
        location: Literal["header", "query"] = "header" if key.header else "query"
        return APIKey(str(key.header or key.query), location, key.value.get_secret_value(), "auth.api_key")
    for scheme in schemes:
        where = scheme.raw.get("in")
        if scheme.type == "apiKey" and where in ("header", "query") and isinstance(scheme.raw.get("name"), str):
            return APIKey(scheme.raw["name"], where, key.value.get_secret_value(),
                          f"the description's {scheme.name} scheme")
    raise AuthConfigError("auth.api_key needs header: NAME or query: NAME (the description declares no apiKey "
                          "scheme to take the name from)")
