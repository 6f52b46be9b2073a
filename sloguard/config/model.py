"""The schema of `sloguard.yaml` (DESIGN.md section 6).

Every section has defaults that point at the reference ATOM platform, so no file is needed
for the demo; every model forbids unknown keys, so a typo is an error instead of a silent default.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass
from email.utils import parseaddr
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
from sloguard.severity import Rule

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


def _https_unless_loopback(url: str, what: str) -> None:
    """A URL that carries a credential (or is one) must not travel in clear text off this machine."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ValueError(f"{what} must be https:// (it carries a credential); http:// is only allowed on loopback")


def _secret_https_url(value: SecretStr) -> SecretStr:
    url = http_url(value.get_secret_value(), "URL")
    _https_unless_loopback(url, "the webhook URL")
    return value


def _https_url(value: str) -> str:
    _https_unless_loopback(http_url(value, "URL"), "the URL")
    return value


SecretURL = Annotated[SecretStr, AfterValidator(_secret_url)]
SecretHTTPSURL = Annotated[SecretStr, AfterValidator(_secret_https_url)]
PlainURL = Annotated[str, AfterValidator(http_url)]
HTTPSURL = Annotated[str, AfterValidator(_https_url)]
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Labels every alert has, for routes' `match:` (an alert's own `labels` may add more).
ALERT_LABELS = ("rule", "severity", "scope", "suite", "integration", "target", "warning", "state")
REPORT_URL_FIELDS = ("run_id", "fingerprint", "check_id", "rule")
ALL_SEVERITIES: tuple[Severity, ...] = ("P0", "P1", "P2", "P3")
_P0: tuple[Severity, ...] = ("P0",)


def _label_names(value: dict[str, str]) -> dict[str, str]:
    for name in value:
        if not _LABEL_NAME.match(name):
            raise ValueError(f"'{name}' is not a label name: use letters, digits and _ (not starting with a digit)")
    return value


def _no_whitespace(value: SecretStr) -> SecretStr:
    text = value.get_secret_value()
    if not text.strip():
        raise ValueError("is empty; set it to the integration key (routing key) of a PagerDuty Events API v2 service")
    if text != text.strip() or any(c.isspace() for c in text):
        raise ValueError("contains whitespace; copy the integration key exactly as PagerDuty shows it")
    return value


def _address(value: str) -> str:
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain or " " in address:
        raise ValueError(f"'{value}' is not an email address (expected name@example.com)")
    return value


EmailAddress = Annotated[str, AfterValidator(_address)]


class SlackChannel(_Model):
    """A Slack incoming webhook; the URL is the credential (https://hooks.slack.com/services/…)."""

    type: Literal["slack"]
    webhook_url: SecretHTTPSURL
    channel: str | None = None


class PagerDutyChannel(_Model):
    """PagerDuty Events API v2; `routing_key` is the service's integration key."""

    type: Literal["pagerduty"]
    routing_key: Annotated[Secret, AfterValidator(_no_whitespace)]
    events_url: HTTPSURL = "https://events.pagerduty.com/v2/enqueue"
    source: str | None = Field(default=None, min_length=1, max_length=255)


class WebhookChannel(_Model):
    """A generic JSON webhook, signed with HMAC-SHA256 when `secret` is set (docs/alerts.md)."""

    type: Literal["webhook"]
    url: SecretURL
    headers: dict[str, str] = Field(default_factory=dict)
    secret: Secret | None = None

    @model_validator(mode="after")
    def _secret_needs_tls(self) -> WebhookChannel:
        url = self.url.get_secret_value()
        if self.secret is None and urlsplit(url).scheme != "https" and not is_loopback(url):
            raise ValueError(
                "a webhook over http:// off this machine must be signed: set secret (HMAC key), or use https://"
            )
        return self


class EmailChannel(_Model):
    """SMTP with STARTTLS (or implicit TLS with `ssl: true`); P2/P3 digests by default."""

    type: Literal["email"]
    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = False
    verify_tls: bool = True
    ca_file: Path | None = None
    username: str | None = None
    password: Secret | None = None
    sender: EmailAddress
    to: Annotated[list[EmailAddress], BeforeValidator(as_list), Field(min_length=1)]
    digest: bool = True
    subject_prefix: str = "[sloguard]"

    @model_validator(mode="after")
    def _tls_and_login(self) -> EmailChannel:
        if self.ssl and self.starttls:
            raise ValueError("ssl: true (implicit TLS, port 465) and starttls: true exclude each other; set one")
        if self.password is not None and not self.username:
            raise ValueError("password is set but username is not; add username (the SMTP login)")
        if self.username and self.password is None:
            raise ValueError("username is set but password is not; add password (e.g. ${SMTP_PASSWORD})")
        plain = not (self.ssl or self.starttls)
        if plain and self.password is not None and not is_loopback(f"smtp://{self.smtp_host}"):
            raise ValueError("refusing to send the SMTP password in clear text: set starttls: true (or ssl: true)")
        return self


class AlertmanagerChannel(_Model):
    """Prometheus Alertmanager API v2. Firing alerts are re-sent every run; `expire_after` is their
    endsAt horizon, so an alert that sloguard stops sending resolves by itself after it."""

    type: Literal["alertmanager"]
    url: PlainURL
    headers: dict[str, str] = Field(default_factory=dict)
    labels: Annotated[dict[str, str], AfterValidator(_label_names)] = Field(default_factory=dict)
    expire_after: Duration = 3 * 3600.0


Channel = Annotated[
    SlackChannel | PagerDutyChannel | WebhookChannel | EmailChannel | AlertmanagerChannel,
    Field(discriminator="type"),
]


class Route(_Model):
    """Alerts of these severities whose labels match every glob in `match` go to `to`."""

    severity: Annotated[list[Severity], BeforeValidator(as_list), Field(min_length=1)] = Field(
        default_factory=lambda: list(ALL_SEVERITIES)
    )
    match: Annotated[dict[str, str], AfterValidator(_label_names)] = Field(default_factory=dict)
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]

    def matches(self, severity: str, labels: dict[str, str]) -> bool:
        return severity in self.severity and all(
            fnmatch.fnmatchcase(labels.get(name, ""), pattern) for name, pattern in self.match.items()
        )


class RetryConfig(_Model):
    """Delivery attempts within one run, with exponential backoff; then the spool keeps it."""

    attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=1.0, gt=0, le=60)
    max_backoff_s: float = Field(default=30.0, gt=0, le=600)


class AlertsConfig(_Model):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    repeat_after: Duration | None = 4 * 3600.0
    send_resolved: bool = True
    # flap suppression: fire after N consecutive failing runs, resolve after M passing ones
    fire_after: int = Field(default=2, ge=1, le=100)
    resolve_after: int = Field(default=2, ge=1, le=100)
    fire_at_once: Annotated[list[Severity], BeforeValidator(as_list)] = Field(default_factory=lambda: list(_P0))
    runbooks: dict[str, PlainURL] = Field(default_factory=dict)
    report_url: str | None = None
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("runbooks")
    @classmethod
    def _runbook_rules(cls, value: dict[str, str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for key, url in value.items():
            if key.strip().lower() == "default":
                out["default"] = url
                continue
            try:
                out[Rule.parse(key).name] = url
            except ValueError:
                names = [r.name for r in Rule]
                guess = difflib.get_close_matches(key.strip().upper(), names, n=1, cutoff=0.6)
                hint = f" — did you mean '{guess[0]}'?" if guess else ""
                raise ValueError(
                    f"unknown rule '{key}'{hint} (a rule name such as PLATFORM_DOWN, see docs/alerts.md, or 'default')"
                ) from None
        return out

    @field_validator("report_url")
    @classmethod
    def _report_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            sample = value.format(**{name: "x" for name in REPORT_URL_FIELDS})
        except (KeyError, IndexError, ValueError) as exc:
            fields = ", ".join("{" + f + "}" for f in REPORT_URL_FIELDS)
            raise ValueError(f"unknown placeholder {exc} in report_url; use {fields} (or none)") from None
        http_url(sample, "report URL")
        return value

    def channels_for(self, severity: str, labels: dict[str, str] | None = None) -> list[str]:
        """The channel names an alert of this severity (and labels) goes to, each once, in route order."""
        names: list[str] = []
        for route in self.routes:
            if route.matches(severity, {"severity": severity, **(labels or {})}):
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


class LoadProfile(_Model):
    users: int | None = Field(default=None, ge=1)
    steps: list[Annotated[int, Field(ge=1)]] | None = None
    hold: Duration | None = None
    duration: Duration | None = None
    spawn_rate: float | None = Field(default=None, gt=0)
    think_time_s: Annotated[tuple[float, float], BeforeValidator(as_pair)] = (1.0, 3.0)
    rps: float | None = Field(default=None, gt=0)

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
    "smoke": {"users": 10, "spawn_rate": 10, "duration": "30s", "think_time_s": [0.5, 1.0]},
    "capacity": {"steps": [1000, 2500, 5000, 10000], "hold": "5m", "spawn_rate": 100,
                 "think_time_s": [5, 15]},
    "soak": {"users": 1000, "spawn_rate": 50, "duration": "2h", "think_time_s": [5, 15]},
    "stress": {"steps": [1000, 2500, 5000, 10000, 15000, 20000], "hold": "2m", "spawn_rate": 200,
               "think_time_s": [1, 5]},
    "rate": {"users": 50, "rps": 200, "spawn_rate": 50, "duration": "2m", "think_time_s": [0, 0]},
}


class ResourceTriggers(_Model):
    cpu_percent: float = Field(default=70.0, gt=0, le=100)
    memory_percent: float = Field(default=75.0, gt=0, le=100)


class LoadConfig(_Model):
    allow_hosts: list[str] = Field(default_factory=list)
    triggers: ResourceTriggers = Field(default_factory=ResourceTriggers)
    profiles: dict[str, LoadProfile] = Field(default_factory=dict)

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
