"""Delivering a channel's spool: in order, with retries and exponential backoff (tenacity).

A retryable failure (timeout, refused connection, 429, 5xx) is tried ``retry.attempts`` times,
waiting ``backoff_s``, 2×, 4× … up to ``max_backoff_s`` (or the receiver's ``Retry-After`` when it
asks for longer, within the same cap). If it still fails the channel counts as down for this run:
its head notification and everything behind it stay in the spool, in order, for the next run or
``sloguard alerts flush``. A refusal (another 4xx) sets that one notification aside and goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from sloguard.config.alerts import RetryConfig
from sloguard.redact import redact_text

from .channels import Channel, DeliveryError
from .notification import Notification
from .spool import Entry, Spool

log = logging.getLogger("sloguard.alerts")
Sleep = Callable[[float], None]


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.retryable


def _wait(policy: RetryConfig) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        backoff = policy.backoff_s * 2 ** (state.attempt_number - 1)
        exc = state.outcome.exception() if state.outcome is not None else None
        asked = exc.retry_after if isinstance(exc, DeliveryError) and exc.retry_after is not None else 0.0
        return float(min(policy.max_backoff_s, max(backoff, asked)))

    return wait


def with_retries(action: Callable[[], None], policy: RetryConfig, *, sleep: Sleep = time.sleep,
                 what: str = "") -> None:
    """Run ``action``; retry retryable `DeliveryError`s with backoff; re-raise the last one."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        log.info("alerts: %s failed (%s), attempt %d of %d; trying again", what, redact_text(str(exc)),
                 state.attempt_number, policy.attempts)

    retrying = Retrying(stop=stop_after_attempt(policy.attempts), wait=_wait(policy),
                        retry=retry_if_exception(_retryable), reraise=True, sleep=sleep,
                        before_sleep=before_sleep)
    retrying(action)


def describe(n: Notification) -> str:
    """``trigger P0 PLATFORM_DOWN platform`` — for reports and logs."""
    return f"{n.kind.value} {n.severity.value} {n.rule} {n.scope}"


@dataclass
class ChannelOutcome:
    """What one channel did in one run."""

    name: str
    kind: str
    where: str
    sent: list[str] = field(default_factory=list)
    repeats: int = 0
    waiting: int = 0
    rejected: list[str] = field(default_factory=list)
    set_aside: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.rejected

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "where": self.where, "sent": self.sent,
                "repeats": self.repeats, "waiting": self.waiting, "rejected": self.rejected,
                "set_aside": self.set_aside, "error": self.error}


def flush_channel(channel: Channel[Any], spool: Spool, policy: RetryConfig, outcome: ChannelOutcome, *,
                  sleep: Sleep = time.sleep) -> None:
    """Deliver what waits in ``spool`` through ``channel``, oldest first, until it is empty or the
    channel is down. Each delivered batch is marked delivered before the next is sent."""
    entries = spool.pending()
    size = channel.batch_size
    while entries:
        batch: list[Entry] = entries[: size or len(entries)]
        notifications = [e.notification for e in batch]
        label = f"{channel.name}: {describe(notifications[0])}" + (f" (+{len(batch) - 1})" if len(batch) > 1 else "")
        def action(notifications: list[Notification] = notifications) -> None:
            channel.deliver(notifications)

        try:
            with_retries(action, policy, sleep=sleep, what=label)
        except DeliveryError as exc:
            if exc.retryable:
                outcome.error = str(exc)
                log.warning("alerts: %s is down (%s); %d notification(s) wait in the spool", channel.name,
                            outcome.error, len(entries))
                break
            if len(batch) > 1:
                size = 1  # find the one the receiver refuses; deliver the others
                continue
            spool.reject(batch[0], str(exc))
            outcome.rejected.append(f"{describe(notifications[0])}: {exc}")
            log.error("alerts: %s refused %s (%s); set aside in %s", channel.name, describe(notifications[0]),
                      exc, spool.rejected)
            entries = entries[1:]
            continue
        spool.mark_delivered(batch)
        outcome.sent.extend(describe(n) for n in notifications)
        entries = entries[len(batch):]
    outcome.waiting = len(spool)
    outcome.set_aside = len(spool.rejected_entries())


def send_now(channel: Channel[Any], notifications: Sequence[Notification], policy: RetryConfig, *,
             sleep: Sleep = time.sleep) -> None:
    """Deliver without the spool (Alertmanager's per-run repeats, test alerts); raises `DeliveryError`."""
    size = channel.batch_size or len(notifications) or 1
    for start in range(0, len(notifications), size):
        chunk = list(notifications[start:start + size])

        def action(chunk: list[Notification] = chunk) -> None:
            channel.deliver(chunk)

        with_retries(action, policy, sleep=sleep, what=f"{channel.name}: {describe(chunk[0])}")
