"""The disk spool: notifications wait here, per channel and in order, until the channel takes them.

Layout, under ``<state dir>/spool/<channel>/``: ``queue/`` (waiting), ``delivered/`` (kept a week so
a replayed outbox cannot send twice) and ``rejected/`` (the receiver refused the message with a 4xx:
set aside with the error, never dropped; ``sloguard alerts flush --retry-rejected`` puts them back).
One file per notification, named ``<sequence>-<notification id>.json``; the sequence keeps the order.
Every file is written with `write_atomic` and every move is a ``rename``, so a crash leaves each
notification in exactly one of the three folders. The one window left: a crash after the receiver
answered 2xx and before the rename delivers that notification again on the next run (docs/alerts.md).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard.redact import redact, redact_text
from sloguard.results import write_atomic

from .notification import Notification

KEEP_DELIVERED_S = 7 * 86400
KEEP_DELIVERED_MAX = 2000
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")
_NAME = re.compile(r"^(\d{20})-([A-Za-z0-9_.-]+)\.json$")


def channel_dir_name(channel: str) -> str:
    """A folder name for any channel name (YAML keys may hold '/', spaces, unicode)."""
    safe = _SAFE.sub("_", channel)[:60]
    if safe == channel and safe not in (".", ".."):
        return safe
    return f"{safe}-{hashlib.sha256(channel.encode('utf-8')).hexdigest()[:8]}"


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Entry:
    """One spooled notification."""

    path: Path
    sequence: int
    notification: Notification
    error: str | None = None


class Spool:
    """One channel's queue on disk."""

    def __init__(self, root: Path, channel: str) -> None:
        self.channel = channel
        self.dir = root / channel_dir_name(channel)
        self.queue = self.dir / "queue"
        self.delivered = self.dir / "delivered"
        self.rejected = self.dir / "rejected"
        self._last_sequence = 0
        self._known: set[str] | None = None  # ids in any folder, read once (the caller holds the lock)

    # ------------------------------------------------------------ reading

    def _entries(self, folder: Path) -> list[Entry]:
        if not folder.is_dir():
            return []
        out: list[Entry] = []
        for path in folder.iterdir():
            match = _NAME.match(path.name)
            if not match:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                notification = Notification.from_dict(data["notification"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a file someone edited by hand: left where it is, not guessed at
            out.append(Entry(path, int(match[1]), notification, data.get("error")))
        return sorted(out, key=lambda e: e.sequence)

    def pending(self, *, tidy: bool = True) -> list[Entry]:
        """What waits for this channel, oldest first (an id also found delivered or rejected is
        the leftover of an interrupted move: it is not sent again, and ``tidy`` removes it)."""
        done = self._ids(self.delivered) | self._ids(self.rejected)
        waiting = []
        for entry in self._entries(self.queue):
            if entry.notification.id in done:
                if tidy:
                    with contextlib.suppress(OSError):
                        entry.path.unlink()
                continue
            waiting.append(entry)
        return waiting

    def rejected_entries(self) -> list[Entry]:
        return self._entries(self.rejected)

    def _ids(self, folder: Path) -> set[str]:
        if not folder.is_dir():
            return set()
        return {m[2] for p in folder.iterdir() if (m := _NAME.match(p.name))}

    def known(self, notification_id: str) -> bool:
        if self._known is None:
            self._known = self._ids(self.queue) | self._ids(self.delivered) | self._ids(self.rejected)
        return notification_id in self._known

    def __len__(self) -> int:
        return len(self._ids(self.queue))

    # ------------------------------------------------------------ writing

    def _next_sequence(self) -> int:
        latest = max((int(m[1]) for f in (self.queue, self.rejected) if f.is_dir()
                      for p in f.iterdir() if (m := _NAME.match(p.name))), default=0)
        self._last_sequence = max(time.time_ns(), latest + 1, self._last_sequence + 1)
        return self._last_sequence

    def enqueue(self, notification: Notification) -> bool:
        """Add ``notification`` at the end of the queue; False when this id was already spooled."""
        if self.known(notification.id):
            return False
        name = f"{self._next_sequence():020d}-{notification.id}.json"
        document = {"channel": self.channel, "enqueued_at": datetime.now(UTC).isoformat(),
                    "notification": notification.to_dict()}
        write_atomic(self.queue / name, json.dumps(redact(document), indent=1, sort_keys=True))
        if self._known is not None:
            self._known.add(notification.id)
        return True

    def mark_delivered(self, entries: list[Entry]) -> None:
        """Move delivered entries out of the queue (a rename each: atomic)."""
        self.delivered.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            os.replace(entry.path, self.delivered / entry.path.name)
            os.utime(self.delivered / entry.path.name)
        _fsync_dir(self.queue)
        _fsync_dir(self.delivered)

    def reject(self, entry: Entry, error: str) -> None:
        """Set a refused notification aside with the receiver's answer."""
        data: dict[str, Any] = json.loads(entry.path.read_text(encoding="utf-8"))
        data["error"] = redact_text(error)
        data["rejected_at"] = datetime.now(UTC).isoformat()
        write_atomic(self.rejected / entry.path.name, json.dumps(data, indent=1, sort_keys=True))
        entry.path.unlink()
        _fsync_dir(self.queue)

    def retry_rejected(self) -> int:
        """Put every rejected notification back in the queue, at its old place in the order."""
        moved = 0
        for entry in self._entries(self.rejected):
            data: dict[str, Any] = json.loads(entry.path.read_text(encoding="utf-8"))
            data.pop("error", None)
            data.pop("rejected_at", None)
            write_atomic(self.queue / entry.path.name, json.dumps(data, indent=1, sort_keys=True))
            entry.path.unlink()
            moved += 1
        if moved:
            _fsync_dir(self.rejected)
        return moved

    def prune(self, now: float | None = None) -> None:
        """Forget delivered notifications after a week (and beyond the newest 2000)."""
        if not self.delivered.is_dir():
            return
        moment = now if now is not None else time.time()
        files = sorted((p for p in self.delivered.iterdir() if _NAME.match(p.name)), key=lambda p: p.name)
        for index, path in enumerate(files):
            try:
                old = moment - path.stat().st_mtime > KEEP_DELIVERED_S
            except OSError:
                continue
            if old or index < len(files) - KEEP_DELIVERED_MAX:
                with contextlib.suppress(OSError):
                    path.unlink()
