"""The one interface every alert channel implements, and how channels are built from the config.

A channel is built once per run from its config section and validates it then (a broken channel
config is a `UsageError` at start, exit 2, never a surprise at the first alert). It delivers
`Notification`s: ``send`` for trigger / repeat / test, ``resolve`` for resolve. A failed delivery
raises `DeliveryError`, which says whether trying again can help; retries, backoff and the disk
spool live in `sloguard.alerts.delivery` and `sloguard.alerts.spool`, not in channels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from sloguard.errors import UsageError
from sloguard.redact import MASK, redact, redact_text, register_secret

from ..notification import Notification

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class DeliveryError(Exception):
    """A delivery that did not go through. ``retryable``: a timeout, 5xx or 429 (try again later);
    otherwise the receiver refused this message (4xx) and it is set aside, not retried forever."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None) -> None:
        super().__init__(redact_text(message))
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class ChannelSettings:
    """What every channel shares from ``alerts:``."""

    timeout_s: float = 10.0


class Channel(ABC, Generic[ConfigT]):
    """One configured destination (``alerts.channels.<name>``)."""

    kind: ClassVar[str]
    # Alertmanager expects firing alerts again and again; other channels get one trigger.
    repeats_while_firing: ClassVar[bool] = False
    # How many spooled notifications one delivery takes (None: all pending, e.g. an email digest).
    batch_size: int | None = 1

    def __init__(self, name: str, config: ConfigT, settings: ChannelSettings) -> None:
        self.name = name
        self.config = config
        self.settings = settings
        self._secrets: list[str] = []
        self.validate()

    # ------------------------------------------------------------ lifecycle

    def validate(self) -> None:
        """Check what the config model cannot (files, header syntax); raise `UsageError`."""

    def secret(self, value: str | None) -> str | None:
        """Register ``value`` so no log line, report or dry-run output can carry it; return it."""
        if value:
            register_secret(value)
            self._secrets.append(value)
        return value

    def close(self) -> None:
        """Release connections (HTTP clients)."""

    def fail(self, message: str) -> UsageError:
        """A config problem of this channel, as the one-line error the command line prints."""
        return UsageError(f"alerts.channels.{self.name} ({self.kind}): {redact_text(message)}")

    # ------------------------------------------------------------ delivery

    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Deliver a trigger, repeat or test notification; raise `DeliveryError` when it did not."""

    @abstractmethod
    def resolve(self, notification: Notification) -> None:
        """Tell the receiver the alert cleared; raise `DeliveryError` when it did not."""

    def deliver(self, batch: Sequence[Notification]) -> None:
        """Deliver ``batch`` (``batch_size`` long at most) in order; all or an error."""
        for notification in batch:
            if notification.resolved:
                self.resolve(notification)
            else:
                self.send(notification)

    @abstractmethod
    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        """What ``deliver(batch)`` would send, one item per request or message (for --dry-run)."""

    def preview(self, batch: Sequence[Notification]) -> list[Any]:
        """`payloads`, with every credential of this channel masked."""
        out = []
        for payload in self.payloads(batch):
            shown = redact(payload)
            for secret in self._secrets:
                shown = _mask(shown, secret)
            out.append(shown)
        return out

    def describe(self) -> str:
        """Where it goes, without its credentials: ``slack (hooks.slack.com)``."""
        return self.kind


def _mask(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, MASK)
    if isinstance(value, dict):
        return {k: _mask(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, secret) for v in value]
    return value


def open_channel(name: str, config: BaseModel, settings: ChannelSettings) -> Channel[Any]:
    """Build the channel for one config section (validating it)."""
    from .alertmanager import AlertmanagerChannel
    from .email import EmailChannel
    from .pagerduty import PagerDutyChannel
    from .slack import SlackChannel
    from .webhook import WebhookChannel

    kinds: dict[str, type[Channel[Any]]] = {
        c.kind: c for c in (SlackChannel, PagerDutyChannel, AlertmanagerChannel, WebhookChannel, EmailChannel)
    }
    kind = str(getattr(config, "type", ""))
    if kind not in kinds:
        raise UsageError(f"alerts.channels.{name}: unknown channel type '{kind}' (one of: {', '.join(kinds)})")
    return kinds[kind](name, config, settings)
