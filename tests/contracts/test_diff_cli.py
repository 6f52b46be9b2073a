"""`sloguard contracts diff` from the command line: exit codes 0/1/2, the JSON document, bad input as one
line, secrets kept out of the output, and FastAPI-generated descriptions served over HTTP on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi import FastAPI

from sloguard.contracts.diff import RULES
from tests.conftest import free_port
from tests.contracts import fastapi_pets

ENGINE_SPECS = Path(__file__).parent.parent / "engine" / "specs"
PETSTORE = ENGINE_SPECS / "petstore-3.0.yaml"
CHANGE_KEYS = {"rule_id", "kind", "severity", "breaking", "level", "operation", "location", "message"}


def sloguard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sloguard", *args], capture_output=True, text=True, timeout=timeout)


def one_error_line(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr and run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sloguard: error: "), run.stderr
    return lines[0]


def write_changed_petstore(tmp_path: Path) -> Path:
    doc = yaml.safe_load(PETSTORE.read_text())
    del doc["paths"]["/pets/{petId}"]["delete"]  # breaking: a removed operation
    doc["paths"]["/pets"]["get"]["summary"] = "List every pet"  # non-breaking
    target = tmp_path / "petstore-next.yaml"
    target.write_text(yaml.safe_dump(doc))
    return target


def test_identical_descriptions_exit_0() -> None:
    run = sloguard("contracts", "diff", str(PETSTORE), str(PETSTORE))
    assert run.returncode == 0, run.stderr
    assert "No changes" in run.stdout


def test_breaking_change_exits_1_with_grouped_text(tmp_path: Path) -> None:
    run = sloguard("contracts", "diff", str(PETSTORE), str(write_changed_petstore(tmp_path)))
    assert run.returncode == 1, run.stderr
    out = run.stdout
    assert out.index("Breaking changes (1)") < out.index("Non-breaking changes")
    line = next(line for line in out.splitlines() if "api-removed-without-deprecation" in line)
    assert line.split()[:4] == ["P1", "api-removed-without-deprecation", "DELETE", "/v2/pets/{petId}"]
    assert line.rstrip().endswith("operation: operation removed without being deprecated first")
    assert "P3  api-summary-changed" in out and "(exit 1)" in out


def test_only_non_breaking_changes_exit_0(tmp_path: Path) -> None:
    doc = yaml.safe_load(PETSTORE.read_text())
    doc["paths"]["/pets"]["get"]["summary"] = "List every pet"
    target = tmp_path / "summary.yaml"
    target.write_text(yaml.safe_dump(doc))
    run = sloguard("contracts", "diff", str(PETSTORE), str(target))
    assert run.returncode == 0, run.stderr
    assert "api-summary-changed" in run.stdout and "Breaking changes" not in run.stdout


def test_json_document_shape(tmp_path: Path) -> None:
    run = sloguard("contracts", "diff", "--json", str(PETSTORE), str(write_changed_petstore(tmp_path)))
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["format"] == "sloguard.contracts.diff/1" and doc["breaking"] is True
    assert set(doc["old"]) == set(doc["new"]) == {"source", "openapi", "title", "api_version", "operations"}
    assert doc["old"]["operations"] == doc["new"]["operations"] + 1
    assert doc["summary"]["breaking"] == 1 and doc["summary"]["changes"] == len(doc["changes"])
    assert doc["summary"]["by_severity"] == {"P0": 0, "P1": 1, "P2": 0, "P3": len(doc["changes"]) - 1}
    for change in doc["changes"]:
        assert set(change) == CHANGE_KEYS and change["rule_id"] in RULES
    first = doc["changes"][0]
    assert first == {"rule_id": "api-removed-without-deprecation", "kind": "operation", "severity": "P1",
                     "breaking": True, "level": "error", "operation": "DELETE /v2/pets/{petId}",
                     "location": "operation", "message": "operation removed without being deprecated first"}


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    line = one_error_line(sloguard("contracts", "diff", str(tmp_path / "nope.yaml"), str(PETSTORE)))
    assert "OLD" in line and "nope.yaml: no such file" in line


def test_invalid_json_is_one_line_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"openapi": "3.0.3", "paths": {')
    line = one_error_line(sloguard("contracts", "diff", str(PETSTORE), str(broken)))
    assert "NEW" in line and "not valid JSON" in line


def test_not_a_description_is_one_line_exit_2(tmp_path: Path) -> None:
    page = tmp_path / "index.json"
    page.write_text('{"hello": "world"}')
    line = one_error_line(sloguard("contracts", "diff", str(page), str(PETSTORE)))
    assert "not an OpenAPI description" in line


def test_unreachable_url_is_one_line_exit_2() -> None:
    url = f"http://127.0.0.1:{free_port()}/openapi.json"  # nothing listens there
    line = one_error_line(sloguard("contracts", "diff", url, str(PETSTORE), "--timeout", "5"))
    assert "cannot connect" in line and "127.0.0.1" in line


def test_bad_header_option_is_one_line_exit_2() -> None:
    line = one_error_line(sloguard("contracts", "diff", str(PETSTORE), str(PETSTORE), "--header", "nocolon"))
    assert "--header" in line and "Name: value" in line


# ----------------------------------------------------------- FastAPI apps served on loopback


class _Served:
    """A FastAPI app on a uvicorn server in a thread, on a free loopback port; stopped by `stop`."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/openapi.json"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def pets() -> Iterator[dict[str, _Served]]:
    served = {"v1": _Served(fastapi_pets.v1()), "v2": _Served(fastapi_pets.v2()),
              "protected": _Served(fastapi_pets.protected())}
    yield served
    for server in served.values():
        server.stop()


def test_fastapi_generated_descriptions_over_http(pets: dict[str, _Served]) -> None:
    run = sloguard("contracts", "diff", "--json", pets["v1"].url, pets["v2"].url)
    assert run.returncode == 1, run.stderr
    doc = json.loads(run.stdout)
    assert doc["old"]["openapi"] == "3.1.0" and doc["new"]["api_version"] == "2.0.0"
    found = {(c["rule_id"], c["operation"], c["location"]) for c in doc["changes"]}
    expected_breaking = {
        ("new-required-request-property", "POST /pets", "request body /species"),
        ("api-removed-without-deprecation", "DELETE /pets/{pet_id}", "operation"),
        ("request-parameter-max-decreased", "GET /pets", "query parameter limit"),
        ("response-property-enum-value-added", "GET /pets", "response 200 body /0/status"),
        ("response-optional-property-removed", "GET /pets/{id}", "response 200 body /tag"),
    }
    assert expected_breaking <= found
    assert ("endpoint-added", "GET /owners", "operation") in found
    assert ("request-parameter-enum-value-added", "GET /pets", "query parameter status") in found
    # FastAPI spells "or null" as anyOf [T, null]; the renamed path parameter {pet_id} -> {id} is no change.
    breaking_rules = {c["rule_id"] for c in doc["changes"] if c["breaking"]}
    assert breaking_rules == {r for r, _, _ in expected_breaking}
    get_pet = [c["rule_id"] for c in doc["changes"] if c["operation"] in ("GET /pets/{id}", "GET /pets/{pet_id}")
               and c["location"] == "operation"]
    assert get_pet == ["api-operation-id-removed"]  # FastAPI derives the operationId from the path: info only


def test_fastapi_description_against_itself_over_http(pets: dict[str, _Served]) -> None:
    run = sloguard("contracts", "diff", pets["v2"].url, pets["v2"].url)
    assert run.returncode == 0 and "No changes" in run.stdout, run.stdout + run.stderr


def test_secrets_never_reach_the_output(pets: dict[str, _Served]) -> None:
    url = pets["protected"].url
    secret = fastapi_pets.SECRET
    denied = sloguard("contracts", "diff", url, pets["v1"].url)
    assert "HTTP 401" in one_error_line(denied)
    with_query = f"{url}?api_key={secret}"
    run = sloguard("contracts", "diff", "--header", f"Authorization: Bearer {secret}", with_query, pets["v1"].url)
    assert run.returncode == 0 and "No changes" in run.stdout, run.stderr  # it serves v1's description
    assert secret not in run.stdout + run.stderr
    run_json = sloguard("contracts", "diff", "--json", "--header", f"Authorization: Bearer {secret}", with_query,
                        pets["v2"].url)
    assert run_json.returncode == 1 and secret not in run_json.stdout + run_json.stderr
    source: Any = json.loads(run_json.stdout)["old"]["source"]
    assert "api_key=" in source and "REDACTED" in source


def test_the_drift_lands_in_allure_as_one_result_per_operation(tmp_path: Path) -> None:
    alluredir = tmp_path / "allure"
    run = sloguard("contracts", "diff", str(PETSTORE), str(write_changed_petstore(tmp_path)),
                   "--alluredir", str(alluredir))
    assert run.returncode == 1, run.stderr
    results = {r["name"]: r for r in (json.loads(p.read_text()) for p in alluredir.glob("*-result.json"))}
    removed = results["contract drift · DELETE /v2/pets/{petId}"]
    assert removed["status"] == "failed" and "[P1 CONTRACT_BREAKING] api-removed" in removed["statusDetails"]["message"]
    labels = {label["name"]: label["value"] for label in removed["labels"]}
    assert labels["epic"] == "pets" and labels["story"] == "contract drift" and labels["severity"] == "critical"
    renamed = results["contract drift · GET /v2/pets"]  # a compatible change: reported, not a failure
    assert renamed["status"] == "passed" and labels["suite"] == "contracts"
    assert results["contract drift · description"]["status"] == "passed"  # document-level: info.version
