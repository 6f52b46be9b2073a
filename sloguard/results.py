"""The one results model every runner writes and every report, SLO and alert reads.

Synthetics, load and contract runs all produce `CheckResult` records into a `ResultSet`; nothing
downstream knows which runner made a record. Results files are JSON lines, written atomically
(temp file in the same directory, fsync, rename) and redacted, so a reader never sees half a file
and never sees a secret.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard.errors import UsageError
from sloguard.redact import redact
from sloguard.severity import Rule, Severity
from sloguard.slo import SLOTarget


class Status(enum.StrEnum):
    """A check's outcome. ``flaky`` = passed only after a retry; ``error`` = could not reach a verdict."""

    PASSED = "passed"
    FAILED = "failed"
    FLAKY = "flaky"
    SKIPPED = "skipped"
    ERROR = "error"


# Kinds the engine's runners use; a team's own checks may add others.
KNOWN_KINDS = ("endpoint", "oauth", "security", "health", "sync", "tls", "contract", "load")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome, with what it was held to and why it failed.

    ``latency_ms``/``network_ms``/``http_status``/``transport_error`` describe the final attempt.
    ``attempts`` > 1 means earlier attempts failed transiently (runners retry only 5xx, timeouts and
    connection errors), and the SLO maths counts them so. A failure (failed/error) always names a
    `Rule`: when the runner gives none it defaults to INTEGRATION_DEGRADED (a check of an
    integration), OPERATION_FAILED (any other failed check) or CHECK_ERROR (status error).
    """

    check_id: str
    status: Status
    suite: str = ""
    kind: str = "endpoint"
    integration: str | None = None
    operation: str | None = None  # the OpenAPI operationId
    method: str | None = None
    path: str | None = None
    latency_ms: float | None = None
    network_ms: float | None = None  # connect + TLS handshake
    http_status: int | None = None
    transport_error: str | None = None  # "timeout", "connect", "tls", … when no response came back
    slo: SLOTarget | None = None
    severity: Severity | None = None
    rule: Rule | None = None
    error: str | None = None
    skip_reason: str | None = None
    attempts: int = 1
    started_at: datetime = field(default_factory=_utcnow)
    details: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        where = f"check {self.check_id!r}"
        if not self.check_id:
            raise ValueError("CheckResult needs a check_id: name the check (e.g. 'stripe.list_charges')")
        try:
            status = Status(str(self.status).lower())
        except ValueError:
            valid = ", ".join(s.value for s in Status)
            raise ValueError(f"{where}: status {self.status!r} is not one of {valid}") from None
        set_ = object.__setattr__
        set_(self, "status", status)
        if self.attempts < 1:
            raise ValueError(f"{where}: attempts must be 1 or more, got {self.attempts}")
        for name in ("latency_ms", "network_ms"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or value < 0):
                raise ValueError(f"{where}: {name} must be a non-negative number of ms, got {value!r}")
        rule = Rule.parse(self.rule) if self.rule is not None else None
        if rule is None and status in (Status.FAILED, Status.ERROR):
            if status is Status.ERROR:
                rule = Rule.CHECK_ERROR
            else:
                rule = Rule.INTEGRATION_DEGRADED if self.integration else Rule.OPERATION_FAILED
        set_(self, "rule", rule)
        severity = Severity.parse(self.severity) if self.severity is not None else None
        set_(self, "severity", severity or (rule.severity if rule else None))
        if isinstance(self.started_at, str):
            set_(self, "started_at", _parse_time(self.started_at, where))
        elif self.started_at.tzinfo is None:
            set_(self, "started_at", self.started_at.replace(tzinfo=UTC))
        if isinstance(self.slo, Mapping):
            set_(self, "slo", SLOTarget.from_any(self.slo))

    # --- what the SLO maths and the verdict need -------------------------------------------------

    @property
    def is_failure(self) -> bool:
        """Failed or errored (flaky passed in the end, so it is not a failure)."""
        return self.status in (Status.FAILED, Status.ERROR)

    @property
    def blocks_release(self) -> bool:
        """A failure at P0/P1: it fails the run. P2/P3 failures are reported only."""
        return self.is_failure and self.severity is not None and self.severity.fails_verdict

    @property
    def reached_network(self) -> bool:
        """A request went out (a response, or a timeout/connection error): it counts in the rates."""
        return self.status is not Status.SKIPPED and (self.http_status is not None or self.transport_error is not None)

    @property
    def unavailable(self) -> bool:
        """The final attempt found the service unavailable: 5xx, timeout or connection error.

        A 4xx is an answer — the service is up — even when it is the wrong answer.
        """
        if not self.reached_network:
            return False
        return self.transport_error is not None or (self.http_status is not None and self.http_status >= 500)

    @property
    def retried_attempts(self) -> int:
        """Attempts before the final one; each of them failed transiently."""
        return self.attempts - 1

    # --- serialisation ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (enums as names/values, time as ISO 8601 UTC)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Rule):
                value = value.name
            elif isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, SLOTarget):
                value = value.to_dict()
            elif f.name == "details":
                value = dict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Rebuild from `to_dict` output; unknown keys (from newer writers) are ignored."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        if "check_id" not in kwargs or "status" not in kwargs:
            raise ValueError("a result needs at least 'check_id' and 'status'")
        return cls(**kwargs)


def _parse_time(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: started_at {text!r} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Counts:
    """The ``checks`` block of summary.json. ``failed`` includes ``errors`` (errors are also counted
    on their own); total = passed + failed + flaky + skipped."""

    total: int = 0
    passed: int = 0
    failed: int = 0
    flaky: int = 0
    skipped: int = 0
    errors: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "flaky": self.flaky,
            "skipped": self.skipped,
            "errors": self.errors,
        }


class ResultSet:
    """A thread-safe collection of results (runner threads, asyncio tasks and Locust greenlets add to
    it at once); iteration works on a snapshot so readers never block writers for long."""

    def __init__(self, results: Iterable[CheckResult] = ()) -> None:
        self._lock = threading.Lock()
        self._results: list[CheckResult] = list(results)

    def add(self, result: CheckResult) -> None:
        with self._lock:
            self._results.append(result)

    def extend(self, results: Iterable[CheckResult]) -> None:
        items = list(results)
        with self._lock:
            self._results.extend(items)

    def snapshot(self) -> list[CheckResult]:
        with self._lock:
            return list(self._results)

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)

    def counts(self) -> Counts:
        return count(self.snapshot())

    def failures(self) -> list[CheckResult]:
        """Failed and errored results, most severe first (P0 before P3), then in order of arrival."""
        return sorted((r for r in self.snapshot() if r.is_failure), key=_severity_rank)

    # --- files -----------------------------------------------------------------------------------

    def write_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Write every result as one redacted JSON line, atomically; returns the path written."""
        lines = [json.dumps(redact(r.to_dict()), ensure_ascii=False, default=str) for r in self.snapshot()]
        text = "\n".join(lines) + ("\n" if lines else "")
        return write_atomic(path, text)

    @classmethod
    def read_jsonl(cls, *paths: str | os.PathLike[str]) -> ResultSet:
        """Read one or more results files (e.g. one per worker) into one set."""
        results: list[CheckResult] = []
        for p in paths:
            path = Path(p)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise UsageError(f"{path}: results file not found; run a check first or fix the path") from None
            except OSError as exc:
                raise UsageError(f"{path}: cannot read results file ({exc.strerror})") from None
            for lineno, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    results.append(CheckResult.from_dict(json.loads(line)))
                except (json.JSONDecodeError, ValueError, TypeError) as exc:
                    msg = str(exc).splitlines()[0]
                    raise UsageError(
                        f"{path}:{lineno}: not a valid result ({msg}); delete the file and re-run the check"
                    ) from None
        return cls(results)


def count(results: Iterable[CheckResult]) -> Counts:
    """Tally statuses into the summary's ``checks`` block."""
    tally = dict.fromkeys(Status, 0)
    for r in results:
        tally[r.status] += 1
    failed = tally[Status.FAILED] + tally[Status.ERROR]
    return Counts(
        total=sum(tally.values()),
        passed=tally[Status.PASSED],
        failed=failed,
        flaky=tally[Status.FLAKY],
        skipped=tally[Status.SKIPPED],
        errors=tally[Status.ERROR],
    )


def _severity_rank(r: CheckResult) -> int:
    return r.severity.rank if r.severity is not None else 9


def _default_mode() -> int:
    """The mode a plain open() would give a new file (0o666 minus the umask), read once at import."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _default_mode()


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Replace ``path`` with ``data`` so that readers see the old file or the new one, never a part.

    Writes a temp file in the same directory (same filesystem, so the rename is atomic), fsyncs it,
    renames it over the target, then fsyncs the directory so the rename survives a crash.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _FILE_MODE)
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(target.parent)
    return target


def _fsync_dir(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform lets a directory be opened; the data itself is already synced
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
