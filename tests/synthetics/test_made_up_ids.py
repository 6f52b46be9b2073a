"""Security probes on writes use a made-up id of the parameter's documented type.

Django's ``<int:item_id>`` route (the DOT test app) answers 404 to ``/api/items/sloguard-probe-x``
before any credentials are judged; a made-up *integer* reaches the view and gets its 403.
"""

from __future__ import annotations

import re
from typing import Any

from sloguard.catalog import Entry, Parameter
from sloguard.synthetics.checks.security import _made_up


def entry(path: str, **schemas: dict[str, Any]) -> Entry:
    params = tuple(Parameter(name, "path", True, schema) for name, schema in schemas.items())
    return Entry("op", "DELETE", path, "items", "items", "delete", parameters=params, side_effects=True)


def test_integer_ids_are_integers_far_above_real_rows_and_inside_the_documented_range() -> None:
    path = _made_up(entry("/api/items/{item_id}", item_id={"type": "integer"}))
    value = int(path.rsplit("/", 1)[1])
    assert 2_146_000_000 < value <= 2_147_483_647
    bounded = _made_up(entry("/api/items/{item_id}", item_id={"type": "integer", "maximum": 5000}))
    assert 1 <= int(bounded.rsplit("/", 1)[1]) <= 5000


def test_uuids_strings_enums_and_undocumented_templates() -> None:
    path = _made_up(entry("/api/{kind}/{id}/runs/{run}/{other}", kind={"type": "string", "enum": ["tasks", "x"]},
                          id={"type": "string", "format": "uuid"}, run={"type": "string"}))
    kind, ident, _, run, other = path.split("/")[2:]
    assert kind == "tasks"
    assert re.fullmatch(r"[0-9a-f-]{36}", ident)
    assert run.startswith("sloguard-probe-") and other.startswith("sloguard-probe-")
    assert "{" not in path and "//" not in path
