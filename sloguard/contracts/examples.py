"""The description's own examples, validated against their schemas (P3 COSMETIC_CONTRACT when not).

Schemathesis sends the examples but does not judge them; a client generated from the description, or
a developer copying from its docs, does. Checked: each operation's parameter, request-body and success
response examples (media-level and the schema's own `example`), from the catalog, whose schemas are
already resolved. OpenAPI 3.0's `nullable` becomes a JSON Schema type union; an example whose schema
still holds a `$ref` (a cycle the resolver kept) is not judged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError
from referencing.exceptions import Unresolvable

from sloguard import redact
from sloguard.catalog import Entry
from sloguard.spec import has_ref, to_json_schema

MAX_PER_OPERATION = 3


def _cases(entry: Entry) -> Iterable[tuple[str, Mapping[str, Any], Any]]:
    for p in entry.parameters:
        for example in p.examples:
            yield f"the example of {p.location} parameter {p.name!r}", p.schema, example
    bodies = (("the request body example", entry.request_body),
              (f"the {entry.success_status} response example", entry.response))
    for where, body in bodies:
        if body is None:
            continue
        examples = list(body.examples)
        if isinstance(body.schema, Mapping) and "example" in body.schema:
            examples.append(body.schema["example"])
        for example in examples:
            yield where, body.schema, example


def example_problems(entry: Entry) -> list[str]:
    """One line per example of this operation that does not validate against its schema."""
    problems: list[str] = []
    for where, schema, example in _cases(entry):
        if not isinstance(schema, Mapping) or not schema or has_ref(schema):
            continue
        try:
            error = next(iter(Draft7Validator(to_json_schema(schema, {})).iter_errors(example)), None)
        except (SchemaError, Unresolvable, TypeError, ValueError):
            continue
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path)
            problems.append(redact.redact_text(f"{where} does not validate{f' at /{at}' if at else ''}: "
                                               f"{error.message[:200]}"))
        if len(problems) >= MAX_PER_OPERATION:
            break
    return problems
