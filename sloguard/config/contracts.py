"""The `contracts:` section: what a Schemathesis contract run may touch, how long and how hard it tries.

Exclusions name operations by tag (``tag:Admin``), operationId or ``METHOD /path`` (globs allowed). The
reference profile excludes the Admin tag unless the file says otherwise: those operations inject faults,
and fuzzing them would break the platform the run is judging.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Literal

from pydantic import Field, field_validator

from .base import ConfigModel
from .values import Duration, as_list

Phase = Literal["examples", "coverage", "fuzzing", "stateful"]
PHASES: tuple[Phase, ...] = ("examples", "coverage", "fuzzing", "stateful")
# Schemathesis' default checks plus the ones the contract suite always adds. `max_response_time` is the
# latency SLO (contracts.max_response_time_ms, else slos.default.latency_p95_ms).
CHECKS: tuple[str, ...] = (
    "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_headers_conformance",
    "response_schema_conformance", "negative_data_rejection", "positive_data_acceptance",
    "missing_required_header", "unsupported_method", "allow_header_conformance", "use_after_free",
    "ensure_resource_availability", "ignored_auth", "max_response_time",
)
REFERENCE_EXCLUDE = ("tag:Admin",)


class ContractsConfig(ConfigModel):
    exclude: list[str] = Field(default_factory=list)
    max_examples: int = Field(default=10, ge=1, le=10_000)
    # 1: 2 threads were faster but crashed inside Hypothesis on Python 3.11 (docs/contracts.md)
    workers: int = Field(default=1, ge=1, le=16)
    seed: int | None = Field(default=None, ge=0)
    budget: Duration | None = None
    phases: list[Phase] = Field(default_factory=lambda: list(PHASES))
    checks: list[str] = Field(default_factory=lambda: list(CHECKS))
    max_response_time_ms: float | None = Field(default=None, gt=0)
    request_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("exclude", "phases", "checks", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return as_list(value)

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[str]) -> list[str]:
        unknown = [c for c in value if c not in CHECKS]
        if unknown:
            raise ValueError(f"unknown check {unknown[0]!r}; use any of {', '.join(CHECKS)}")
        return value

    @field_validator("phases")
    @classmethod
    def _some_phase(cls, value: list[Phase]) -> list[Phase]:
        if not value:
            raise ValueError(f"name at least one phase: {', '.join(PHASES)}")
        return value

    def fill_reference_defaults(self) -> None:
        if "exclude" not in self.model_fields_set:
            self.exclude = list(REFERENCE_EXCLUDE)

    def excludes(self, operation_id: str | None, method: str, path: str, tags: Iterable[str]) -> str | None:
        """The exclusion pattern that matches this operation, if any."""
        forms = [f"{method.upper()} {path}", *([operation_id] if operation_id else [])]
        tag_forms = [f"tag:{t}" for t in tags]
        for pattern in self.exclude:
            candidates = tag_forms if pattern.startswith("tag:") else forms
            if any(fnmatch.fnmatchcase(c.lower(), pattern.lower()) for c in candidates):
                return pattern
        return None
