"""Records of a resource: their JSON schemas, validation, creation, patching and sync checksum.

The schemas here are the ones published in the OpenAPI description and the ones input is
validated against, so a request the description calls valid is accepted and vice versa.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import best_match

from .integrations import INTEGRATIONS, MODEL, PLATFORM, PLATFORM_RESOURCES
from .resources import CHECKSUM_EXCLUDED, Resource, fake_value

TENANTS = ("acme", "globex")
SEED_PER_RESOURCE = 3
_SEED_NAMESPACE = uuid.UUID("6f1c0a52-4b8e-4c1e-9a57-0d7d1f0e2a11")

SOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Where a synced record came from",
    "required": ["integration", "resource", "id"],
    "properties": {
        "integration": {"type": "string", "example": "jira"},
        "resource": {"type": "string", "example": "issues"},
        "id": {"type": "string", "example": "3f0c5e1e-8d3b-4b7a-9a53-2f1f3c9f6a10"},
    },
}
SYNC_TO_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "integrations to copy this record to (their primary resource), after the sync delay",
    "items": {"type": "string", "enum": sorted(INTEGRATIONS)},
    "uniqueItems": True,
    "maxItems": len(INTEGRATIONS),
    "example": ["slack"],
}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- schemas -----------------------------------------------------------------------------------------
def create_schema(resource: Resource) -> dict[str, Any]:
    props = {f.name: f.schema() for f in resource.fields}
    if resource.syncable:
        props["sync_to"] = SYNC_TO_SCHEMA
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if resource.required:
        out["required"] = list(resource.required)
    out["example"] = {**resource.example(), **({"sync_to": ["slack"]} if resource.syncable else {})}
    return out


def update_schema(resource: Resource) -> dict[str, Any]:
    props = {f.name: {k: v for k, v in f.schema().items() if k != "default"} for f in resource.fields}
    first = resource.fields[0]
    return {"type": "object", "properties": props, "additionalProperties": False,
            "example": {first.name: first.example}}


def record_schema(resource: Resource) -> dict[str, Any]:
    props: dict[str, Any] = {
        "id": {"type": "string", "format": "uuid", "readOnly": True,
               "example": "3f0c5e1e-8d3b-4b7a-9a53-2f1f3c9f6a10"},
        "tenant_id": {"type": "string", "readOnly": True, "example": "acme"},
    }
    props.update({f.name: {k: v for k, v in f.schema().items() if k != "default"} for f in resource.fields})
    if resource.syncable:
        props["sync_to"] = SYNC_TO_SCHEMA
    props["source"] = SOURCE_SCHEMA
    props["source_checksum"] = {
        "type": "string", "pattern": "^[0-9a-f]{64}$", "readOnly": True,
        "description": "SHA-256 of the source record's canonical JSON",
        "example": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    }
    props["created_at"] = {"type": "string", "format": "date-time", "readOnly": True,
                           "example": "2025-03-01T09:30:00.000Z"}
    props["updated_at"] = {"type": "string", "format": "date-time", "readOnly": True,
                           "example": "2025-03-01T09:30:00.000Z"}
    example = {"id": props["id"]["example"], "tenant_id": "acme", **resource.example(),
               "created_at": "2025-03-01T09:30:00.000Z", "updated_at": "2025-03-01T09:30:00.000Z"}
    return {"type": "object", "properties": props,
            "required": ["id", "tenant_id", *resource.required, "created_at", "updated_at"], "example": example}


# -- validation --------------------------------------------------------------------------------------
class ValidationFailed(ValueError):
    """The body does not match the schema; the message names the field and the rule."""


@dataclass
class Validators:
    create: Draft4Validator
    update: Draft4Validator


_FORMATS = FormatChecker()
# jsonschema checks "uri" and "hostname" only with optional packages; these are the rules we publish.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


@_FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


@_FORMATS.checks("hostname")
def _is_hostname(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return 0 < len(value) <= 253 and all(_LABEL.fullmatch(label) for label in value.rstrip(".").split("."))


_validators: dict[tuple[str, str], Validators] = {}


def validators(integration: str, resource: Resource) -> Validators:
    key = (integration, resource.name)
    found = _validators.get(key)
    if found is None:
        found = Validators(Draft4Validator(create_schema(resource), format_checker=_FORMATS),
                           Draft4Validator(update_schema(resource), format_checker=_FORMATS))
        _validators[key] = found
    return found


def validate(validator: Draft4Validator, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed("the request body must be a JSON object")
    error = best_match(validator.iter_errors(body))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "body"
        message = error.message if len(error.message) <= 200 else error.message[:197] + "..."
        raise ValidationFailed(f"{where}: {message}")
    return body


# -- records -------------------------------------------------------------------------------------------
def new_record(resource: Resource, tenant: str, body: dict[str, Any], rid: str | None = None) -> dict[str, Any]:
    now = now_iso()
    record: dict[str, Any] = {"id": rid or str(uuid.uuid4()), "tenant_id": tenant}
    record.update(resource.defaults())
    record.update(body)
    record["created_at"] = now
    record["updated_at"] = now
    return record


def patched(record: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = {**record, **patch}
    out["updated_at"] = now_iso()
    return out


def search_keys(resource: Resource) -> tuple[str, ...]:
    return tuple(f.name for f in resource.fields if f.type == "string")


def checksum(record: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: sorted keys, compact separators, UTF-8, server fields left out."""
    canonical = {k: v for k, v in record.items() if k not in CHECKSUM_EXCLUDED}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def drifted(record: dict[str, Any], resource: Resource) -> dict[str, Any]:
    """The record as the ``schema_drift`` fault serves it: one required field gone."""
    field = resource.drift_field()
    return {k: v for k, v in record.items() if k != field}


def resource_of(integration: str, name: str) -> Resource | None:
    if integration == PLATFORM:
        return PLATFORM_RESOURCES.get(name)
    found = MODEL.get(integration)
    return found.resource(name) if found else None


def synced_record(target: str, tenant: str, source: dict[str, Any], source_integration: str,
                  source_resource: Resource) -> dict[str, Any]:
    """The record sync writes into ``target``'s primary resource for ``source``."""
    resource = MODEL[target].primary
    body = resource.example()
    text_field = resource.field(resource.text_field)
    title = str(source.get(source_resource.title_field, ""))
    if text_field.max_length:
        title = title[: text_field.max_length]
    body[resource.text_field] = title
    record = new_record(resource, tenant, body)
    record["source"] = {"integration": source_integration, "resource": source_resource.name, "id": source["id"]}
    record["source_checksum"] = checksum(source)
    return record


# -- seed data -----------------------------------------------------------------------------------------
def seed_rows() -> list[tuple[str, str, dict[str, Any], str]]:
    """A few realistic records per resource and tenant, so list calls return data from the start."""
    from faker import Faker

    faker = Faker("en_US")
    faker.seed_instance(1042)
    rng = random.Random(1042)
    scopes: list[tuple[str, Resource]] = [(slug, r) for slug, integ in MODEL.items() for r in integ.resources]
    scopes += [(PLATFORM, r) for r in PLATFORM_RESOURCES.values()]
    rows: list[tuple[str, str, dict[str, Any], str]] = []
    for tenant in TENANTS:
        for slug, resource in scopes:
            keys = search_keys(resource)
            for n in range(SEED_PER_RESOURCE):
                body = {f.name: fake_value(f, faker, rng) for f in resource.fields}
                rid = str(uuid.uuid5(_SEED_NAMESPACE, f"{tenant}/{slug}/{resource.name}/{n}"))
                record = new_record(resource, tenant, body, rid)
                rows.append((slug, resource.name, record, " ".join(
                    str(record[k]) for k in keys if isinstance(record.get(k), str)).lower()))
    return rows
