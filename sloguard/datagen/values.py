"""Values for JSON schemas: types, formats, bounds, enums, nested objects and arrays; seeded, so repeatable."""

from __future__ import annotations

import base64
import copy
import math
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC
from functools import lru_cache
from random import Random
from typing import Any

import orjson
from faker import Faker

_MAX_UNIQUE_TRIES = 20
_PATTERN_VARIANTS = 4

Resolver = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@lru_cache(maxsize=512)
def _pattern_values(pattern: str, min_len: int, max_len: int) -> tuple[str, ...]:
    """A few strings that match ``pattern`` (hypothesis' regex strategy, ASCII only); cached per pattern
    because each search costs milliseconds. Empty when the pattern is invalid or unsatisfiable."""
    try:
        from hypothesis import HealthCheck, Phase, find, settings
        from hypothesis import strategies as st

        strategy = st.from_regex(pattern, fullmatch=True, alphabet=st.characters(codec="ascii"))
        config = settings(max_examples=100, database=None, deadline=None, phases=[Phase.generate],
                          suppress_health_check=list(HealthCheck))
    except Exception:  # an invalid pattern: the caller falls back to a plain string
        return ()
    found: list[str] = []
    for seed in range(_PATTERN_VARIANTS):
        try:
            value = str(find(strategy, lambda s: min_len <= len(s) <= max_len, settings=config,
                             random=Random(seed)))
        except Exception:  # no match within the budget
            break
        if value not in found:
            found.append(value)
    return tuple(found)


def _schema_type(schema: Mapping[str, Any]) -> str | None:
    declared = schema.get("type")
    if isinstance(declared, list):
        real = [t for t in declared if t != "null"]
        return str(real[0]) if real else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("pattern", "format", "minLength", "maxLength")):
        return "string"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")):
        return "number"
    return None


def _bounds(schema: Mapping[str, Any]) -> tuple[float, float, bool, bool]:
    """(low, high, low exclusive?, high exclusive?) from 3.0 (boolean) or 3.1 (numeric) exclusive bounds."""

    def number(value: Any) -> float | None:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    low, high = number(schema.get("minimum")), number(schema.get("maximum"))
    low_strict = high_strict = False
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(ex_low, bool):
        low_strict = ex_low and low is not None
    elif number(ex_low) is not None:
        low, low_strict = number(ex_low), True
    if isinstance(ex_high, bool):
        high_strict = ex_high and high is not None
    elif number(ex_high) is not None:
        high, high_strict = number(ex_high), True
    if low is None and high is None:
        return 1.0, 1000.0, False, False
    if low is None:
        assert high is not None
        return (1.0 if high >= 2 else high - 1000), high, False, high_strict
    if high is None:
        return low, low + 1000, low_strict, False
    return low, high, low_strict, high_strict


def _merge_all_of(schema: Mapping[str, Any], resolve: Resolver, depth: int = 0) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties: dict[str, Any] = dict(merged.get("properties") or {})
    required: list[str] = list(merged.get("required") or [])
    for part in schema.get("allOf") or []:
        if not isinstance(part, Mapping):
            continue
        part = resolve(part)
        if "allOf" in part and depth < 8:
            part = _merge_all_of(part, resolve, depth + 1)
        properties.update(part.get("properties") or {})
        required.extend(r for r in part.get("required") or [] if r not in required)
        for key, value in part.items():
            if key not in ("properties", "required"):
                merged.setdefault(key, value)
    if properties:
        merged["properties"] = properties
        merged.setdefault("type", "object")
    if required:
        merged["required"] = required
    return merged


class SchemaValues:
    """Values for JSON schemas, seeded; examples in the schema are preferred unless told otherwise."""

    def __init__(self, resolve: Resolver | None = None, *, seed: int = 0, all_fields: bool = False,
                 max_depth: int = 4, locale: str = "en_US") -> None:
        self.resolve: Resolver = resolve or (lambda s: s)
        self.all_fields = all_fields
        self.max_depth = max_depth
        self.faker = Faker(locale)
        self.rng = Random(seed)
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        self.seed = seed
        self.rng.seed(seed)
        self.faker.seed_instance(seed)

    def value(self, schema: Mapping[str, Any] | None, *, name: str = "", for_request: bool = True,
              use_examples: bool = True, depth: int = 0) -> Any:
        schema = self.resolve(schema or {})
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and not use_examples:
            return copy.deepcopy(self.rng.choice(enum))  # enum and const are constraints, not examples
        if use_examples:
            found, example = self.example_of(schema)
            if found:
                return example
        if "allOf" in schema:
            schema = _merge_all_of(schema, self.resolve)
        for combinator in ("oneOf", "anyOf"):
            options = [self.resolve(o) for o in schema.get(combinator) or [] if isinstance(o, Mapping)]
            options = [o for o in options if _schema_type(o) != "null"] or options
            if options:
                rest = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "discriminator")}
                return self.value({**rest, **options[0]}, name=name, for_request=for_request,
                                  use_examples=use_examples, depth=depth)
        kind = _schema_type(schema)
        if kind == "object":
            return self._object(schema, for_request, use_examples, depth)
        if kind == "array":
            return self._array(schema, name, for_request, use_examples, depth)
        if kind == "integer":
            return self._number(schema, integer=True)
        if kind == "number":
            return self._number(schema, integer=False)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        if kind is None and depth == 0:
            return {}  # an untyped body: an empty object is the likeliest thing to be accepted
        return self._string(schema, name)

    def example_of(self, schema: Mapping[str, Any]) -> tuple[bool, Any]:
        """(True, a copy of the schema's const/example/examples[0]/default/enum choice) or (False, None)."""
        if "const" in schema:
            return True, copy.deepcopy(schema["const"])
        if "example" in schema:
            return True, copy.deepcopy(schema["example"])
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return True, copy.deepcopy(examples[0])
        if "default" in schema:
            return True, copy.deepcopy(schema["default"])
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            choices = [v for v in enum if v is not None] or enum
            return True, copy.deepcopy(self.rng.choice(choices))
        return False, None

    def _object(self, schema: Mapping[str, Any], for_request: bool, use_examples: bool,
                depth: int) -> dict[str, Any]:
        raw = schema.get("properties")
        properties: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        names = list(properties) if self.all_fields and depth < self.max_depth else [
            n for n in properties if n in required]
        minimum = int(schema.get("minProperties") or 0)
        if len(names) < minimum:
            names += [n for n in properties if n not in names][: minimum - len(names)]
        out: dict[str, Any] = {}
        for prop in names:
            sub = self.resolve(properties[prop]) if isinstance(properties[prop], Mapping) else {}
            if (for_request and sub.get("readOnly")) or (not for_request and sub.get("writeOnly")):
                continue
            if depth > self.max_depth + 4:
                break  # a required recursion with no end: stop rather than loop
            out[prop] = self.value(sub, name=prop, for_request=for_request, use_examples=use_examples,
                                   depth=depth + 1)
        for req in required:
            if req not in properties and req not in out and schema.get("additionalProperties") is not False:
                out[req] = self._string({}, req)
        return out

    def _array(self, schema: Mapping[str, Any], name: str, for_request: bool, use_examples: bool,
               depth: int) -> list[Any]:
        low = int(schema.get("minItems") or 0)
        high = schema.get("maxItems")
        count = low if depth > self.max_depth else max(low, 1)
        if isinstance(high, int):
            count = min(count, high)
        prefix = [p for p in schema.get("prefixItems") or [] if isinstance(p, Mapping)]
        items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
        singular = name[:-1] if name.endswith("s") else name
        out: list[Any] = []
        seen: set[bytes] = set()
        tries = 0
        while len(out) < count and tries < count * _MAX_UNIQUE_TRIES:
            tries += 1
            sub = prefix[len(out)] if len(out) < len(prefix) else items
            value = self.value(sub, name=singular, for_request=for_request,
                               use_examples=use_examples and tries == 1, depth=depth + 1)
            if schema.get("uniqueItems"):
                key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str)
                if key in seen:
                    continue
                seen.add(key)
            out.append(value)
        return out

    def _number(self, schema: Mapping[str, Any], *, integer: bool) -> int | float:
        low, high, low_strict, high_strict = _bounds(schema)
        step = schema.get("multipleOf")
        step = step if isinstance(step, (int, float)) and not isinstance(step, bool) and step > 0 else None
        if integer:
            lo = math.floor(low) + 1 if low_strict else math.ceil(low)
            hi = math.ceil(high) - 1 if high_strict else math.floor(high)
            if step is not None:
                k_lo, k_hi = math.ceil(lo / step), math.floor(hi / step)
                return int(self.rng.randint(k_lo, k_hi) * step) if k_lo <= k_hi else lo
            return self.rng.randint(lo, hi) if lo <= hi else lo
        if step is not None:
            k_lo = math.floor(low / step) + 1 if low_strict else math.ceil(low / step)
            k_hi = math.ceil(high / step) - 1 if high_strict else math.floor(high / step)
            if k_lo > k_hi:
                return k_lo * step
            candidate = k_lo * step
            for _ in range(_MAX_UNIQUE_TRIES):  # validators check that the float division is exact
                candidate = self.rng.randint(k_lo, k_hi) * step
                if isinstance(step, int) or (candidate / step).is_integer():
                    break
            return candidate
        value = round(self.rng.uniform(low, high), 2)
        if value < low or value > high or (low_strict and value <= low) or (high_strict and value >= high):
            value = (low + high) / 2
        return value

    def _string(self, schema: Mapping[str, Any], name: str) -> str:
        low = int(schema.get("minLength") or 0)
        high = schema.get("maxLength")
        top = int(high) if isinstance(high, int) else max(low, 0) + 256
        pattern = schema.get("pattern")
        fmt = str(schema.get("format") or "")
        value = self._formatted(fmt) if fmt else None
        formatted = value is not None
        if value is None:
            value = self._named(name)
        if isinstance(pattern, str):
            if not (re.search(pattern, value) and low <= len(value) <= top):
                candidates = _pattern_values(pattern, low, top)
                if candidates:
                    return self.rng.choice(candidates)
            else:
                return value
        if formatted:
            return value
        if len(value) < low:
            value += "".join(self.faker.random_letters(low - len(value)))
        return value[:top] if len(value) > top else value

    def _formatted(self, fmt: str) -> str | None:
        f = self.faker
        makers: dict[str, Callable[[], str]] = {
            "email": lambda: f"{f.user_name()}@example.com",
            "idn-email": lambda: f"{f.user_name()}@example.com",
            "uri": lambda: f"https://example.com/{f.slug()}",
            "url": lambda: f"https://example.com/{f.slug()}",
            "iri": lambda: f"https://example.com/{f.slug()}",
            "uri-reference": lambda: f"/{f.slug()}",
            "uri-template": lambda: "https://example.com/{id}",
            "hostname": lambda: f"{f.domain_word()}.example.com",
            "idn-hostname": lambda: f"{f.domain_word()}.example.com",
            "ipv4": f.ipv4,
            "ipv6": f.ipv6,
            "date-time": lambda: f.date_time(tzinfo=UTC).replace(microsecond=0).isoformat(),
            "date": lambda: f.date(),
            "time": lambda: f.time(),
            "duration": lambda: f"P{self.rng.randint(1, 30)}D",
            "uuid": lambda: str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "byte": lambda: base64.b64encode(f.binary(12)).decode(),
            "binary": lambda: f.pystr(min_chars=8, max_chars=16),
            "password": lambda: f.password(length=16),
            "regex": lambda: "^[a-z]+$",
            "json-pointer": lambda: f"/{f.word()}",
            "phone": f.phone_number,
        }
        maker = makers.get(fmt)
        return maker() if maker else None

    def _named(self, name: str) -> str:
        f = self.faker
        lower = name.lower()
        if "email" in lower:
            return f"{f.user_name()}@example.com"
        if lower.endswith(("url", "uri", "link", "website")):
            return f"https://example.com/{f.slug()}"
        if "phone" in lower:
            return f.numerify("+1555#######")
        if lower in ("first_name", "firstname", "given_name"):
            return str(f.first_name())
        if lower in ("last_name", "lastname", "family_name", "surname"):
            return str(f.last_name())
        if lower in ("name", "full_name", "fullname", "display_name", "username", "user_name"):
            return str(f.name()) if "user" not in lower else str(f.user_name())
        if lower in ("title", "subject", "summary", "headline", "label", "topic"):
            return str(f.sentence(nb_words=4)).rstrip(".")
        if lower in ("description", "body", "text", "message", "content", "comment", "note", "notes",
                     "details"):
            return str(f.sentence(nb_words=10))
        if lower in ("company", "organization", "org"):
            return str(f.company())
        if lower in ("city",):
            return str(f.city())
        if lower in ("country",):
            return str(f.country())
        if lower in ("currency",):
            return "USD"
        if lower in ("color", "colour"):
            return str(f.color_name())
        return str(f.word())
