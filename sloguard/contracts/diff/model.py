"""One change between two descriptions, as the differ reports it and alerts and reports read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sloguard.severity import Severity

from .rules import Kind, Level, rule


@dataclass(frozen=True, order=False)
class Change:
    """A classified change. ``operation`` is ``"METHOD /path"`` (empty for document-level changes);
    ``location`` says where in the operation, e.g. ``response 200 body /items/0/id``."""

    kind: Kind
    rule_id: str
    severity: Severity
    breaking: bool
    level: Level
    operation: str
    location: str
    message: str

    @classmethod
    def of(cls, rule_id: str, operation: str, location: str, message: str) -> Change:
        """A change of the catalogued rule ``rule_id`` (its kind, severity and level come from the rule)."""
        spec = rule(rule_id)
        return cls(spec.kind, rule_id, spec.severity, spec.breaking, spec.level, operation, location, message)

    def sort_key(self) -> tuple[Any, ...]:
        """Breaking first, then by urgency, then by where: a stable order for text and JSON."""
        method, _, path = self.operation.partition(" ")
        return (not self.breaking, self.severity.rank, path, method, self.location, self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id, "kind": self.kind, "severity": self.severity.value,
            "breaking": self.breaking, "level": self.level, "operation": self.operation,
            "location": self.location, "message": self.message,
        }
