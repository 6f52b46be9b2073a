"""The entry point after a run: from a run's firing alerts to notifications delivered (or spooled).

`notify` is what the engine calls after every ``sloguard check …`` / ``sloguard load`` run when
``alerts.channels`` is not empty. Under a lock on the state folder (two runs never interleave) it:

1. loads ``state.json`` and first spools whatever a crashed run left in its outbox;
2. applies the run (`state.evaluate`: flap suppression, dedup, repeats, resolves);
3. saves the new state *with* the run's outbox, spools the outbox, then saves it empty — so a
   crash at any point neither loses a notification nor spools it twice;
4. delivers each channel's spool in order (retries with backoff; a channel that stays down keeps
   its notifications for the next run or ``sloguard alerts flush``);
5. re-sends firing alerts to Alertmanager (it expects repeats; not spooled, the next run repeats).

``dry_run`` prints what would be sent, redacted, and writes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard.config.alerts import AlertsConfig
from sloguard.errors import UsageError
from sloguard.redact import redact, redact_text

from .channels import Channel, DeliveryError, close_all, open_channels
from .delivery import ChannelOutcome, Sleep, describe, flush_channel, send_now
from .model import Alert
from .notification import Notification
from .spool import Spool
from .state import AlertBook, Evaluation, Outgoing, evaluate

log = logging.getLogger("sloguard.alerts")
STATE_FILE = "state.json"
SPOOL_DIR = "spool"
LOCK_FILE = ".lock"
LOCK_WAIT_S = 60.0


@dataclass
class DeliveryReport:
    """What a run sent where, what waits in the spool, what failed; ``line()`` is the human summary."""

    enabled: bool = True
    dry_run: bool = False
    flush: bool = False  # `sloguard alerts flush`: spool only, no run
    channels: dict[str, ChannelOutcome] = field(default_factory=dict)
    new: int = 0
    firing: int = 0
    held: int = 0
    resolved: int = 0
    previews: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed: every channel answered and nothing was refused."""
        return all(c.ok for c in self.channels.values())

    @property
    def sent(self) -> int:
        return sum(len(c.sent) for c in self.channels.values())

    @property
    def waiting(self) -> int:
        return sum(c.waiting for c in self.channels.values())

    def line(self) -> str:
        if not self.enabled:
            return "alerts: off (no channels in alerts.channels)"
        state = (f"{self.new} new, {self.firing} still firing, {self.held} held by flap suppression, "
                 f"{self.resolved} resolved")
        if self.flush:
            state = "spool flushed"
        if self.dry_run:
            per = ", ".join(f"{p['channel']} {p['kind']}" for p in self.previews) or "nothing"
            return f"alerts (dry run: nothing sent, nothing saved): {state}; would send: {per}"
        sent = ", ".join(f"{c.name} {len(c.sent) + c.repeats}" for c in self.channels.values()
                         if c.sent or c.repeats)
        text = f"alerts: {state}; sent {self.sent}" + (f" ({sent})" if sent else "")
        down = [f"{c.name}: {c.error}" for c in self.channels.values() if c.error]
        if self.waiting:
            text += f"; {self.waiting} waiting in the spool" + (f" ({'; '.join(down)})" if down else "")
        elif down:
            text += f"; failed: {'; '.join(down)}"
        refused = sum(len(c.rejected) for c in self.channels.values())
        if refused:
            text += f"; {refused} refused by the receiver and set aside (see `sloguard alerts flush`)"
        return redact_text(text)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = redact({
            "enabled": self.enabled, "dry_run": self.dry_run, "ok": self.ok, "new": self.new,
            "firing": self.firing, "held": self.held, "resolved": self.resolved, "sent": self.sent,
            "waiting": self.waiting, "channels": {n: c.to_dict() for n, c in self.channels.items()},
            "warnings": self.warnings, "previews": self.previews,
        })
        return out


@contextlib.contextmanager
def locked(state_dir: Path, wait_s: float = LOCK_WAIT_S) -> Iterator[None]:
    """One run at a time per state folder (two cron jobs must not both send a trigger)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise UsageError(
                        f"{state_dir}: another sloguard run is sending alerts (lock held for {wait_s:.0f} s); "
                        "wait for it, or remove the stale process"
                    ) from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def check_channels(config: AlertsConfig) -> None:
    """Validate every channel now (the engine calls this when a run starts): `UsageError` → exit 2."""
    close_all(open_channels(config))


def _outcome(name: str, channel: Channel[Any]) -> ChannelOutcome:
    return ChannelOutcome(name=name, kind=channel.kind, where=channel.describe())


def _spool_outbox(outbox: Sequence[Outgoing], spools: dict[str, Spool], report: DeliveryReport) -> None:
    for outgoing in outbox:
        for name in outgoing.channels:
            spool = spools.get(name)
            if spool is None:
                report.warnings.append(f"{describe(outgoing.notification)} was for channel '{name}', "
                                       "which is no longer configured: not sent")
                continue
            spool.enqueue(outgoing.notification)


def notify(
    alerts: Sequence[Alert],
    config: AlertsConfig,
    *,
    state_dir: Path,
    run_id: str,
    report_url: str | None = None,
    dry_run: bool = False,
    target: str | None = None,
    suite: str | None = None,
    now: datetime | None = None,
    echo: Callable[[str], None] | None = None,
    sleep: Sleep = time.sleep,
) -> DeliveryReport:
    """Route, suppress flaps, dedup, spool and deliver one run's firing ``alerts``.

    ``state_dir`` is where state and spool live (``reports/alerts``). ``target`` and ``suite`` say
    what the run covered, so an alert of another target or suite is not resolved by its absence
    (None: the run covered everything). ``report_url`` (else ``alerts.report_url``) is the report's
    address, for the link to the failing result. Raises `UsageError` for a broken channel config.
    """
    if not config.channels:
        return DeliveryReport(enabled=False)
    moment = now or datetime.now(UTC)
    channels = open_channels(config)
    try:
        repeating = {n for n, c in channels.items() if c.repeats_while_firing}
        if dry_run:
            return _dry_run(alerts, config, channels, state_dir, run_id=run_id, report_url=report_url,
                            target=target, suite=suite, now=moment, repeating=repeating, echo=echo or print)
        with locked(state_dir):
            path = state_dir / STATE_FILE
            spools = {name: Spool(state_dir / SPOOL_DIR, name) for name in channels}
            report = DeliveryReport(channels={n: _outcome(n, c) for n, c in channels.items()})
            book = AlertBook.load(path)
            if book.outbox:  # a run stopped between saving its state and spooling its outbox
                _spool_outbox(book.outbox, spools, report)
            ev = evaluate(book, alerts, config, run_id=run_id, now=moment, repeating=repeating,
                          report_url=report_url, target=target, suite=suite)
            _count(report, ev)
            ev.book.outbox = list(ev.outgoing)
            ev.book.save(path)
            _spool_outbox(ev.outgoing, spools, report)
            ev.book.outbox = []
            ev.book.save(path)
            _deliver(channels, spools, config, report, sleep=sleep)
            _repeat(channels, ev.repeats, config, report, sleep=sleep)
            for spool in spools.values():
                spool.prune()
    finally:
        close_all(channels)
    log.info("%s", report.line())
    return report


def _count(report: DeliveryReport, ev: Evaluation) -> None:
    report.new, report.firing, report.held, report.resolved = (
        len(ev.new), len(ev.firing), len(ev.held), len(ev.resolved))


def _deliver(channels: dict[str, Channel[Any]], spools: dict[str, Spool], config: AlertsConfig,
             report: DeliveryReport, *, sleep: Sleep) -> None:
    for name, channel in channels.items():
        flush_channel(channel, spools[name], config.retry, report.channels[name], sleep=sleep)


def _repeat(channels: dict[str, Channel[Any]], repeats: Sequence[Outgoing], config: AlertsConfig,
            report: DeliveryReport, *, sleep: Sleep) -> None:
    """Firing alerts again to the channels that want them every run, after their spool is empty
    (a repeat must never overtake a spooled trigger or resolve)."""
    by_channel: dict[str, list[Notification]] = {}
    for outgoing in repeats:
        for name in outgoing.channels:
            by_channel.setdefault(name, []).append(outgoing.notification)
    for name, notifications in by_channel.items():
        channel, outcome = channels.get(name), report.channels.get(name)
        if channel is None or outcome is None or outcome.error or outcome.waiting:
            continue
        try:
            send_now(channel, notifications, config.retry, sleep=sleep)
            outcome.repeats += len(notifications)
        except DeliveryError as exc:
            outcome.error = f"repeat failed: {exc}"
            log.warning("alerts: %s: re-sending %d firing alert(s) failed (%s); the next run sends them again",
                        name, len(notifications), exc)


def _dry_run(alerts: Sequence[Alert], config: AlertsConfig, channels: dict[str, Channel[Any]], state_dir: Path, *,
             run_id: str, report_url: str | None, target: str | None, suite: str | None, now: datetime,
             repeating: set[str], echo: Callable[[str], None]) -> DeliveryReport:
    """What `notify` would do, printed and returned; no file is written, nothing is sent."""
    path = state_dir / STATE_FILE
    book = AlertBook.load(path)
    ev = evaluate(book, alerts, config, run_id=run_id, now=now, repeating=repeating, report_url=report_url,
                  target=target, suite=suite)
    report = DeliveryReport(dry_run=True, channels={n: _outcome(n, c) for n, c in channels.items()})
    _count(report, ev)
    for name, channel in channels.items():
        waiting = [e.notification for e in Spool(state_dir / SPOOL_DIR, name).pending(tidy=False)]
        report.channels[name].waiting = len(waiting)
        fresh = [o.notification for o in [*book.outbox, *ev.outgoing] if name in o.channels]
        repeat = [o.notification for o in ev.repeats if name in o.channels]
        for kind, batch in (("spooled", waiting), ("new", fresh), ("repeat", repeat)):
            if not batch:
                continue
            for payload in channel.preview(batch):
                report.previews.append({"channel": name, "kind": kind, "where": channel.describe(),
                                        "notifications": [describe(n) for n in batch], "payload": payload})
    for preview in report.previews:
        echo(redact_text(f"--- {preview['channel']} ({preview['where']}), {preview['kind']}: "
                         f"{', '.join(preview['notifications'])}"))
        echo(redact_text(json.dumps(preview["payload"], indent=2, ensure_ascii=False, default=str)))
    echo(report.line())
    return report


def flush(config: AlertsConfig, *, state_dir: Path, retry_rejected: bool = False,
          sleep: Sleep = time.sleep) -> DeliveryReport:
    """Deliver what waits in the spool now (``sloguard alerts flush``), without a run."""
    channels = open_channels(config)
    try:
        with locked(state_dir):
            spools = {name: Spool(state_dir / SPOOL_DIR, name) for name in channels}
            report = DeliveryReport(flush=True, channels={n: _outcome(n, c) for n, c in channels.items()})
            book = AlertBook.load(state_dir / STATE_FILE)
            if book.outbox:
                _spool_outbox(book.outbox, spools, report)
                book.outbox = []
                book.save(state_dir / STATE_FILE)
            if retry_rejected:
                for spool in spools.values():
                    spool.retry_rejected()
            _deliver(channels, spools, config, report, sleep=sleep)
    finally:
        close_all(channels)
    return report


@dataclass
class TestResult:
    name: str
    where: str
    ok: bool
    error: str | None = None


def send_test(config: AlertsConfig, *, target: str, sleep: Sleep = time.sleep) -> list[TestResult]:
    """One test alert to every configured channel, right now (no routes, no spool, no state)."""
    channels = open_channels(config)
    results: list[TestResult] = []
    try:
        for name, channel in channels.items():
            note = Notification.test(target, runbooks=config.runbooks, report_url=config.report_url)
            try:
                send_now(channel, [note], config.retry, sleep=sleep)
                results.append(TestResult(name, channel.describe(), True))
            except DeliveryError as exc:
                results.append(TestResult(name, channel.describe(), False, str(exc)))
    finally:
        close_all(channels)
    return results
