"""The resource model of the reference platform: integrations, their resources and the fields of a record.

`sloguard.reference.integrations` holds the data (the 33 integrations of the ATOM plan); this module holds
the types it is written in, the small vocabulary of field constructors it uses, and realistic values for
seed data and sync records.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

SERVER_FIELDS = ("id", "tenant_id", "created_at", "updated_at")
# Keys left out of a record's canonical JSON when its sync checksum is computed.
CHECKSUM_EXCLUDED = frozenset({*SERVER_FIELDS, "sync_to", "source", "source_checksum"})


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # JSON schema type: string, integer, number, boolean, array, object
    example: Any
    required: bool = False
    format: str | None = None  # email, uri, date, date-time, hostname
    enum: tuple[Any, ...] | None = None
    faker: str | None = None  # the Faker provider that makes realistic values
    max_length: int | None = None
    min_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    default: Any = None
    items: dict[str, Any] | None = None  # JSON schema of array items
    description: str = ""

    def schema(self) -> dict[str, Any]:
        """The OpenAPI 3.0 schema of this field (also used, as JSON schema, to validate input)."""
        out: dict[str, Any] = {"type": self.type}
        if self.description:
            out["description"] = self.description
        for key, value in (
            ("format", self.format), ("enum", list(self.enum) if self.enum else None),
            ("maxLength", self.max_length), ("minLength", self.min_length), ("minimum", self.minimum),
            ("maximum", self.maximum), ("pattern", self.pattern), ("default", self.default),
            ("items", self.items),
        ):
            if value is not None:
                out[key] = value
        if self.type == "array":
            out.setdefault("items", {"type": "string", "maxLength": 100})
            out["maxItems"] = 50
        if self.faker:
            out["x-faker"] = self.faker
        out["example"] = self.example
        return out


@dataclass(frozen=True)
class Resource:
    name: str  # plural path segment: messages
    fields: tuple[Field, ...]
    title_field: str  # the record's title/summary: searched, and carried by sync
    singular: str = ""
    text_field: str = ""  # where a synced record's text goes (defaults to title_field)
    syncable: bool = True  # may a create carry sync_to

    def __post_init__(self) -> None:
        if not self.singular:
            object.__setattr__(self, "singular", singular(self.name))
        if not self.text_field:
            object.__setattr__(self, "text_field", self.title_field)
        names = {f.name for f in self.fields}
        if self.title_field not in names or self.text_field not in names:
            raise ValueError(f"resource {self.name}: title/text field is not one of its fields")

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def example(self) -> dict[str, Any]:
        return {f.name: f.example for f in self.fields}

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.fields if f.default is not None}

    def drift_field(self) -> str:
        """The required field ``schema_drift`` removes from responses: the first one that is not the title."""
        required = [n for n in self.required if n != self.title_field]
        return required[0] if required else self.title_field


@dataclass(frozen=True)
class Integration:
    slug: str
    display_name: str
    category: str
    resources: tuple[Resource, ...]

    @property
    def primary(self) -> Resource:
        """The resource that receives records synced from other integrations."""
        return self.resources[0]

    @property
    def ident(self) -> str:
        return self.slug.replace("-", "_")

    def resource(self, name: str) -> Resource | None:
        return next((r for r in self.resources if r.name == name), None)


def singular(plural: str) -> str:
    if plural.endswith("ies"):
        return plural[:-3] + "y"
    if plural.endswith("s"):
        return plural[:-1]
    return plural


# -- a small vocabulary for the model below ----------------------------------------------------
def s(name: str, example: str, **kw: Any) -> Field:
    kw.setdefault("max_length", 255)
    return Field(name, "string", example, **kw)


def text(name: str, example: str, **kw: Any) -> Field:
    return s(name, example, max_length=kw.pop("max_length", 4000), faker=kw.pop("faker", "sentence"), **kw)


def title(name: str, example: str, **kw: Any) -> Field:
    kw.setdefault("min_length", 1)
    return s(name, example, required=kw.pop("required", True), faker=kw.pop("faker", "catch_phrase"), **kw)


def i(name: str, example: int, **kw: Any) -> Field:
    kw.setdefault("minimum", 0)
    kw.setdefault("maximum", 1_000_000_000)
    return Field(name, "integer", example, **kw)


def n(name: str, example: float, **kw: Any) -> Field:
    kw.setdefault("minimum", 0)
    kw.setdefault("maximum", 1_000_000_000)
    return Field(name, "number", example, **kw)


def b(name: str, example: bool, **kw: Any) -> Field:
    return Field(name, "boolean", example, **kw)


def e(name: str, values: tuple[Any, ...], example: Any = None, **kw: Any) -> Field:
    kind = "integer" if isinstance(values[0], int) else "string"
    return Field(name, kind, values[0] if example is None else example, enum=values, **kw)


def email(name: str, example: str, **kw: Any) -> Field:
    return Field(name, "string", example, format="email", faker="email", max_length=254, **kw)


def url(name: str, example: str, **kw: Any) -> Field:
    return Field(name, "string", example, format="uri", faker="url", max_length=2048, **kw)


def date(name: str, example: str, **kw: Any) -> Field:
    return Field(name, "string", example, format="date", faker="date_this_year", **kw)


def dt(name: str, example: str, **kw: Any) -> Field:
    return Field(name, "string", example, format="date-time", faker="date_time_this_year", **kw)


def tags(name: str, example: list[str], **kw: Any) -> Field:
    return Field(name, "array", example, items={"type": "string", "maxLength": 50}, faker="words", **kw)


def ref(name: str, example: str, **kw: Any) -> Field:
    """An identifier of a record in the provider's system."""
    return s(name, example, required=kw.pop("required", True), min_length=1, max_length=64, **kw)


def pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_ .]", text) if part)


# -- realistic values for seed data and sync records -------------------------------------------
def fake_value(f: Field, faker: Any, rng: random.Random) -> Any:
    """A realistic value for ``f`` that satisfies its schema (``faker`` is a seeded Faker)."""
    if f.enum:
        return rng.choice(f.enum)
    if f.pattern or (f.type == "array" and f.items and f.items.get("type") == "object"):
        return f.example
    if f.type == "boolean":
        return rng.random() < 0.5
    if f.type in ("integer", "number"):
        lo = int(f.minimum or 0)
        hi = int(min(f.maximum if f.maximum is not None else 10_000, 10_000))
        value = rng.randint(max(lo, 0), max(hi, lo))
        return value if f.type == "integer" else round(value + rng.random(), 2)
    if f.format == "date-time":
        moment = faker.date_time_this_year()
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if f.format == "date":
        return faker.date_this_year().isoformat()
    if f.type == "array":
        return faker.words(rng.randint(1, 3)) if f.faker else f.example
    if f.faker:
        made = getattr(faker, f.faker)()
        made = made if isinstance(made, str) else str(made)
        if f.max_length:
            made = made[: f.max_length]
        if f.min_length and len(made) < f.min_length:
            return f.example
        return made
    return f.example
