"""Response validation against the OpenAPI description's schemas.

OpenAPI 3.0 schemas are JSON Schema with a few dialect differences (``nullable``); they are
converted once per schema object and compiled with jsonschema-rs, because the sweep validates
hundreds of responses and a pure-Python validator would dominate its CPU time.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import jsonschema_rs

from sloguard.spec import has_ref, to_json_schema


class SchemaValidator:
    """Compiles and caches one validator per response schema of a description."""

    def __init__(self, components: dict[str, Any] | None = None, openapi_version: str = "3.0.3") -> None:
        self._v31 = openapi_version.startswith("3.1")
        self._memo: dict[int, Any] = {}
        self._components = components if self._v31 else to_json_schema(components or {}, self._memo)
        self._cache: dict[int, jsonschema_rs.Validator] = {}
        self._lock = threading.Lock()

    def _validator(self, schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
        # Keyed by identity: schemas are the catalog's shared, long-lived objects (never copies).
        key = id(schema)
        validator = self._cache.get(key)
        if validator is None:
            with self._lock:
                body = dict(schema) if self._v31 else to_json_schema(schema, self._memo)
                # Only a schema that still holds a (cyclic) $ref needs the components beside it;
                # compiling them into every validator would cost ~20 ms per response schema.
                root = {"allOf": [body], "components": self._components or {}} if has_ref(body) else body
                cls = jsonschema_rs.Draft202012Validator if self._v31 else jsonschema_rs.Draft7Validator
                validator = cls(root, validate_formats=False)
                self._cache[key] = validator
        return validator

    def errors(self, schema: Mapping[str, Any] | None, instance: Any, limit: int = 5) -> list[str]:
        """Up to ``limit`` readable errors (``$.items[0].id: 'id' is a required property``)."""
        if not schema:
            return []
        found: list[str] = []
        for error in self._validator(schema).iter_errors(instance):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
            found.append(f"${path}: {error.message}")
            if len(found) >= limit:
                break
        return found
