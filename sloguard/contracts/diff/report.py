"""A diff of two descriptions as a report: the human text, the stable JSON document, the verdict."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sloguard.errors import UsageError
from sloguard.redact import redact, redact_text, redact_url
from sloguard.severity import Severity
from sloguard.spec import SpecError, load_spec

from .model import Change
from .operations import diff, operations

FORMAT = "sloguard.contracts.diff/1"
_OP_WIDTH = 48
_GROUP_FROM = 3  # the same change in more operations than this is one line ("+N more"; --json has all)


@dataclass(frozen=True)
class DescriptionInfo:
    """Which description a side of the diff is (source shown with secrets masked)."""

    source: str
    version: str
    title: str
    api_version: str
    operations: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "openapi": self.version, "title": self.title,
                "api_version": self.api_version, "operations": self.operations}

    def line(self) -> str:
        kind = "Swagger" if self.version.startswith("2") else "OpenAPI"
        title = f'"{self.title}" {self.api_version}'.strip() if self.title else self.api_version
        return f"{self.source}  ({kind} {self.version}, {title}, {self.operations} operations)"


def describe(spec: Mapping[str, Any], source: str) -> DescriptionInfo:
    meta = spec.get("x-sloguard")
    version = str(meta.get("version")) if isinstance(meta, Mapping) and meta.get("version") else str(
        spec.get("openapi") or spec.get("swagger") or "")
    raw_info = spec.get("info")
    info: Mapping[str, Any] = raw_info if isinstance(raw_info, Mapping) else {}
    return DescriptionInfo(redact_url(source), version, str(info.get("title") or ""), str(info.get("version") or ""),
                           len(operations(spec)))


@dataclass(frozen=True)
class DiffReport:
    old: DescriptionInfo
    new: DescriptionInfo
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> list[Change]:
        return [c for c in self.changes if c.breaking]

    @property
    def non_breaking(self) -> list[Change]:
        return [c for c in self.changes if not c.breaking]

    @property
    def exit_code(self) -> int:
        """1 when a change breaks clients of OLD, else 0."""
        return 1 if self.breaking else 0

    def to_json(self) -> dict[str, Any]:
        """The machine document (`FORMAT`); its keys and their meaning only ever grow."""
        by_severity = {s.value: sum(1 for c in self.changes if c.severity is s) for s in Severity}
        document = {
            "format": FORMAT, "old": self.old.to_dict(), "new": self.new.to_dict(), "breaking": bool(self.breaking),
            "summary": {"changes": len(self.changes), "breaking": len(self.breaking),
                        "non_breaking": len(self.non_breaking), "by_severity": by_severity},
            "changes": [c.to_dict() for c in self.changes],
        }
        return dict(redact(document))

    def text(self) -> str:
        lines = [f"OLD  {self.old.line()}", f"NEW  {self.new.line()}"]
        if not self.changes:
            lines += ["", "No changes: NEW keeps every promise OLD made (exit 0)."]
            return redact_text("\n".join(lines))
        # One line per change; the same change in many operations (a shared schema) is one line.
        groups: dict[tuple[bool, str, str, str], list[Change]] = {}
        for change in self.changes:
            groups.setdefault((change.breaking, change.rule_id, change.location, change.message), []).append(change)
        rows: list[tuple[Change, str]] = []
        for same in groups.values():
            if len(same) > _GROUP_FROM:
                rows.append((same[0], f"{same[0].operation or '-'} (+{len(same) - 1} more)"))
            else:
                rows += [(c, c.operation or "-") for c in same]
        rule_width = max(len(c.rule_id) for c, _ in rows)
        op_width = min(_OP_WIDTH, max(len(op) for _, op in rows))
        for title, breaking in (("Breaking changes", True), ("Non-breaking changes", False)):
            group = [(c, op) for c, op in rows if c.breaking is breaking]
            if group:
                count = len(self.breaking if breaking else self.non_breaking)
                lines += ["", f"{title} ({count})"]
                lines += [f"  {c.severity.value}  {c.rule_id.ljust(rule_width)}  {op.ljust(op_width)}  "
                          f"{c.location}: {c.message}" for c, op in group]
        verdict = (f"{len(self.breaking)} breaking, {len(self.non_breaking)} non-breaking: clients written against "
                   "OLD may break (exit 1)." if self.breaking else
                   f"{len(self.non_breaking)} non-breaking changes, none breaks clients (exit 0).")
        lines += ["", verdict]
        return redact_text("\n".join(lines))


def _load(source: str, side: str, headers: Mapping[str, str] | None, timeout: float) -> dict[str, Any]:
    is_url = source.startswith(("http://", "https://"))
    if not is_url and not os.path.exists(source):
        raise UsageError(f"{side} {source}: no such file; pass an OpenAPI file or an http(s) URL")
    try:
        return load_spec(source, headers=headers, timeout=timeout)
    except SpecError as exc:
        raise UsageError(f"{side} {exc}") from None


def compare(old_source: str, new_source: str, *, headers: Mapping[str, str] | None = None,
            timeout: float = 30.0) -> DiffReport:
    """Load two descriptions (files or http(s) URLs) and diff them; bad input is a one-line UsageError."""
    old = _load(old_source, "OLD", headers, timeout)
    new = _load(new_source, "NEW", headers, timeout)
    return DiffReport(describe(old, old_source), describe(new, new_source), tuple(diff(old, new)))
