"""`sloguard.contracts.snapshot`: the last description seen for a target, and drift against it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import orjson

from sloguard.contracts.diff import diff
from sloguard.contracts.snapshot import check_drift, load_snapshot, pack, save_snapshot, snapshot_path
from sloguard.spec import load_spec, prepare_spec, spec_digest

ENGINE_SPECS = Path(__file__).parent.parent / "engine" / "specs"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXZhbHVlLXNlY3JldA"


def test_snapshot_path_is_per_host_and_port(tmp_path: Path) -> None:
    assert snapshot_path(tmp_path, "https://atom.example.com/api") == tmp_path / "contracts/atom.example.com-last.json"
    assert snapshot_path(tmp_path, "http://127.0.0.1:8400") == tmp_path / "contracts/127.0.0.1-8400-last.json"
    assert snapshot_path(tmp_path, "http://u:pw@h/x").name == "h-last.json"


def test_first_run_then_drift_then_quiet(platform: Any, tmp_path: Path) -> None:
    url = f"{platform.base_url}/api/v1/openapi.json"
    served = load_spec(url)
    first = check_drift(served, platform.base_url, tmp_path)
    assert first.changes == () and not first.previous_seen and first.snapshot.is_file()
    assert first.snapshot == snapshot_path(tmp_path, platform.base_url)
    saved = first.snapshot.read_bytes()
    again = check_drift(load_spec(url), platform.base_url, tmp_path)
    assert again.changes == () and again.previous_seen
    assert first.snapshot.read_bytes() == saved  # the same bytes served: the snapshot is not rewritten
    # A new release removes a field every error response promised: drift is reported once.
    raw = httpx.get(url, timeout=30).json()
    error = raw["components"]["schemas"]["Error"]
    error["properties"].pop(error["required"][0])
    drifted = check_drift(prepare_spec(copy.deepcopy(raw)), platform.base_url, tmp_path)
    assert drifted.previous_seen and drifted.breaking
    assert {c.rule_id for c in drifted.breaking} == {"response-required-property-removed"}
    quiet = check_drift(prepare_spec(copy.deepcopy(raw)), platform.base_url, tmp_path)
    assert quiet.changes == ()
    assert not [p for p in first.snapshot.parent.iterdir() if p.name.endswith(".tmp")]


def test_served_bytes_decide_whether_to_diff(platform: Any, tmp_path: Path) -> None:
    """The digest of the served documents skips the diff only when they are byte for byte the same."""
    raw = httpx.get(f"{platform.base_url}/api/v1/openapi.json", timeout=30).json()
    source = tmp_path / "openapi.json"
    source.write_bytes(orjson.dumps(raw))
    first = load_spec(source)
    assert spec_digest(first) is not None and spec_digest(first) == spec_digest(load_spec(source))
    check_drift(first, "http://atom.test", tmp_path)
    saved = snapshot_path(tmp_path, "http://atom.test").read_bytes()
    assert orjson.loads(saved)["x-sloguard-snapshot"]["digest"] == spec_digest(first)
    error = raw["components"]["schemas"]["Error"]
    error["properties"].pop(error["required"][0])
    source.write_bytes(orjson.dumps(raw))
    changed = load_spec(source)
    assert spec_digest(changed) != spec_digest(first)
    drift = check_drift(changed, "http://atom.test", tmp_path)
    assert {c.rule_id for c in drift.breaking} == {"response-required-property-removed"}
    assert check_drift(load_spec(source), "http://atom.test", tmp_path).changes == ()  # reported once
    # Reformatted but equal (other bytes, same description): diffed, and found the same.
    source.write_bytes(orjson.dumps(raw, option=orjson.OPT_INDENT_2))
    assert check_drift(load_spec(source), "http://atom.test", tmp_path).changes == ()


def test_shared_objects_are_written_once(platform: Any, tmp_path: Path) -> None:
    spec = load_spec(f"{platform.base_url}/api/v1/openapi.json")
    packed = orjson.dumps(pack(spec))
    naive = orjson.dumps(spec)  # every use of a shared schema copied in full
    assert len(packed) * 3 < len(naive)
    path = save_snapshot(tmp_path / "s.json", spec)
    assert diff(spec, load_snapshot(path) or {}) == []


def test_recursive_and_swagger_2_descriptions_round_trip(tmp_path: Path) -> None:
    for name in ("swagger-2.0.yaml", "openapi-3.1.json", "petstore-3.0.yaml", "external/main.yaml"):
        spec = load_spec(ENGINE_SPECS / name)
        loaded = load_snapshot(save_snapshot(tmp_path / f"{Path(name).stem}.json", spec))
        assert loaded is not None and diff(spec, loaded) == [], name


def test_unreadable_snapshot_is_replaced_with_a_note(tmp_path: Path) -> None:
    spec = load_spec(ENGINE_SPECS / "petstore-3.0.yaml")
    path = snapshot_path(tmp_path, "https://pets.example.com")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    drift = check_drift(spec, "https://pets.example.com", tmp_path)
    assert drift.changes == () and not drift.previous_seen and "unreadable contract snapshot" in drift.note
    assert load_snapshot(path) is not None


def test_no_secret_reaches_the_snapshot(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(load_spec(ENGINE_SPECS / "petstore-3.0.yaml"), default=str))
    doc["paths"]["/pets"]["post"]["requestBody"]["content"]["application/json"]["example"] = {
        "name": "Rex", "password": "hunter2-very-secret", "token": JWT}
    spec = prepare_spec(doc)
    drift = check_drift(spec, "https://admin:pa55w0rd-secret@pets.example.com", tmp_path)
    text = drift.snapshot.read_text()
    for secret in ("hunter2-very-secret", JWT, "pa55w0rd-secret"):
        assert secret not in text
    assert "[REDACTED]" in text and load_snapshot(drift.snapshot) is not None
