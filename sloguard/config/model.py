"""The schema of `sloguard.yaml` (DESIGN.md section 6).

Every section has defaults that point at the reference ATOM platform, so no file is needed
for the demo; every model forbids unknown keys, so a typo is an error instead of a silent default.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from sloguard.redact import redact_settings
from sloguard.severity import Severity

from .alerts import AlertsConfig
from .base import ConfigError, ConfigModel, Secret
from .contracts import ContractsConfig
from .load import LoadConfig
from .values import (
    REFERENCE_BASE_URL,
    REFERENCE_REDIRECT_URI,
    Cron,
    Duration,
    Schedule,
    ScheduleValue,
    SeverityValue,
    as_list,
    http_url,
    integration_key,
    is_loopback,
)

Environment = Literal["reference", "sandbox", "staging", "production"]

# ---------------------------------------------------------------- target


class TargetConfig(ConfigModel):
    base_url: str = REFERENCE_BASE_URL
    openapi: str = "/api/v1/openapi.json"
    environment: Environment = "reference"
    verify_tls: bool = True
    timeout_s: float = Field(default=10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)
    sandbox_tenant: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _infer_environment(cls, data: Any) -> Any:
        # An unnamed environment is provisionally "reference" on loopback and "production" (read-only)
        # elsewhere; the target layer confirms "reference" by what the target serves (a real ATOM on
        # localhost is not the reference platform) and falls back to production otherwise.
        if isinstance(data, dict) and data.get("environment") is None:
            url = data.get("base_url", REFERENCE_BASE_URL)
            env = "reference" if isinstance(url, str) and is_loopback(url) else "production"
            data = {**data, "environment": env, "environment_inferred": True}
        return data

    environment_inferred: bool = Field(default=False, exclude=True)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return http_url(value.strip(), "base URL, such as https://atom.example.com").rstrip("/")

    @field_validator("openapi")
    @classmethod
    def _openapi(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("expected a path on the target (/api/v1/openapi.json), a URL or a file")
        return value.strip()

    def url(self, path: str) -> str:
        return self.base_url + ("" if path.startswith("/") else "/") + path


@dataclass(frozen=True)
class SpecLocation:
    """Where the OpenAPI description is read from: an http(s) URL, or a file on disk."""

    kind: Literal["url", "file"]
    url: str | None = None
    path: Path | None = None


# ---------------------------------------------------------------- auth


class ClientConfig(ConfigModel):
    client_id: str = Field(min_length=1)
    client_secret: Secret | None = None


class UserCredentials(ConfigModel):
    username: str = Field(min_length=1)
    password: Secret
    totp_code: Secret | None = None  # sent as the JSON login's totp_code field when set


def _module_function(value: str | None) -> str | None:
    if value is None:
        return None
    module, sep, function = value.strip().partition(":")
    if not sep or not module or not function.isidentifier():
        raise ValueError("expected module:function, such as mylogin:authorize (the module is looked up "
                         "next to the config file, then on the Python path)")
    return value.strip()


class PKCEClient(ConfigModel):
    client_id: str = Field(min_length=1)
    client_secret: Secret | None = None  # a confidential client using PKCE too
    redirect_uri: str = REFERENCE_REDIRECT_URI
    scope: str = "read write"
    # For a provider whose login pages the walker cannot fill: module:function called with the
    # authorization URL (docs/auth.md, "the login hook"); it returns the redirect URL with the code.
    login: str | None = None

    @field_validator("redirect_uri")
    @classmethod
    def _redirect(cls, value: str) -> str:
        return http_url(value, "redirect URI")

    @field_validator("login")
    @classmethod
    def _login(cls, value: str | None) -> str | None:
        return _module_function(value)


class JSONLoginConfig(ConfigModel):
    """A JSON login (``POST {"username", "password"}`` → ``{"access_token"}``); every key is found
    from the description's login operation when it documents one."""

    url: str | None = None
    username_field: str | None = None
    password_field: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)  # more body fields, sent as given
    token_pointer: str | None = None  # JSON pointer to the token in the answer (/access_token)
    refresh_url: str | None = None
    refresh_field: str = "refresh_token"
    refresh_token_pointer: str = "/refresh_token"

    @field_validator("url", "refresh_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        if value is None or value.startswith("/"):
            return value
        return http_url(value.strip(), "URL, or a path on the target such as /api/auth/login")

    @field_validator("token_pointer", "refresh_token_pointer")
    @classmethod
    def _pointer(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError("expected a JSON pointer such as /access_token or /data/token")
        return value


class APIKeyConfig(ConfigModel):
    header: str | None = None
    query: str | None = None
    value: Secret

    @model_validator(mode="after")
    def _one_place(self) -> APIKeyConfig:
        if self.header and self.query:
            raise ValueError("name one of header: NAME or query: NAME for the API key, not both")
        return self


LoginStyleName = Literal["auto", "oauth2", "json", "bearer", "api_key", "none"]


class AuthConfig(ConfigModel):
    # How the suite logs in (docs/auth.md). auto: auth.token / auth.api_key when set, else the
    # login the description documents (a JSON login, or an OAuth2 token endpoint), else discovery.
    style: LoginStyleName = "auto"
    issuer: str | None = None
    discovery_url: str | None = None
    token_url: str | None = None
    revocation_url: str | None = None  # over what the provider's metadata names (or where it names none)
    introspection_url: str | None = None
    audience: str | None = None
    # How auth.audience is sent to the token endpoint: RFC 8707 resource, Auth0-style audience, both, none.
    audience_param: Literal["resource", "audience", "both", "none"] = "resource"
    client_id: str | None = None
    client_secret: Secret | None = None
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    # The grant of the suite's own login; unset: client_credentials with a client secret, else password.
    grant: Literal["client_credentials", "password"] | None = None
    scope: str = "read write"
    extra_params: dict[str, str] = Field(default_factory=dict)  # more token request parameters
    user: UserCredentials | None = None
    password_client: ClientConfig | None = None  # the client for the password grant, when not client_id
    json_login: JSONLoginConfig | None = Field(default=None, alias="json")
    token: Secret | None = None  # a static bearer token (auth.token: ${ATOM_TOKEN})
    token_scheme: str = "Bearer"
    api_key: APIKeyConfig | None = None
    pkce: PKCEClient | None = None
    readonly_client: ClientConfig | None = None
    short_lived_client: ClientConfig | None = None
    other_tenant_client: ClientConfig | None = None
    admin_client: ClientConfig | None = None
    # An audience the authorization server also issues tokens for (RFC 8707 `resource`); the API must
    # refuse those tokens. Unset: the wrong-audience check is skipped with that reason.
    foreign_audience: str | None = None
    # How long past `exp` the platform still accepts a token (its JWT leeway): the expired-token check
    # waits past exp + this before it calls the API, so an allowed leeway is not reported as a breach.
    expiry_leeway_s: float = Field(default=0.0, ge=0, le=300)

    model_config = ConfigDict(extra="forbid", validate_default=True, coerce_numbers_to_str=True,
                              populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `auth: none` for a public API.
        if isinstance(data, str) and data.strip().lower() == "none":
            return {"style": "none"}
        return data

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("/"):
            return value.rstrip("/")  # a path on the target
        return None if value is None else http_url(value.strip()).rstrip("/")

    @field_validator("discovery_url", "token_url", "revocation_url", "introspection_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        # Endpoints are used exactly as given: many servers tell /o/token/ from /o/token.
        if value is not None and value.startswith("/"):
            return value  # a path on the target
        return None if value is None else http_url(value.strip())

    @model_validator(mode="after")
    def _style_needs(self) -> AuthConfig:
        needs = {"bearer": ("token", self.token), "api_key": ("api_key", self.api_key),
                 "json": ("user", self.user)}
        if self.style in needs and needs[self.style][1] is None:
            key = needs[self.style][0]
            raise ValueError(f"auth.style {self.style} needs auth.{key}")
        return self

    # The reference platform's test clients (docs/reference-platform.md). They are filled in only
    # when the environment is "reference", so they are never sent to a real deployment.
    REFERENCE: ClassVar[dict[str, Any]] = {
        "audience": "atom-api",
        "user": {"username": "alice@acme.test", "password": "alice-password"},
        "pkce": {"client_id": "sloguard-spa", "redirect_uri": REFERENCE_REDIRECT_URI, "scope": "read write"},
        "readonly_client": {"client_id": "sloguard-readonly", "client_secret": "sloguard-readonly-secret"},
        "short_lived_client": {"client_id": "sloguard-short", "client_secret": "sloguard-short-secret"},
        "other_tenant_client": {"client_id": "sloguard-globex", "client_secret": "sloguard-globex-secret"},
        "admin_client": {"client_id": "sloguard-admin", "client_secret": "sloguard-admin-secret"},
        "foreign_audience": "atom-analytics",
    }

    def fill_reference_defaults(self) -> None:
        """Fill every key the file left out with the reference platform's test credentials."""
        given = self.model_fields_set
        if self.style not in ("auto", "oauth2") or self.token is not None or self.api_key is not None:
            return  # another login style was chosen: the reference clients would not be used
        if not {"client_id", "client_secret"} & given:
            self.client_id = "sloguard-ci"
            self.client_secret = SecretStr("sloguard-ci-secret")
        for name, value in self.REFERENCE.items():
            if name not in given:
                setattr(self, name, self._sub(name, value) if isinstance(value, dict) else value)

    def _sub(self, name: str, value: dict[str, Any]) -> BaseModel:
        models: dict[str, type[BaseModel]] = {"user": UserCredentials, "pkce": PKCEClient}
        return models.get(name, ClientConfig).model_validate(value)


# ---------------------------------------------------------------- SLOs


class SLO(ConfigModel):
    latency_p95_ms: float = Field(default=500.0, gt=0)
    error_rate: float = Field(default=0.01, ge=0, le=1)
    availability: float = Field(default=0.999, gt=0, le=1)
    network_ms: float = Field(default=100.0, gt=0)


class SLOOverride(ConfigModel):
    latency_p95_ms: float | None = Field(default=None, gt=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    availability: float | None = Field(default=None, gt=0, le=1)
    network_ms: float | None = Field(default=None, gt=0)


class SLOConfig(ConfigModel):
    default: SLO = Field(default_factory=SLO)
    integrations: dict[str, SLOOverride] = Field(default_factory=dict)

    def slo_for(self, integration: str | None) -> SLO:
        """The default SLO with this integration's overrides on top (names compared loosely)."""
        if integration is None:
            return self.default
        wanted = integration_key(integration)
        merged = self.default.model_dump()
        for name, override in self.integrations.items():
            if integration_key(name) == wanted:
                merged.update(override.model_dump(exclude_none=True))
        return SLO.model_validate(merged)


# ---------------------------------------------------------------- catalog


HTTPStatus = Annotated[int, Field(ge=100, le=599)]


class OperationOverride(ConfigModel):
    path_params: dict[str, Any] = Field(default_factory=dict)
    query: dict[str, Any] = Field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    expected_status: Annotated[list[HTTPStatus] | None, BeforeValidator(as_list)] = None
    skip: bool = False
    reason: str | None = None
    safe: bool | None = None

    @model_validator(mode="after")
    def _skip_needs_reason(self) -> OperationOverride:
        if self.skip and not (self.reason and self.reason.strip()):
            raise ValueError("skip: true needs a reason: say why the operation is skipped")
        return self


def _operation_forms(operation_id: str | None, method: str, path: str) -> list[str]:
    forms = [f"{method.upper()} {path}"]
    return [operation_id, *forms] if operation_id else forms


class CatalogConfig(ConfigModel):
    integration_from: Literal["tags", "path"] = "tags"
    path_pattern: str = r"^/api/(?P<integration>[a-z0-9][a-z0-9_-]*)(?:/|$)"
    aliases: dict[str, str] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    overrides: dict[str, OperationOverride] = Field(default_factory=dict)

    @field_validator("path_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        if "integration" not in compiled.groupindex:
            raise ValueError(
                "the regular expression needs a named group for the integration, such as "
                "^/api/(?P<integration>[a-z0-9-]+)/"
            )
        return value

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _globs(cls, value: Any) -> Any:
        return as_list(value)

    def integration_name(self, raw: str) -> str:
        """A tag or path segment → the integration name, after aliases."""
        aliases = {integration_key(k): v for k, v in self.aliases.items()}
        return integration_key(self.aliases.get(raw) or aliases.get(integration_key(raw)) or raw)

    def integration_from_path(self, path: str) -> str | None:
        found = re.search(self.path_pattern, path)
        return self.integration_name(found.group("integration")) if found else None

    def selects(self, operation_id: str | None, method: str, path: str) -> bool:
        """Whether an operation is in the catalog: it matches an include (if any) and no exclude."""
        forms = _operation_forms(operation_id, method, path)

        def hit(patterns: list[str]) -> bool:
            return any(fnmatch.fnmatchcase(f, p) for p in patterns for f in forms)

        return (not self.include or hit(self.include)) and not hit(self.exclude)

    def override_for(self, operation_id: str | None, method: str, path: str) -> OperationOverride | None:
        """Exact operationId, then exact 'METHOD /path', then the first matching glob key."""
        forms = _operation_forms(operation_id, method, path)
        for form in forms:
            if form in self.overrides:
                return self.overrides[form]
        for key, override in self.overrides.items():
            if any(fnmatch.fnmatchcase(f, key) for f in forms):
                return override
        return None


# ---------------------------------------------------------------- checks


class SyncPair(ConfigModel):
    """A cross-integration sync to verify: a record created in `source` must arrive in `target`."""

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)


class ChecksConfig(ConfigModel):
    retries: int = Field(default=1, ge=0, le=10)
    concurrency: int = Field(default=64, ge=1, le=1024)
    timeout_s: float = Field(default=30.0, gt=0)  # one check's budget (e.g. for honouring Retry-After)
    retry_after_max_s: float = Field(default=5.0, ge=0, le=300)  # the longest Retry-After a check waits out
    # The failed-login throttling probe: None = on for reference and sandbox targets, off on production.
    login_throttling: bool | None = None
    # Compare the served description with the last one seen (reports/contracts/): drift and a new
    # platform version are reported even when nobody told the suite about a release.
    drift: bool = True
    sync_timeout_s: float = Field(default=10.0, gt=0)
    rate_limit_warn: float = Field(default=0.8, gt=0, le=1)
    tls_expiry_warn_days: int = Field(default=30, ge=0)
    read_only: bool = False
    sync: list[SyncPair] = Field(default_factory=lambda: [SyncPair(source="jira", target="slack")])
    # The least severe failure that fails a run (exit 1; `--fail-on` overrides it). P1 by default:
    # P0/P1 fail a release, P2/P3 (an expiring certificate, contract drift) are reported.
    fail_on: SeverityValue = Severity.P1


# ---------------------------------------------------------------- schedules, maintenance


class SchedulesConfig(ConfigModel):
    health: ScheduleValue | None = Schedule(text="15m", every_s=900.0)
    sweep: ScheduleValue | None = Schedule(text="1h", every_s=3600.0)
    contracts: ScheduleValue | None = Schedule(text="0 3 * * *", cron="0 3 * * *")


class MaintenanceWindow(ConfigModel):
    cron: Cron
    duration: Duration


# ---------------------------------------------------------------- reports


class ReportsConfig(ConfigModel):
    dir: Path = Path("reports")
    history_db: Path | None = None

    @property
    def allure_results_dir(self) -> Path:
        return self.dir / "allure-results"

    @property
    def html_dir(self) -> Path:
        return self.dir / "html"

    @property
    def summary_path(self) -> Path:
        return self.dir / "summary.json"

    @property
    def history_path(self) -> Path:
        return self.history_db or self.dir / "history.sqlite3"


# ---------------------------------------------------------------- the whole file


class Config(ConfigModel):
    target: TargetConfig = Field(default_factory=TargetConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    slos: SLOConfig = Field(default_factory=SLOConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    schedules: SchedulesConfig = Field(default_factory=SchedulesConfig)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    load: LoadConfig = Field(default_factory=LoadConfig)
    contracts: ContractsConfig = Field(default_factory=ContractsConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)

    _source: Path | None = PrivateAttr(default=None)
    _reference_filled: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        if self.target.environment == "reference":
            before = {name: getattr(self.auth, name) for name in type(self.auth).model_fields}
            self.auth.fill_reference_defaults()
            self._reference_filled = tuple(n for n, v in before.items() if getattr(self.auth, n) is not v)
            self.contracts.fill_reference_defaults()
        for i, route in enumerate(self.alerts.routes):
            for j, name in enumerate(route.to):
                if name not in self.alerts.channels:
                    known = ", ".join(sorted(self.alerts.channels)) or "none are defined"
                    raise ConfigError(
                        f"route sends to unknown channel '{name}' (channels: {known}); "
                        "define it under alerts.channels or fix the name",
                        ("alerts", "routes", i, "to", j),
                    )
        if self.auth.client_secret is not None and self.auth.client_id is None:
            raise ConfigError("client_secret is set but client_id is not; add auth.client_id",
                              ("auth", "client_secret"))
        return self

    def secret_values(self) -> list[str]:
        """Every secret literal in the settings, for masking in logs and reports."""
        found: list[str] = []

        def walk(value: Any, key: str = "") -> None:
            if isinstance(value, SecretStr):
                found.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                for name in type(value).model_fields:
                    walk(getattr(value, name), name)
            elif isinstance(value, dict):
                for k, v in value.items():
                    if key == "headers" and isinstance(v, str) and redact_settings({k: v}, "headers")[k] != v:
                        found.append(v)
                    else:
                        walk(v, str(k))
            elif isinstance(value, list):
                for item in value:
                    walk(item, key)

        walk(self)
        return [v for v in dict.fromkeys(found) if v]

    @property
    def source(self) -> Path | None:
        """The file these settings came from; None when they are the built-in defaults."""
        return self._source

    def not_the_reference_platform(self) -> None:
        """The target turned out not to be the reference platform: it is production (read-only), and
        the reference platform's test credentials filled in for it are taken back, never sent."""
        self.target.environment = "production"
        self.target.environment_inferred = False
        for name in self._reference_filled:
            setattr(self.auth, name, None)
        self._reference_filled = ()

    @property
    def allows_side_effects(self) -> bool:
        """Whether checks may create, change or delete data (production: only in a sandbox tenant)."""
        if self.checks.read_only:
            return False
        if self.target.environment == "production":
            return self.target.sandbox_tenant is not None
        return True

    @property
    def allows_load(self) -> bool:
        """Load runs only against loopback or a host named in load.allow_hosts."""
        host = urlsplit(self.target.base_url).hostname or ""
        return is_loopback(self.target.base_url) or any(
            fnmatch.fnmatchcase(host, pattern.lower()) for pattern in self.load.allow_hosts
        )

    @property
    def issuer(self) -> str:
        """The authorization server's issuer: auth.issuer (a path is below the target), else the target."""
        issuer = self.auth.issuer
        if issuer is not None and issuer.startswith("/"):
            return self.target.base_url + issuer.rstrip("/")
        return issuer or self.target.base_url

    def slo_for(self, integration: str | None) -> SLO:
        return self.slos.slo_for(integration)

    def spec_location(self) -> SpecLocation:
        """Resolve target.openapi: http(s) URL, '/path' on the target, or a file (relative to this file)."""
        spec = self.target.openapi
        if spec.startswith(("http://", "https://")):
            return SpecLocation("url", url=spec)
        if spec.startswith("file:"):
            path = Path(spec.removeprefix("file://").removeprefix("file:"))
        elif spec.startswith("/"):
            return SpecLocation("url", url=self.target.url(spec))
        else:
            path = Path(spec)
        if not path.is_absolute() and self._source is not None:
            path = self._source.parent / path
        return SpecLocation("file", path=path)
