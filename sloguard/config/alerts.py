"""The `alerts:` section: channels (Slack, PagerDuty, webhook, email, Alertmanager), severity and label
routes, flap suppression, runbooks and delivery retries."""

from __future__ import annotations

import difflib
import fnmatch
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, field_validator, model_validator

from sloguard.severity import Rule, Severity

from .base import ConfigModel, Secret
from .values import Duration, SeverityValue, as_list, http_url, is_loopback


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
ALL_SEVERITIES: tuple[Severity, ...] = tuple(Severity)


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


class SlackChannel(ConfigModel):
    """A Slack incoming webhook; the URL is the credential (https://hooks.slack.com/services/…)."""

    type: Literal["slack"]
    webhook_url: SecretHTTPSURL
    channel: str | None = None


class PagerDutyChannel(ConfigModel):
    """PagerDuty Events API v2; `routing_key` is the service's integration key."""

    type: Literal["pagerduty"]
    routing_key: Annotated[Secret, AfterValidator(_no_whitespace)]
    events_url: HTTPSURL = "https://events.pagerduty.com/v2/enqueue"
    source: str | None = Field(default=None, min_length=1, max_length=255)


class WebhookChannel(ConfigModel):
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


class EmailChannel(ConfigModel):
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


class AlertmanagerChannel(ConfigModel):
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


class Route(ConfigModel):
    """Alerts of these severities whose labels match every glob in `match` go to `to`."""

    severity: Annotated[list[SeverityValue], BeforeValidator(as_list), Field(min_length=1)] = Field(
        default_factory=lambda: list(ALL_SEVERITIES)
    )
    match: Annotated[dict[str, str], AfterValidator(_label_names)] = Field(default_factory=dict)
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]

    def matches(self, severity: Severity | str, labels: dict[str, str]) -> bool:
        return severity in self.severity and all(
            fnmatch.fnmatchcase(labels.get(name, ""), pattern) for name, pattern in self.match.items()
        )


class RetryConfig(ConfigModel):
    """Delivery attempts within one run, with exponential backoff; then the spool keeps it."""

    attempts: int = Field(default=3, ge=1, le=10)
    backoff_s: float = Field(default=1.0, gt=0, le=60)
    max_backoff_s: float = Field(default=30.0, gt=0, le=600)


class AlertsConfig(ConfigModel):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    repeat_after: Duration | None = 4 * 3600.0
    send_resolved: bool = True
    # flap suppression: fire after N consecutive failing runs, resolve after M passing ones
    fire_after: int = Field(default=2, ge=1, le=100)
    resolve_after: int = Field(default=2, ge=1, le=100)
    fire_at_once: Annotated[list[SeverityValue], BeforeValidator(as_list)] = Field(
        default_factory=lambda: [Severity.P0])
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

    def channels_for(self, severity: Severity | str, labels: dict[str, str] | None = None) -> list[str]:
        """The channel names an alert of this severity (and labels) goes to, each once, in route order."""
        names: list[str] = []
        for route in self.routes:
            if route.matches(severity, {"severity": str(severity), **(labels or {})}):
                names.extend(n for n in route.to if n not in names)
        return names
