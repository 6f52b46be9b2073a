"""Planning: from a description and a config to checks, without sending anything."""

from __future__ import annotations

from pathlib import Path

from sloguard.catalog import build_catalog
from sloguard.config import load_config
from sloguard.spec import load_spec
from sloguard.synthetics.plan import PREFLIGHT_ID, build_plan

SPEC = Path(__file__).resolve().parent.parent / "engine" / "specs" / "petstore-3.0.yaml"


def plan_for(*, read_only: bool, https: bool = False, **config: object):  # type: ignore[no-untyped-def]
    cfg = load_config(None, overrides={"target": {"base_url": "http://127.0.0.1:9", "environment": "sandbox"},
                                       **config})
    catalog = build_catalog(load_spec(str(SPEC)))
    return build_plan(cfg, catalog, read_only=read_only, https=https), catalog


def test_every_operation_is_planned_or_has_a_reason() -> None:
    plan, catalog = plan_for(read_only=False)
    for entry in catalog.all_entries:
        assert entry.operation_id in plan.covered or entry.operation_id in plan.reasons, entry.operation_id
    ids = {s.id for s in plan.specs}
    assert PREFLIGHT_ID in ids and "platform · network time (connect + TLS)" in ids
    assert "platform · TLS certificate" not in ids  # only for https targets
    assert "platform · TLS certificate" in {s.id for s in plan_for(read_only=False, https=True)[0].specs}


def test_read_only_skips_every_write_with_the_reason_and_plans_no_chain() -> None:
    plan, catalog = plan_for(read_only=True)
    side_effects = {e.operation_id for e in catalog if e.side_effects}
    writes = [s for s in plan.specs if s.operation_id in side_effects and s.kind != "security"]
    assert len(writes) == 3 and all(s.skip and "read-only" in s.skip for s in writes)
    search = next(s for s in plan.specs if s.operation_id == "searchPets" and s.kind != "security")
    assert search.skip is None  # a POST search reads: it runs on a read-only target
    assert not [s for s in plan.specs if s.kind == "crud"]
    chained, _ = plan_for(read_only=False)
    assert {s.operation_id for s in chained.specs if s.kind == "crud"} == {"createPet", "getPet", "deletePet",
                                                                           "replacePet"}


def test_operations_needing_a_scope_the_client_lacks_are_skipped_with_that_reason() -> None:
    plan, _ = plan_for(read_only=False, auth={"scope": "read"})
    create = next(s for s in plan.specs if s.operation_id == "createPet" and s.kind != "security")
    assert create.skip is not None and "needs scope write" in create.skip
    assert plan.reasons["createPet"] == create.skip


def test_security_probes_cover_protected_operations_only() -> None:
    plan, catalog = plan_for(read_only=False)
    probed = {s.operation_id for s in plan.specs if s.kind == "security" and s.operation_id}
    protected = {e.operation_id for e in catalog if e.auth.required}
    assert probed == protected and "getTree" not in probed  # `security: []` is a public operation


def test_config_skips_name_their_reason() -> None:
    plan, _ = plan_for(read_only=False, catalog={"overrides": {"getTree": {"skip": True, "reason": "flaky upstream"}}})
    tree = next(s for s in plan.specs if s.operation_id == "getTree")
    assert tree.skip == "flaky upstream"
