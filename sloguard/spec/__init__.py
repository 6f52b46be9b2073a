"""Load a target's OpenAPI description (file or URL; Swagger 2.0, OpenAPI 3.0/3.1) into one 3.x-shaped dict.

`$ref`s are resolved in place by sharing objects: every use of `#/components/schemas/Pet` becomes the very
same dict, so a 10 MB description costs one walk and no copies. A reference that would close a cycle stays
a `{"$ref": "#/..."}` node whose pointer resolves against the returned document (external files that hold
such a cycle are bundled under `x-sloguard-bundle`). Swagger 2.0 is rewritten into the 3.0 shape the
catalog reads. Every problem is a one-line `SpecError` naming the source, what is wrong and the fix.

Modules: `source` (read and parse files and URLs), `refs` (the `$ref` resolver, JSON pointers),
`swagger2` (2.0 -> 3.0), `load` (the entry points), `jsonschema` (3.0 schemas as JSON Schema).
"""

from .jsonschema import has_ref, to_json_schema
from .load import META_KEY, base_path, load_spec, prepare_spec, spec_digest, spec_version
from .refs import BUNDLE_KEY, pointer_tokens, resolve_pointer
from .source import (
    DEFAULT_TIMEOUT_S,
    MAX_SPEC_BYTES,
    FetchHook,
    FetchRecord,
    SpecError,
    detect_version,
    display_source,
    parse_document,
)

__all__ = [
    "BUNDLE_KEY",
    "DEFAULT_TIMEOUT_S",
    "MAX_SPEC_BYTES",
    "META_KEY",
    "FetchHook",
    "FetchRecord",
    "SpecError",
    "base_path",
    "detect_version",
    "display_source",
    "has_ref",
    "load_spec",
    "parse_document",
    "pointer_tokens",
    "prepare_spec",
    "resolve_pointer",
    "spec_digest",
    "spec_version",
    "to_json_schema",
]
