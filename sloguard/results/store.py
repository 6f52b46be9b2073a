"""A run's records in memory and on disk (``results.jsonl``).

Runner threads, asyncio tasks and Locust greenlets add to one `ResultSet` at once; readers take
snapshots. On disk it is JSON lines — one check result or aggregate per line, redacted, written
atomically — so several workers' files can be read back into one set.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import orjson

from sloguard.errors import UsageError
from sloguard.redact import redact

from .files import write_atomic
from .model import Aggregate, CheckResult, Counts, count


class ResultSet:
    """Check results and aggregates of one run (any mix of suites)."""

    def __init__(self, results: Iterable[CheckResult] = (), aggregates: Iterable[Aggregate] = ()) -> None:
        self._lock = threading.Lock()
        self._results: list[CheckResult] = list(results)
        self._aggregates: dict[tuple[object, ...], Aggregate] = {}
        for aggregate in aggregates:
            self.add_aggregate(aggregate)

    def add(self, result: CheckResult) -> None:
        with self._lock:
            self._results.append(result)

    def extend(self, results: Iterable[CheckResult]) -> None:
        items = list(results)
        with self._lock:
            self._results.extend(items)

    def add_aggregate(self, aggregate: Aggregate) -> None:
        """Add an aggregate; one of the same scope already here is merged into (workers' records)."""
        with self._lock:
            known = self._aggregates.get(aggregate.key)
            if known is None:
                self._aggregates[aggregate.key] = aggregate
            else:
                known.merge(aggregate)

    def merge(self, other: ResultSet) -> None:
        self.extend(other.snapshot())
        for aggregate in other.aggregates():
            self.add_aggregate(aggregate)

    def snapshot(self) -> list[CheckResult]:
        with self._lock:
            return list(self._results)

    def aggregates(self) -> list[Aggregate]:
        with self._lock:
            return list(self._aggregates.values())

    def __iter__(self) -> Iterator[CheckResult]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)

    def counts(self) -> Counts:
        return count(self.snapshot())

    def suites(self) -> list[str]:
        """The suites present, in order of first appearance."""
        names = [r.suite for r in self.snapshot()] + [a.suite for a in self.aggregates()]
        return list(dict.fromkeys(n for n in names if n))

    def failures(self) -> list[CheckResult]:
        """Failed and errored results, most severe first (P0 before P3), then in order of arrival."""
        failed = [r for r in self.snapshot() if r.is_failure]
        return sorted(failed, key=lambda r: r.severity.rank if r.severity is not None else 9)

    # --- files -----------------------------------------------------------------------------------

    def write_jsonl(self, path: str | os.PathLike[str]) -> Path:
        """Every record as one redacted JSON line, atomically; returns the path written.

        Evidence was redacted when it was recorded (`Exchange.record`), so only the rest of each
        record goes through the redactor again: a sweep's evidence is megabytes of bodies.
        """
        lines: list[bytes] = []
        for result in self.snapshot():
            record = redact(result.to_dict(evidence=False))
            record["evidence"] = [e.to_dict() for e in result.evidence]
            lines.append(orjson.dumps(record, default=str))
        lines += [orjson.dumps(redact(a.to_dict()), default=str) for a in self.aggregates()]
        return write_atomic(path, b"\n".join(lines) + (b"\n" if lines else b""))

    @classmethod
    def read_jsonl(cls, *paths: str | os.PathLike[str]) -> ResultSet:
        """Read one or more results files (e.g. one per suite or worker) into one set."""
        out = cls()
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
                    data = json.loads(line)
                    if data.get("record") == "aggregate":
                        out.add_aggregate(Aggregate.from_dict(data))
                    else:
                        out.add(CheckResult.from_dict(data))
                except (json.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
                    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    raise UsageError(
                        f"{path}:{lineno}: not a valid result ({msg}); delete the file and re-run the check"
                    ) from None
        return out
