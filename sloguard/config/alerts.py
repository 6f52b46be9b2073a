"""The `alerts:` section: channels (Slack, PagerDuty, webhook, email, Alertmanager) and severity routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

from sloguard.severity import Severity

from .base import ConfigModel, Secret
from .values import Duration, SeverityValue, as_list, http_url


def _secret_url(value: SecretStr) -> SecretStr:
    http_url(value.get_secret_value(), "URL")
    return value


SecretURL = Annotated[SecretStr, AfterValidator(_secret_url)]
PlainURL = Annotated[str, AfterValidator(http_url)]


class SlackChannel(ConfigModel):
    type: Literal["slack"]
    webhook_url: SecretURL
    channel: str | None = None


class PagerDutyChannel(ConfigModel):
    type: Literal["pagerduty"]
    routing_key: Secret
    events_url: PlainURL = "https://events.pagerduty.com/v2/enqueue"


class WebhookChannel(ConfigModel):
    type: Literal["webhook"]
    url: SecretURL
    headers: dict[str, str] = Field(default_factory=dict)
    secret: Secret | None = None


class EmailChannel(ConfigModel):
    type: Literal["email"]
    smtp_host: str
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username: str | None = None
    password: Secret | None = None
    sender: str
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]


class AlertmanagerChannel(ConfigModel):
    type: Literal["alertmanager"]
    url: PlainURL
    headers: dict[str, str] = Field(default_factory=dict)


Channel = Annotated[
    SlackChannel | PagerDutyChannel | WebhookChannel | EmailChannel | AlertmanagerChannel,
    Field(discriminator="type"),
]


class Route(ConfigModel):
    severity: Annotated[list[SeverityValue], BeforeValidator(as_list), Field(min_length=1)]
    to: Annotated[list[str], BeforeValidator(as_list), Field(min_length=1)]


class AlertsConfig(ConfigModel):
    channels: dict[str, Channel] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    repeat_after: Duration = 4 * 3600.0
    send_resolved: bool = True

    def channels_for(self, severity: Severity | str) -> list[str]:
        """The channel names an alert of this severity goes to, each once, in route order."""
        names: list[str] = []
        for route in self.routes:
            if severity in route.severity:
                names.extend(n for n in route.to if n not in names)
        return names
