"""`sloguard check contracts` against the real reference platform (Schemathesis 4, real HTTP on loopback).

Each run is limited to a few integrations and a few examples so the module stays within minutes; the
full-platform run is the benchmark (bench/bench_contracts.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


@dataclass
class Run:
    code: int
    out: str
    err: str
    reports: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.reports / "summary.json").read_text())

    @property
    def results(self) -> list[dict[str, Any]]:
        lines = (self.reports / "results.jsonl").read_text().splitlines()
        return [r for r in map(json.loads, lines) if r.get("record") == "check"]

    def contract(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["suite"] == "contracts"]

    def failing(self, max_severity: str = "P3") -> list[tuple[str, str, str]]:
        return [(r["check_id"], f["severity"], f["rule"]) for r in self.contract() for f in r["findings"]
                if not f.get("warning") and f["severity"] <= max_severity]


def config(base_url: str, include: list[str], extra: str = "") -> str:
    return (f"target:\n  base_url: {base_url}\ncatalog:\n  include: {json.dumps(include)}\n"
            f"contracts:\n  max_examples: 4\n{extra}")


def run(workdir: Path, *args: str, config_text: str | None = None, suite: str = "contracts",
        timeout: float = 300) -> Run:
    workdir.mkdir(parents=True, exist_ok=True)
    if config_text is not None:
        (workdir / "sloguard.yaml").write_text(config_text)
    proc = subprocess.run([sys.executable, "-m", "sloguard", "check", suite, *args], cwd=workdir,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return Run(proc.returncode, proc.stdout, proc.stderr, workdir / "reports")


def test_healthy_platform_keeps_its_contract(platform, tmp_path: Path) -> None:
    # The API on localhost, the identity provider (the issuer) on 127.0.0.1: another host name.
    api = platform.base_url.replace("127.0.0.1", "localhost")
    text = config(api, ["slack_*", "stripe_*", "get_*health*", "*_task*", "*fault*"],
                  extra=f"auth:\n  issuer: {platform.base_url}\n")
    done = run(tmp_path, "--seed", "3", config_text=text)
    assert done.code == 0, done.err[-3000:]
    assert done.failing("P2") == []
    results = {r["check_id"]: r for r in done.contract()}
    ok = [r for r in results.values() if r["status"] == "passed"]
    assert len(ok) >= 40 and {r["integration"] for r in ok} >= {"slack", "stripe"}
    assert all(r["kind"] == "contract" and r["operation"] and r["method"] and r["path"] for r in ok)
    # The admin operations inject faults: the reference profile never sends them anything.
    admin = [r for r in results.values() if r["path"].startswith("/api/admin/")]
    assert admin and all(r["status"] == "skipped" and "tag:Admin" in r["skip_reason"] for r in admin)
    assert all(r["traffic"]["requests"] == 0 for r in admin)
    # Positive examples count toward the SLOs, generated input does not.
    traffic = [r["traffic"] for r in ok]
    assert sum(t["slo_requests"] for t in traffic) > 0
    assert sum(t["requests"] for t in traffic) > 5 * sum(t["slo_requests"] for t in traffic)
    summary = done.summary
    assert summary["suite"] == "contracts" and summary["verdict"] == "pass"
    assert summary["contracts"]["seed"] == 3 and summary["contracts"]["seed_fixed"] is True
    assert summary["contracts"]["logins"] == 1
    # JUnit and Allure from the same results, with the synthetic suite's labels.
    junit = (done.reports / "junit.xml").read_text()
    assert 'testsuite name="contracts"' in junit and "contract · GET /api/slack/messages" in junit
    allure = [json.loads(p.read_text()) for p in (done.reports / "allure-results").glob("*-result.json")]
    labels = [{(x["name"], x["value"]) for x in a["labels"]} for a in allure]
    assert len(allure) == len(results)
    assert any({("epic", "slack"), ("story", "contract"), ("tag", "P2")} <= lab for lab in labels)
    assert (done.reports / "allure-results" / "categories.json").is_file()
    # Schemathesis' caches live under the output folder, not in the working directory.
    assert not (tmp_path / ".hypothesis").exists() and not (tmp_path / ".schemathesis").exists()
    assert (done.reports / "contracts" / ".hypothesis").is_dir()


def test_schema_drift_is_P2_on_that_integration_only(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("schema_drift=stripe")
    done = run(tmp_path, "--seed", "5", config_text=config(faulty.base_url, ["slack_*", "stripe_*"]))
    failing = done.failing()
    assert failing, done.err[-2000:]
    assert {sev for _, sev, _ in failing} == {"P2"} and {rule for _, _, rule in failing} == {"CONTRACT_DRIFT"}
    failed = [r for r in done.contract() if r["status"] == "failed"]
    assert {r["integration"] for r in failed} == {"stripe"}
    assert all(r["status"] == "passed" for r in done.contract() if r["integration"] == "slack")
    drift = failed[0]
    assert "response_schema_conformance" in drift["findings"][0]["message"]
    assert drift["evidence"] and drift["evidence"][0]["curl"].startswith("curl ")
    assert any(n.startswith("replay (response_schema_conformance): curl ") for n in drift["notes"])
    assert drift["labels"]["checks"] == "response_schema_conformance"
    # Allure: the failure message is the finding's `[P2 CONTRACT_DRIFT] …` line.
    allure = [json.loads(p.read_text()) for p in (done.reports / "allure-results").glob("*-result.json")]
    messages = [a["statusDetails"]["message"] for a in allure if a["status"] == "failed"]
    assert messages and all(m.startswith("[P2 CONTRACT_DRIFT] ") for m in messages)


def test_open_endpoint_is_P0_on_that_operation(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("open_endpoint=slack_list_messages")
    done = run(tmp_path, "--seed", "5", config_text=config(faulty.base_url, ["slack_*"]))
    assert done.code == 1, done.err[-2000:]
    p0 = [(check, rule) for check, sev, rule in done.failing() if sev == "P0"]
    assert p0 == [("contract · GET /api/slack/messages", "SECURITY_BREACH")]
    assert any(a["severity"] == "P0" and a["rule"] == "SECURITY_BREACH" for a in done.summary["alerts"])


def test_server_errors_are_P1(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("error_rate=slack:0.2")
    done = run(tmp_path, "--seed", "5", config_text=config(faulty.base_url, ["slack_*", "jira_*"]))
    assert done.code == 1
    p1 = {(r["integration"], f["rule"]) for r in done.contract() for f in r["findings"]
          if f["severity"] == "P1" and "not_a_server_error" in f["message"]}
    assert p1 == {("slack", "INTEGRATION_DEGRADED")}
    assert not [f for f in done.failing("P2") if "jira" in f[0]]


def test_a_seed_replays_the_same_cases(platform, tmp_path: Path) -> None:
    # Operations without a path id: for the others Schemathesis also reuses ids the API itself returned
    # earlier in the run, and those differ between runs whatever the seed.
    text = config(platform.base_url, ["slack_list_messages", "slack_search_messages", "slack_create_message"])
    args = ("--seed", "11", "--phases", "examples,coverage,fuzzing", "--workers", "1")
    first, second = (run(tmp_path / name, *args, config_text=text) for name in ("a", "b"))
    # `inputs` digests every request an operation was sent (method, URL, body), in order.
    sent = [{r["check_id"]: (r["traffic"]["requests"], r["labels"]["inputs"]) for r in done.contract()}
            for done in (first, second)]
    assert sent[0] == sent[1] and sum(n for n, _ in sent[0].values()) > 50
    assert first.summary["contracts"]["seed"] == 11
    other = run(tmp_path / "c", "--seed", "12", "--phases", "examples,coverage,fuzzing", "--workers", "1",
                config_text=text)
    digests = {r["check_id"]: r["labels"]["inputs"] for r in other.contract()}
    assert digests != {k: d for k, (_, d) in sent[0].items()}


def test_budget_reaches_every_operation_before_a_second_round(platform, tmp_path: Path) -> None:
    text = config(platform.base_url, ["slack_*", "jira_*", "github_*", "stripe_*", "get_*health*"])
    done = run(tmp_path, "--budget", "12s", "--seed", "2", "--max-examples", "50", "--workers", "1",
               config_text=text)
    assert done.code in (0, 1), done.err[-2000:]
    contracts = done.summary["contracts"]
    selected = contracts["operations"]["selected"]
    rounds = contracts["rounds"]
    assert rounds[0]["round"] == 1 and rounds[0]["operations"] == selected, rounds
    assert contracts["operations"]["reached"] == selected
    assert done.summary["duration_s"] <= 12.0
    order = [o["rank"] for o in contracts["order"]]
    assert order == sorted(order, key=["auth", "health", "changed", "rest"].index)
    assert order[0] == "auth" and "health" in order
    ranks = ["auth", "health", "changed", "rest"]
    per_op = {r["check_id"]: (int(r["labels"]["rounds"]), ranks.index(r["labels"]["priority"]))
              for r in done.contract() if r["status"] != "skipped"}
    assert {n for n, _ in per_op.values()} <= {1, 2} and len(per_op) == selected
    deep = [rank for n, rank in per_op.values() if n == 2]
    shallow = [rank for n, rank in per_op.values() if n == 1]
    assert deep, "round 2 reached nothing"
    if shallow:  # round 2 did not finish: what it reached comes first in the order
        assert max(deep) <= min(shallow)


def test_read_only_target_only_gets_safe_methods(platform, tmp_path: Path) -> None:
    done = run(tmp_path, "--read-only", "--seed", "1", config_text=config(platform.base_url, ["slack_*_message*"]))
    assert done.code == 0, done.err[-2000:]
    by_method = {r["method"]: r for r in done.contract()}
    for method in ("POST", "PATCH", "DELETE"):
        assert by_method[method]["status"] == "skipped" and "read-only" in by_method[method]["skip_reason"]
        assert by_method[method]["traffic"]["requests"] == 0
    assert by_method["GET"]["status"] == "passed"


def test_short_lived_tokens_refresh_once_and_replay(platform, tmp_path: Path) -> None:
    # The `sloguard-short` client's tokens live 2 s: requests after that get 401, the provider logs in
    # again and the request is replayed, so nothing fails and there were several logins.
    text = config(platform.base_url, ["slack_*_message*"], extra=(
        "auth:\n  client_id: sloguard-short\n  client_secret: sloguard-short-secret\n  scope: read\n"))
    done = run(tmp_path, "--read-only", "--seed", "4", "--max-examples", "15", config_text=text)
    assert done.code == 0, done.err[-2000:]
    assert done.failing("P2") == []
    assert done.summary["contracts"]["logins"] >= 2


def test_no_secret_reaches_any_report(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("open_endpoint=slack_list_messages", "schema_drift=slack")
    done = run(tmp_path, "--seed", "6", config_text=config(faulty.base_url, ["slack_*_message*"]))
    assert done.code == 1
    assert any(r["evidence"] for r in done.contract())
    texts = [p.read_text(errors="replace") for p in done.reports.rglob("*") if p.is_file() and
             ".hypothesis" not in p.parts and ".schemathesis" not in p.parts]
    blob = "\n".join([*texts, done.out, done.err])
    assert "sloguard-ci-secret" not in blob
    assert "eyJ" not in blob  # no JWT (access token) anywhere
    assert "Bearer [REDACTED]" in blob  # the evidence kept the header, masked


def test_bad_input_is_one_line_and_exit_2(platform, tmp_path: Path) -> None:
    budget = run(tmp_path / "budget", "--budget", "2x", config_text=config(platform.base_url, ["slack_*"]))
    assert budget.code == 2 and "--budget" in budget.err and "not a duration" in budget.err
    assert len(budget.err.strip().splitlines()) == 1
    unreachable = run(tmp_path / "url", config_text=(
        f"target:\n  base_url: {platform.base_url}\n  openapi: http://127.0.0.1:9/openapi.json\n"))
    assert unreachable.code == 2 and "cannot connect" in unreachable.err
    assert len(unreachable.err.strip().splitlines()) == 1
    for name, body, says in (("broken.json", '{"openapi": "3.0.3", "paths": {', "broken.json"),
                             ("nopaths.json", '{"openapi": "3.0.3", "info": {"title": "x", "version": "1"}}',
                              "declares no operations")):
        spec = tmp_path / name
        spec.write_text(body)
        invalid = run(tmp_path / name.split(".")[0],
                      config_text=f"target:\n  base_url: {platform.base_url}\n  openapi: file:{spec}\n")
        assert invalid.code == 2 and says in invalid.err, invalid.err
        assert len(invalid.err.strip().splitlines()) == 1
    phases = run(tmp_path / "phases", "--phases", "examples,smoke", config_text=config(platform.base_url, ["x"]))
    assert phases.code == 2 and "smoke" in phases.err


def test_check_all_gives_one_summary_with_both_suites(platform, tmp_path: Path) -> None:
    text = config(platform.base_url, ["slack_*"])
    done = run(tmp_path, "--seed", "8", config_text=text, suite="all")
    assert done.code == 0, done.out[-2000:] + done.err[-2000:]
    summary = done.summary
    assert summary["suite"] == "all" and set(summary["suites"]) == {"synthetics", "contracts"}
    assert summary["checks"]["total"] == sum(s["total"] for s in summary["suites"].values())
    suites = {r["suite"] for r in done.results}
    assert suites == {"synthetics", "contracts"}
    junit = (done.reports / "junit.xml").read_text()
    assert junit.count("<testsuite ") == 2 and 'name="contracts"' in junit
    allure = [json.loads(p.read_text()) for p in (done.reports / "allure-results").glob("*-result.json")]
    epics = {x["value"] for a in allure for x in a["labels"] if x["name"] == "epic"}
    stories = {x["value"] for a in allure for x in a["labels"] if x["name"] == "story"}
    assert "slack" in epics and "contract" in stories and len(stories) > 1


def test_examples_that_do_not_validate_are_P3(platform, tmp_path: Path) -> None:
    spec = httpx.get(f"{platform.base_url}/api/v1/openapi.json").json()
    health = spec["components"]["schemas"]["Health"]
    health["example"] = {**health["example"], "status": 123}  # not one of ok, degraded, down
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(spec))
    text = (f"target:\n  base_url: {platform.base_url}\n  openapi: file:{path}\n"
            "catalog:\n  include: [get_health, get_db_health]\ncontracts:\n  max_examples: 3\n")
    done = run(tmp_path / "run", "--seed", "1", config_text=text)
    assert done.code == 0, done.err[-2000:]  # P3 is reported, below fail_on
    found = {r["check_id"]: [(f["severity"], f["rule"], f["message"]) for f in r["findings"]] for r in done.contract()}
    (finding,) = found["contract · GET /health"]
    assert finding[:2] == ("P3", "COSMETIC_CONTRACT") and "200 response example does not validate" in finding[2]
    assert "123" in finding[2] and found["contract · GET /api/health/db"] == []


def test_a_crash_inside_the_tool_is_a_suite_error(platform, tmp_path: Path) -> None:
    # A real crash inside the contract tool's process: a team hook (loaded by Schemathesis from the
    # suite's schemathesis.toml) raising on one operation. That operation is an `error` (CHECK_ERROR),
    # never a platform finding, and the others are still tested.
    suite = tmp_path / "suite"
    suite.mkdir()
    toml = (Path(__file__).resolve().parents[2] / "contracts" / "schemathesis.toml").read_text()
    (suite / "schemathesis.toml").write_text('hooks = "hooks.py"\n' + toml)
    (suite / "hooks.py").write_text(
        "import schemathesis\n\n@schemathesis.hook\ndef before_call(context, case, **kwargs):\n"
        "    if case.path == '/api/health/db':\n        raise RuntimeError('the hook crashed')\n")
    text = config(platform.base_url, ["get_health", "get_db_health"])
    done = run(tmp_path / "run", "--seed", "1", "--suite", str(suite), config_text=text)
    by_id = {r["check_id"]: r for r in done.contract()}
    crashed = by_id["contract · GET /api/health/db"]
    assert crashed["status"] == "error" and crashed["rule"] == "CHECK_ERROR", crashed
    assert "the hook crashed" in crashed["error"] and crashed["traffic"]["slo_requests"] == 0
    assert by_id["contract · GET /health"]["status"] == "passed"
    assert done.summary["checks"]["errors"] == 1
