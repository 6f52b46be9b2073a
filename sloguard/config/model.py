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
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)

from sloguard.errors import UsageError

from .values import (
    REFERENCE_BASE_URL,
    REFERENCE_REDIRECT_URI,
    Cron,
    Duration,
    Schedule,
    ScheduleValue,
    as_list,
    as_pair,
    http_url,
    integration_key,
    is_loopback,
    redact,
)


class ConfigError(UsageError):
    """An invalid config; `loc` is the key path the loader turns into a file line."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.loc = loc

    def __str__(self) -> str:
        return self.message


Environment = Literal["reference", "sandbox", "staging", "production"]
Severity = Literal["P0", "P1", "P2", "P3"]

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, coerce_numbers_to_str=True)

    def redacted(self) -> dict[str, Any]:
        """The settings as plain data, safe to print or log."""
        result: dict[str, Any] = redact(self.model_dump(mode="python"))
        return result

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.redacted()!r})"

    __str__ = __repr__


Secret = SecretStr

# ---------------------------------------------------------------- target


class TargetConfig(_Model):
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
        # An unnamed environment is "reference" on loopback and "production" (read-only) elsewhere:
        # the safe guess for a real deployment someone forgot to label.
        if isinstance(data, dict) and data.get("environment") is None:
            url = data.get("base_url", REFERENCE_BASE_URL)
            env = "reference" if isinstance(url, str) and is_loopback(url) else "production"
            data = {**data, "environment": env}
        return data

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


class ClientCredentials(_Model):
    client_id: str = Field(min_length=1)
    client_secret: Secret | None = None


class UserCredentials(_Model):
    username: str = Field(min_length=1)
    password: Secret


class PKCEClient(_Model):
    client_id: str = Field(min_length=1)
    redirect_uri: str = REFERENCE_REDIRECT_URI
    scope: str = "read write"

    @field_validator("redirect_uri")
    @classmethod
    def _redirect(cls, value: str) -> str:
        return http_url(value, "redirect URI")


class AuthConfig(_Model):
    issuer: str | None = None
    discovery_url: str | None = None
    token_url: str | None = None
    audience: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    scope: str = "read write"
    user: UserCredentials | None = None
    pkce: PKCEClient | None = None
    readonly_client: ClientCredentials | None = None
    short_lived_client: ClientCredentials | None = None
    other_tenant_client: ClientCredentials | None = None
    admin_client: ClientCredentials | None = None
    # An audience the authorization server also issues tokens for (RFC 8707 `resource`); the API must
    # refuse those tokens. Unset: the wrong-audience check is skipped with that reason.
    foreign_audience: str | None = None
    # How long past `exp` the platform still accepts a token (its JWT leeway): the expired-token check
    # waits past exp + this before it calls the API, so an allowed leeway is not reported as a breach.
    expiry_leeway_s: float = Field(default=0.0, ge=0, le=300)

    @field_validator("issuer", "discovery_url", "token_url")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else http_url(value.strip()).rstrip("/")

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
        if not {"client_id", "client_secret"} & given:
            self.client_id = "sloguard-ci"
            self.client_secret = SecretStr("sloguard-ci-secret")
        for name, value in self.REFERENCE.items():
            if name not in given:
                setattr(self, name, self._sub(name, value) if isinstance(value, dict) else value)

    def _sub(self, name: str, value: dict[str, Any]) -> BaseModel:
        models: dict[str, type[BaseModel]] = {"user": UserCredentials, "pkce": PKCEClient}
        return models.get(name, ClientCredentials).model_validate(value)


# ---------------------------------------------------------------- SLOs


class SLO(_Model):
    latency_p95_ms: float = Field(default=500.0, gt=0)
    error_rate: float = Field(default=0.01, ge=0, le=1)
    availability: float = Field(default=0.999, gt=0, le=1)
    network_ms: float = Field(default=100.0, gt=0)


class SLOOverride(_Model):
    latency_p95_ms: float | None = Field(default=None, gt=0)
    error_rate: float | None = Field(default=None, ge=0, le=1)
    availability: float | None = Field(default=None, gt=0, le=1)
    network_ms: float | None = Field(default=None, gt=0)


class SLOConfig(_Model):
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


class OperationOverride(_Model):
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


class CatalogConfig(_Model):
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


class SyncPair(_Model):
    """A cross-integration sync to verify: a record created in `source` must arrive in `target`."""

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)


class ChecksConfig(_Model):
    retries: int = Field(default=1, ge=0, le=10)
    concurrency: int = Field(default=64, ge=1, le=1024)
    timeout_s: float = Field(default=30.0, gt=0)
    sync_timeout_s: float = Field(default=10.0, gt=0)
    rate_limit_warn: float = Field(default=0.8, gt=0, le=1)
    tls_expiry_warn_days: int = Field(default=30, ge=0)
    read_only: bool = False
    sync: list[SyncPair] = Field(default_factory=lambda: [SyncPair(source="jira", target="slack")])
    # The least severe failure that fails a run (exit 1). P2 by default, so an expiring certificate
    # gates a release; P3 (cosmetic contract findings) never does unless set here.
    fail_on: Literal["P0", "P1", "P2", "P3"] = "P2"


# ---------------------------------------------------------------- alerts


def _secret_url(value: SecretStr) -> SecretStr:
    http_url(value.get_secret_value(), "URL")
    return value


SecretURL = Annotated[SecretStr, AfterValidator(_secret_url)]
PlainURL = Annotated[str, AfterValidator(http_url)]


class SlackChannel(_Model):
    type: Literal["slack"]
    webhook_url: SecretURL
    channel: str | None = None


class PagerDutyChannel(_Model):
    type: Literal["pagerduty"]
    routing_key: Secret
    events_url: PlainURL = "https://events.pagerduty.com/v2/enqueue"


class WebhookChannel(_Model):
    type: Literal["webhook"]
    url: SecretURL
    headers: dict[str, str] = Field(default_factory=dict)
    secret: Secret | None = None


class EmailChannel(_Model):
    type: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: Secret | None = None
    sender: str
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]


class AlertmanagerChannel(_Model):
    type: Literal["alertmanager"]
    url: PlainURL
    headers: dict[str, str] = Field(default_factory=dict)


Channel = Annotated[
    SlackChannel | PagerDutyChannel | WebhookChannel | EmailChannel | AlertmanagerChannel,
    Field(discriminator="type"),
]


class Route(_Model):
    severity: Annotated[list[Severity], BeforeValidator(as_list), Field(min_length=1)]
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]


class AlertsConfig(_Model):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    repeat_after: Duration = 4 * 3600.0
    send_resolved: bool = True

    def channels_for(self, severity: str) -> list[str]:
        """The channel names an alert of this severity goes to, each once, in route order."""
        names: list[str] = []
        for route in self.routes:
            if severity in route.severity:
                names.extend(n for n in route.to if n not in names)
        return names


# ---------------------------------------------------------------- schedules, maintenance


class SchedulesConfig(_Model):
    health: ScheduleValue | None = Schedule(text="15m", every_s=900.0)
    sweep: ScheduleValue | None = Schedule(text="1h", every_s=3600.0)
    contracts: ScheduleValue | None = Schedule(text="0 3 * * *", cron="0 3 * * *")


class MaintenanceWindow(_Model):
    cron: Cron
    duration: Duration


# ---------------------------------------------------------------- load


LoginStyle = Literal["password", "client_credentials", "none"]


class LoadProfile(_Model):
    users: int | None = Field(default=None, ge=1)
    steps: list[Annotated[int, Field(ge=1)]] | None = None
    hold: Duration | None = None
    duration: Duration | None = None
    spawn_rate: float | None = Field(default=None, gt=0)
    think_time_s: Annotated[tuple[float, float], BeforeValidator(as_pair)] = (1.0, 3.0)
    rps: float | None = Field(default=None, gt=0)
    # How each virtual user gets its token. None: the password grant when auth.user is set, else
    # client credentials. The built-in capacity profiles use client credentials: a password login
    # runs the server's slow password hash, and 10,000 of them would measure the hash, not the API.
    login: LoginStyle | None = None
    # Stop after the first step that misses the SLO (stress: find the break, then stop).
    stop_at_break: bool = False

    @model_validator(mode="after")
    def _shape(self) -> LoadProfile:
        if self.users is None and not self.steps:
            raise ValueError("a load profile needs users: N or steps: [N, ...]")
        if self.steps and self.steps != sorted(self.steps):
            raise ValueError(f"steps must go up, got {self.steps}")
        if self.steps and self.hold is None:
            raise ValueError("a stepped profile needs hold: how long each step lasts, such as 5m")
        low, high = self.think_time_s
        if low < 0 or high < low:
            raise ValueError(f"think_time_s must be [min, max] with 0 <= min <= max, got [{low}, {high}]")
        return self


DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"users": 10, "spawn_rate": 10, "duration": "30s", "think_time_s": [0.5, 1.0], "login": "password"},
    "capacity": {"steps": [1000, 2500, 5000, 10000], "hold": "5m", "spawn_rate": 100,
                 "think_time_s": [5, 15], "login": "client_credentials"},
    "soak": {"users": 1000, "spawn_rate": 50, "duration": "2h", "think_time_s": [5, 15],
             "login": "client_credentials"},
    "stress": {"steps": [10000, 12500, 15000, 20000, 25000, 30000], "hold": "2m", "spawn_rate": 200,
               "think_time_s": [5, 15], "login": "client_credentials", "stop_at_break": True},
    "rate": {"users": 50, "rps": 200, "spawn_rate": 50, "duration": "2m", "think_time_s": [0, 0],
             "login": "client_credentials"},
}


class ResourceTriggers(_Model):
    cpu_percent: float = Field(default=70.0, gt=0, le=100)
    memory_percent: float = Field(default=75.0, gt=0, le=100)


class CapacityTarget(_Model):
    """One of the plan's scaling targets: hold ``users`` inside the SLO, else do ``action``."""

    users: int = Field(ge=1)
    action: str = Field(min_length=1)


DEFAULT_TARGETS: list[dict[str, Any]] = [
    {"users": 1000, "action": "current capacity"},
    {"users": 2500, "action": "add application instances"},
    {"users": 5000, "action": "add database read replicas"},
    {"users": 10000, "action": "go multi-region"},
]

# Read-heavy by default: what users of an integration platform mostly do. Health checks and actions
# (syncs, OAuth connects) are not user traffic: weight them here or per operation to mix them in.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "list": 30.0, "get": 30.0, "search": 15.0, "create": 5.0, "update": 3.0, "delete": 1.0,
    "health": 0.0, "action": 0.0,
}


class LoadMix(_Model):
    """Weights of the request mix: an integration's share, then each operation's share within it."""

    integrations: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    operations: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    kinds: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_KIND_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown operation kind {', '.join(unknown)}: use {', '.join(DEFAULT_KIND_WEIGHTS)}")
        return {**DEFAULT_KIND_WEIGHTS, **value}


class AbortConfig(_Model):
    """Stop a run early when the error rate stays above ``error_rate`` for ``sustained`` (P0)."""

    error_rate: float = Field(default=0.05, gt=0, le=1)
    sustained: Duration = 300.0


class GeneratorLimits(_Model):
    """When the load generator itself is the bottleneck, a step is invalid (neither passed nor failed)."""

    max_cpu_percent: float = Field(default=90.0, gt=0, le=100)
    max_loop_lag_ms: float = Field(default=50.0, gt=0)
    max_schedule_lag_ms: float = Field(default=100.0, gt=0)
    max_dropped_ratio: float = Field(default=0.001, ge=0, le=1)
    # What a worker should stay under; used to say how many workers would make an invalid step valid.
    target_cpu_percent: float = Field(default=70.0, gt=0, le=100)


class TargetMetrics(_Model):
    """The target's Prometheus metrics (process CPU and memory), scraped during a run."""

    path: str | None = "/metrics"
    interval_s: float = Field(default=15.0, gt=0)  # a scrape costs the target too: Prometheus' usual interval
    cpu_cores: float = Field(default=1.0, gt=0)  # 100% CPU = this many cores busy
    memory_limit_mb: float | None = Field(default=None, gt=0)  # None: the host's memory, for a loopback target


class SoakConfig(_Model):
    """Growth over a soak's hold that is a finding (P1 SOAK_GROWTH)."""

    memory_growth_percent: float = Field(default=20.0, gt=0)
    latency_growth_percent: float = Field(default=50.0, gt=0)
    windows: int = Field(default=6, ge=3, le=100)
    min_r2: float = Field(default=0.6, ge=0, le=1)


class LoadConfig(_Model):
    allow_hosts: list[str] = Field(default_factory=list)
    # A target with environment: production is refused unless this is true (and its host allowed).
    allow_production: bool = False
    triggers: ResourceTriggers = Field(default_factory=ResourceTriggers)
    targets: list[CapacityTarget] = Field(default_factory=lambda: [CapacityTarget(**t) for t in DEFAULT_TARGETS])
    profiles: dict[str, LoadProfile] = Field(default_factory=dict)
    mix: LoadMix = Field(default_factory=LoadMix)
    # A step's scope (overall, one integration, one operation) needs this many samples for a verdict.
    min_samples: int = Field(default=100, ge=1)
    abort: AbortConfig = Field(default_factory=AbortConfig)
    generator: GeneratorLimits = Field(default_factory=GeneratorLimits)
    metrics: TargetMetrics = Field(default_factory=TargetMetrics)
    soak: SoakConfig = Field(default_factory=SoakConfig)

    @field_validator("targets")
    @classmethod
    def _targets_up(cls, value: list[CapacityTarget]) -> list[CapacityTarget]:
        users = [t.users for t in value]
        if users != sorted(set(users)):
            raise ValueError(f"targets must go up in users, each once, got {users}")
        return value

    @field_validator("profiles", mode="before")
    @classmethod
    def _with_defaults(cls, value: Any) -> Any:
        # A profile named in the file replaces the keys it names; the other built-ins stay.
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_PROFILES.items()}
        for name, profile in value.items():
            if isinstance(profile, dict) and name in merged:
                base = merged[name]
                if "users" in profile or "steps" in profile:  # users and steps are exclusive shapes
                    base.pop("users", None)
                    base.pop("steps", None)
                merged[name] = {**base, **profile}
            else:
                merged[name] = profile
        return merged


# ---------------------------------------------------------------- reports


class ReportsConfig(_Model):
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


class Config(_Model):
    target: TargetConfig = Field(default_factory=TargetConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    slos: SLOConfig = Field(default_factory=SLOConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    schedules: SchedulesConfig = Field(default_factory=SchedulesConfig)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    load: LoadConfig = Field(default_factory=LoadConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)

    _source: Path | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_checks(self) -> Config:
        if self.target.environment == "reference":
            self.auth.fill_reference_defaults()
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
                    if key == "headers" and isinstance(v, str) and redact({k: v}, "headers")[k] != v:
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
        return self.auth.issuer or self.target.base_url

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
