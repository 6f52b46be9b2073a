"""Request data: generated values validate against their schemas; examples, ids and overrides take priority."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema
import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from sloguard.catalog import Catalog, build_catalog
from sloguard.datagen import DataGenerator, IdPool, SchemaValues, id_of, resource_of
from sloguard.errors import UsageError
from sloguard.spec import load_spec, prepare_spec
from tests.engine.test_catalog import atom_like

SPECS = Path(__file__).parent / "specs"
D2020: type[Any] = Draft202012Validator
D4: type[Any] = Draft4Validator

# (schema, a value that must NOT validate, validator): the bad value proves each check can fail.
CASES: list[tuple[dict[str, Any], Any, type[Any]]] = [
    ({"type": "string", "format": "email"}, "not-an-email", D2020),
    ({"type": "string", "format": "uuid"}, "1234", D2020),
    ({"type": "string", "format": "date-time"}, "yesterday", D2020),
    ({"type": "string", "format": "date"}, "2020-13-45", D2020),
    ({"type": "string", "format": "ipv4"}, "999.1.1.1", D2020),
    ({"type": "string", "format": "uri"}, "not a uri", D2020),
    ({"type": "string", "minLength": 50, "maxLength": 60}, "short", D2020),
    ({"type": "string", "maxLength": 3}, "toolong", D2020),
    ({"type": "string", "pattern": r"^[A-Z]{3}-\d{4}$"}, "abc-1", D2020),
    ({"type": "string", "pattern": "^[a-z]+$", "minLength": 4, "maxLength": 6}, "abc", D2020),
    ({"type": "integer", "minimum": 10, "maximum": 12}, 13, D2020),
    ({"type": "integer", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}, 0, D4),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, 1, D2020),
    ({"type": "integer", "multipleOf": 7, "minimum": 1, "maximum": 50}, 8, D2020),
    ({"type": "number", "multipleOf": 0.25, "minimum": 0, "maximum": 10}, 0.3, D2020),
    ({"type": "number", "maximum": -5}, 0, D2020),
    ({"enum": ["a", "b", None]}, "c", D2020),
    ({"const": "fixed"}, "other", D2020),
    ({"type": "boolean"}, "true", D2020),
    ({"type": ["string", "null"], "minLength": 2}, "", D2020),
    ({"type": "object", "required": ["name", "address", "tags"], "additionalProperties": False, "properties": {
        "name": {"type": "string"},
        "address": {"type": "object", "required": ["zip"], "properties": {
            "zip": {"type": "string", "pattern": r"^\d{5}$"}, "city": {"type": "string"}}},
        "tags": {"type": "array", "minItems": 2, "maxItems": 3, "uniqueItems": True,
                 "items": {"type": "string", "enum": ["x", "y", "z"]}},
        "ignored": {"type": "string"}}}, {"name": "n", "address": {"zip": "1"}, "tags": ["x", "y"]}, D2020),
    ({"type": "array", "minItems": 3, "items": {"type": "object", "required": ["id"],
                                                 "properties": {"id": {"type": "integer"}}}}, [{"id": "x"}], D2020),
    ({"type": "array", "uniqueItems": True, "minItems": 5, "maxItems": 5,
      "items": {"type": "integer", "minimum": 1, "maximum": 10}}, [1, 1, 2, 3, 4], D2020),
    ({"allOf": [{"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
                {"type": "object", "required": ["b"], "properties": {"b": {"type": "boolean"}}}]}, {"a": 1}, D2020),
    ({"oneOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]}, 1.5, D2020),
    ({"anyOf": [{"type": "null"}, {"type": "object", "required": ["k"],
                                   "properties": {"k": {"type": "string", "format": "uri"}}}]}, {"k": 3}, D2020),
    ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}], "minItems": 2}, ["a"], D2020),
]


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri")
def _is_uri(value: object) -> bool:
    """jsonschema checks "uri" only with an optional package; this stand-in keeps the check real."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and " " not in value


def validate(validator: type[Any], schema: dict[str, Any], value: Any) -> None:
    validator(schema, format_checker=FORMATS).validate(value)


@pytest.mark.parametrize(("schema", "bad", "validator"), CASES, ids=[str(i) for i in range(len(CASES))])
def test_generated_values_validate(schema: dict[str, Any], bad: Any, validator: type[Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        validate(validator, schema, bad)  # the check is real: a wrong value fails it
    for seed in range(5):
        values = SchemaValues(seed=seed)
        validate(validator, schema, values.value(schema, use_examples=False))
        validate(validator, schema, SchemaValues(seed=seed, all_fields=True).value(schema, use_examples=False))


def test_realistic_values_from_property_names() -> None:
    values = SchemaValues(seed=3)
    person = values.value({"type": "object", "required": ["email", "website", "first_name", "title"],
                           "properties": {"email": {"type": "string"}, "website": {"type": "string"},
                                          "first_name": {"type": "string"}, "title": {"type": "string"}}})
    assert person["email"].endswith("@example.com") and person["website"].startswith("https://")
    assert person["first_name"][:1].isupper() and " " in person["title"]


def test_required_only_by_default_and_read_only_skipped() -> None:
    schema = {"type": "object", "required": ["a", "id"], "properties": {
        "id": {"type": "string", "readOnly": True}, "a": {"type": "integer"}, "b": {"type": "string"}}}
    assert set(SchemaValues(seed=1).value(schema)) == {"a"}
    assert set(SchemaValues(seed=1, all_fields=True).value(schema)) == {"a", "b"}
    assert set(SchemaValues(seed=1).value(schema, for_request=False)) == {"a", "id"}


def test_examples_defaults_and_enums_come_first() -> None:
    values = SchemaValues(seed=0)
    assert values.value({"type": "string", "example": "from-example", "default": "d"}) == "from-example"
    assert values.value({"type": "string", "examples": ["first", "second"]}) == "first"
    assert values.value({"type": "integer", "default": 7}) == 7
    assert values.value({"type": "string", "enum": ["only"]}) == "only"
    obj = values.value({"type": "object", "required": ["x"], "properties": {"x": {"type": "string", "example": "ex"}}})
    assert obj == {"x": "ex"}
    shared = {"type": "object", "example": {"nested": [1]}}
    values.value(shared)["nested"].append(2)  # callers may change what they get ...
    assert shared["example"] == {"nested": [1]}  # ... without changing the description


def test_deterministic_for_a_seed() -> None:
    schema = {"type": "object", "required": ["a", "b", "c"], "properties": {
        "a": {"type": "string", "format": "uuid"}, "b": {"type": "integer"}, "c": {"type": "string"}}}
    assert SchemaValues(seed=42).value(schema) == SchemaValues(seed=42).value(schema)
    assert SchemaValues(seed=42).value(schema) != SchemaValues(seed=43).value(schema)


def test_recursive_schema_terminates_and_validates() -> None:
    spec = load_spec(SPECS / "petstore-3.0.yaml")
    catalog = build_catalog(spec)
    node = catalog["getTree"].response.schema  # type: ignore[union-attr]
    values = SchemaValues(catalog.resolve, seed=1, all_fields=True, max_depth=3)
    tree = values.value(node, for_request=False)
    depth, cursor = 0, tree
    while cursor.get("children"):
        cursor, depth = cursor["children"][0], depth + 1
    assert 2 <= depth <= 6
    validate(D2020, {"$ref": "#/components/schemas/Node", "components": spec["components"]}, tree)


# -------------------------------------------------------------------------------------------- requests


@pytest.fixture(scope="module")
def atom() -> Catalog:
    return build_catalog(prepare_spec(atom_like()))


def test_request_for_a_create_validates_against_the_body_schema(atom: Catalog) -> None:
    entry = atom["stripe_create_invoice"]
    data = DataGenerator(atom, seed=5).for_entry(entry)
    assert data.content_type == "application/json" and data.sources["body"] == "generated"
    assert entry.request_body is not None
    validate(D2020, dict(entry.request_body.schema), data.body)
    assert "id" not in data.body  # readOnly
    assert data.url_path == "/api/stripe/invoices" and data.path_params == {}


def test_each_call_is_deterministic_but_different(atom: Catalog) -> None:
    entry = atom["stripe_create_invoice"]
    first, second = DataGenerator(atom, seed=1), DataGenerator(atom, seed=1)
    a1, a2 = first.for_entry(entry).body, first.for_entry(entry).body
    assert a1 == second.for_entry(entry).body and a2 == second.for_entry(entry).body
    assert a1 != a2
    assert DataGenerator(atom, seed=2).for_entry(entry).body != a1


def test_spec_examples_are_used(atom: Catalog) -> None:
    catalog = build_catalog(load_spec(SPECS / "petstore-3.0.yaml"))
    gen = DataGenerator(catalog, seed=0)
    create = gen.for_entry(catalog["createPet"])
    assert create.body == {"name": "Rex", "born": "2020-01-02"} and create.sources["body"] == "example"
    get = gen.for_entry(catalog["getPet"])
    assert get.path_params == {"petId": "pet-1"} and get.url_path == "/pets/pet-1"
    assert get.ids_missing == ("petId",)  # a documented example is not a real id
    listing = gen.for_entry(catalog["listPets"])
    assert listing.query == {}  # optional parameters are left out


def test_overrides_win_over_everything(atom: Catalog) -> None:
    gen = DataGenerator(atom, seed=0, overrides={
        "*": {"headers": {"X-Tenant-ID": "acme"}},
        "stripe_get_invoice": {"path": {"id": "inv/7 x"}, "query": {"expand": "lines"}},
        "stripe_create_invoice": {"body": {"title": "fixed", "sync_to": ["slack"]}},
        "stripe_update_invoice": {"body": ["not", "a", "mapping"]},
    })
    pool = IdPool()
    pool.add("stripe", "invoices", "inv_real")
    get = gen.for_entry(atom["stripe_get_invoice"], pool)
    assert get.path_params == {"id": "inv/7 x"} and get.url_path == "/api/stripe/invoices/inv%2F7%20x"
    assert get.query == {"expand": "lines"} and get.headers == {"X-Tenant-ID": "acme"}
    assert get.sources["path.id"] == "override" and get.ids_missing == ()
    create = gen.for_entry(atom["stripe_create_invoice"])
    assert create.body == {"title": "fixed", "sync_to": ["slack"]} and create.sources["body"] == "override"
    assert gen.for_entry(atom["stripe_update_invoice"], pool).body == ["not", "a", "mapping"]


def test_override_merges_over_examples() -> None:
    catalog = build_catalog(load_spec(SPECS / "petstore-3.0.yaml"))
    gen = DataGenerator(catalog, overrides={"createPet": {"body": {"tag": "good"}}})
    assert gen.for_entry(catalog["createPet"]).body == {"name": "Rex", "born": "2020-01-02", "tag": "good"}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"stripe_create_invoce": {"body": {}}}, "did you mean 'stripe_create_invoice'"),
    ({"stripe_create_invoice": {"json": {}}}, "use body, headers, path, query"),
    ({"stripe_create_invoice": {"query": "a=1"}}, "query must be a mapping"),
    ({"stripe_create_invoice": ["body"]}, "must be a mapping"),
])
def test_bad_overrides(atom: Catalog, overrides: dict[str, Any], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        DataGenerator(atom, overrides=overrides)


# --------------------------------------------------------------------------------------------- id pool


def test_id_pool_feeds_get_update_delete(atom: Catalog) -> None:
    pool = IdPool()
    gen = DataGenerator(atom, seed=0)
    before = gen.for_entry(atom["slack_get_message"], pool)
    assert before.ids_missing == ("id",)
    assert pool.record(atom["slack_create_message"], {"id": "msg_1", "title": "t"}) == ["msg_1"]
    assert pool.record(atom["slack_list_messages"], {"items": [{"id": "msg_0"}, {"id": "msg_1"}]}) == [
        "msg_0", "msg_1"]
    get = gen.for_entry(atom["slack_get_message"], pool)
    assert get.path_params == {"id": "msg_1"} and get.sources["path.id"] == "pool" and not get.ids_missing
    assert pool.ids("slack", "messages") == ("msg_0", "msg_1")
    assert pool.ids("slack", "channels") == ()  # per resource
    pool.record(atom["slack_delete_message"], None, {"id": "msg_1"})
    assert pool.latest("slack", "messages") == "msg_0"
    assert pool.pop("slack", "messages") == "msg_0" and pool.latest("slack", "messages") is None


def test_id_pool_from_link_pointer_and_search() -> None:
    catalog = build_catalog(load_spec(SPECS / "petstore-3.0.yaml"))
    (chain,) = catalog.crud_chains()
    pool = IdPool()
    assert pool.record(catalog["createPet"], {"data": {"petId": "p-9"}}, id_pointer=chain.id_pointer) == ["p-9"]
    assert DataGenerator(catalog).for_entry(catalog["getPet"], pool).url_path == "/pets/p-9"
    assert pool.record(catalog["searchPets"], [{"id": "p-10"}]) == ["p-10"]
    assert catalog["searchPets"].integration == "pets" and pool.latest("pets", "pets") == "p-10"


def test_id_pool_is_bounded_and_thread_safe() -> None:
    pool = IdPool(per_resource=50)

    def add(base: int) -> None:
        for i in range(500):
            pool.add("x", "things", base + i)

    threads = [threading.Thread(target=add, args=(n * 1000,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(pool.ids("x", "things")) == 50 and len(pool) == 50


def test_resource_and_id_helpers() -> None:
    assert resource_of("/api/slack/messages/{id}", "id") == "messages"
    assert resource_of("/users/{uid}/posts/{pid}", "uid") == "users"
    assert resource_of("/users/{uid}/posts/{pid}", "pid") == "posts"
    assert resource_of("/api/slack/messages") == "messages"
    assert id_of({"uuid": "u1"}) == "u1" and id_of({"data": {"id": 3}}, "/data/id") == 3
    assert id_of({"name": "no id"}) is None and id_of([1]) is None


# ----------------------------------------------------------------------------- against the real platform


def _token(base_url: str) -> str:
    response = httpx.post(f"{base_url}/api/auth/token", timeout=10, data={
        "grant_type": "client_credentials", "client_id": "sloguard-ci", "client_secret": "sloguard-ci-secret",
        "scope": "read write"})
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.mark.slow
def test_generated_requests_run_crud_chains_on_the_reference_platform(platform: Any) -> None:
    """Generated bodies are accepted and pooled ids address real records, for every integration."""
    catalog = build_catalog(load_spec(f"{platform.base_url}/api/v1/openapi.json", timeout=10))
    own = {"platform", "tasks", "workflows", "users"}  # the platform's own routes, grouped by their tags
    chains = {c.integration: c for c in catalog.crud_chains() if c.integration not in own}
    assert len(chains) == 33
    gen, pool = DataGenerator(catalog, seed=7), IdPool()
    headers = {"Authorization": f"Bearer {_token(platform.base_url)}"}
    failures: list[str] = []
    with httpx.Client(base_url=platform.base_url, headers=headers, timeout=10) as client:
        # without a created id, a get addresses nothing: the pool is what makes the chain work
        probe = gen.for_entry(catalog[next(iter(chains.values())).get or ""], IdPool())
        assert probe.ids_missing and client.get(probe.url_path).status_code == 404
        for chain in chains.values():
            for op in chain.operations:
                entry = catalog[op]
                data = gen.for_entry(entry, pool)
                if entry.request_body is not None and entry.kind == "create":
                    validate(D2020, {**entry.request_body.schema, "components": catalog.spec["components"]},
                             data.body)
                response = client.request(entry.method, data.url_path, params=data.query, headers=data.headers,
                                          json=data.body)
                if response.status_code != entry.success_status:
                    failures.append(f"{op}: {response.status_code} {response.text[:200]}")
                    continue
                pool.record(entry, response.json() if response.content else None, data.path_params,
                            id_pointer=chain.id_pointer)
    assert not failures, failures
