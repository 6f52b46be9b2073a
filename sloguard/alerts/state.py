"""Alert state across runs: flap suppression, dedup, repeats and resolves (``state.json``).

Each fingerprint seen failing is tracked. It is *pending* until it has failed ``fire_after``
consecutive runs (severities in ``fire_at_once``, P0 by default, fire on the first), then *firing*:
one trigger per channel, however many runs it keeps failing. It resolves after ``resolve_after``
consecutive passing runs, and the resolve goes to the channels its trigger reached. A pending alert
that passes once is forgotten. A run only counts as passing for alerts it could have seen: the same
target and, when both are known, the same suite (``all`` covers synthetics and contracts).

`evaluate` is pure: it returns the new state and the notifications to send; `notify` persists them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sloguard.config.alerts import AlertsConfig
from sloguard.errors import UsageError
from sloguard.redact import redact, redact_text
from sloguard.results import write_atomic

from .model import Alert, target_key
from .notification import Kind, Notification
from .routes import channels_for

VERSION = 1
PENDING = "pending"
FIRING = "firing"
_SUITES_OF = {"all": {"synthetics", "contracts", "all"}}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Tracked:
    """One fingerprint's life: how many runs in a row failed or passed, and where it was sent."""

    fingerprint: str
    alert: dict[str, Any]  # the latest Alert.to_dict(), redacted
    status: str = PENDING
    fail_streak: int = 0
    pass_streak: int = 0
    first_failed_at: str = ""
    fired_at: str | None = None
    last_sent_at: str | None = None
    channels: list[str] = field(default_factory=list)
    last_run_id: str = ""

    @property
    def target(self) -> str:
        return str(self.alert.get("target", ""))

    @property
    def suite(self) -> str:
        return str(self.alert.get("suite", ""))

    def to_alert(self) -> Alert:
        return Alert.from_dict(self.alert)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "fail_streak": self.fail_streak, "pass_streak": self.pass_streak,
                "first_failed_at": self.first_failed_at, "fired_at": self.fired_at,
                "last_sent_at": self.last_sent_at, "channels": self.channels, "last_run_id": self.last_run_id,
                "alert": self.alert}

    @classmethod
    def from_dict(cls, fingerprint: str, data: Mapping[str, Any]) -> Tracked:
        return cls(fingerprint=fingerprint, alert=dict(data["alert"]), status=str(data.get("status", PENDING)),
                   fail_streak=int(data.get("fail_streak", 0)), pass_streak=int(data.get("pass_streak", 0)),
                   first_failed_at=str(data.get("first_failed_at", "")), fired_at=data.get("fired_at"),
                   last_sent_at=data.get("last_sent_at"), channels=list(data.get("channels", [])),
                   last_run_id=str(data.get("last_run_id", "")))


@dataclass
class Outgoing:
    """A notification and the channels it must reach (the outbox; spooled right after saving)."""

    notification: Notification
    channels: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"channels": self.channels, "notification": self.notification.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outgoing:
        return cls(Notification.from_dict(data["notification"]), list(data["channels"]))


@dataclass
class AlertBook:
    """The content of ``state.json``."""

    alerts: dict[str, Tracked] = field(default_factory=dict)
    outbox: list[Outgoing] = field(default_factory=list)
    last_run_id: str = ""

    @classmethod
    def load(cls, path: Path) -> AlertBook:
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(alerts={fp: Tracked.from_dict(fp, t) for fp, t in data.get("alerts", {}).items()},
                       outbox=[Outgoing.from_dict(o) for o in data.get("outbox", [])],
                       last_run_id=str(data.get("last_run_id", "")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"{path}: alert state is unreadable ({type(exc).__name__}); move it aside to start afresh "
                "(firing alerts will be sent once more)"
            ) from None

    def save(self, path: Path) -> None:
        document = {"version": VERSION, "last_run_id": self.last_run_id,
                    "alerts": {fp: t.to_dict() for fp, t in sorted(self.alerts.items())},
                    "outbox": [o.to_dict() for o in self.outbox]}
        write_atomic(path, json.dumps(redact(document), indent=1, sort_keys=True))


@dataclass
class Evaluation:
    """What one run changes: new state, what to spool, what to repeat to Alertmanager, and counts."""

    book: AlertBook
    outgoing: list[Outgoing] = field(default_factory=list)
    repeats: list[Outgoing] = field(default_factory=list)  # not spooled: the next run repeats them anyway
    new: list[str] = field(default_factory=list)
    firing: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)


def covers(tracked: Tracked, target: str | None, suite: str | None) -> bool:
    """Whether a run of ``suite`` against ``target`` could have raised ``tracked`` (so its absence
    is a pass). Unknown target or suite: yes."""
    if target and tracked.target and target_key(redact_text(target)) != target_key(tracked.target):
        return False
    if suite and tracked.suite and suite != tracked.suite:
        return tracked.suite in _SUITES_OF.get(suite, set())
    return True


def evaluate(
    book: AlertBook, alerts: Iterable[Alert], config: AlertsConfig, *, run_id: str, now: datetime,
    repeating: set[str], report_url: str | None = None, target: str | None = None, suite: str | None = None,
    route: Callable[[Alert, AlertsConfig], list[str]] = channels_for,
) -> Evaluation:
    """Apply one run's firing alerts to ``book``; ``repeating`` names the channels that want
    every firing alert every run (Alertmanager)."""
    state = AlertBook(alerts={fp: replace(t, channels=list(t.channels)) for fp, t in book.alerts.items()},
                      last_run_id=run_id)
    out = Evaluation(state)
    present: dict[str, Alert] = {}
    for alert in alerts:
        if alert.firing:
            present.setdefault(alert.fingerprint, alert)  # the first (most severe) of duplicates
    report = report_url or config.report_url
    at_once = set(config.fire_at_once)
    repeat_after = timedelta(seconds=config.repeat_after) if config.repeat_after else None

    def note(alert: Alert, kind: Kind, tracked: Tracked) -> Notification:
        n = Notification.from_alert(alert, kind, runbooks=config.runbooks, report_url=report, now=now)
        started = _when(tracked.first_failed_at) or alert.started_at
        return replace(n, fingerprint=tracked.fingerprint, started_at=started)

    for fp, alert in present.items():
        tracked = state.alerts.get(fp)
        if tracked is None:
            tracked = state.alerts[fp] = Tracked(fingerprint=fp, alert={}, first_failed_at=_iso(now))
        tracked.alert = redact(alert.to_dict())
        tracked.fail_streak += 1
        tracked.pass_streak = 0
        tracked.last_run_id = run_id
        routes = route(alert, config)
        if tracked.status == PENDING:
            if alert.severity.value in at_once or tracked.fail_streak >= config.fire_after:
                tracked.status, tracked.fired_at, tracked.last_sent_at = FIRING, _iso(now), _iso(now)
                tracked.channels = list(routes)
                out.new.append(fp)
                if routes:
                    out.outgoing.append(Outgoing(note(alert, Kind.TRIGGER, tracked), list(routes)))
            else:
                out.held.append(fp)
            continue
        out.firing.append(fp)
        added = [c for c in routes if c not in tracked.channels]
        if added:  # escalated to a route it did not match before, or a channel added to the config
            out.outgoing.append(Outgoing(note(alert, Kind.TRIGGER, tracked), added))
            tracked.channels.extend(added)
        last = _when(tracked.last_sent_at) or now
        others = [c for c in tracked.channels if c not in repeating and c not in added]
        if repeat_after is not None and others and now - last >= repeat_after:
            out.outgoing.append(Outgoing(note(alert, Kind.REPEAT, tracked), others))
            tracked.last_sent_at = _iso(now)
        again = [c for c in tracked.channels if c in repeating and c not in added]
        if again:
            out.repeats.append(Outgoing(note(alert, Kind.REPEAT, tracked), again))

    for fp, tracked in list(state.alerts.items()):
        if fp in present or not covers(tracked, target, suite):
            continue
        if tracked.status == PENDING:
            del state.alerts[fp]  # one pass resets flap suppression
            continue
        tracked.pass_streak += 1
        tracked.fail_streak = 0
        if tracked.pass_streak < config.resolve_after:
            out.firing.append(fp)
            again = [c for c in tracked.channels if c in repeating]
            if again:
                out.repeats.append(Outgoing(note(tracked.to_alert(), Kind.REPEAT, tracked), again))
            continue
        del state.alerts[fp]
        out.resolved.append(fp)
        if config.send_resolved and tracked.channels:
            resolved = tracked.to_alert().resolve(run_id, at=now)
            out.outgoing.append(Outgoing(note(resolved, Kind.RESOLVE, tracked), list(tracked.channels)))
    return out
