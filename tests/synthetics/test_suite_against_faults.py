"""The synthetic suite, run as users run it (`sloguard check synthetics`), against the real reference
platform: green when healthy, and each injected fault fails the right checks with the right severity.

Faults that do not interfere with each other share one platform run (a Slack outage does not hide a
broken alg:none check), and every run also asserts that the unaffected checks stayed green.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# serial: its verdicts depend on the machine's headroom (latency objectives, CPU, arrival rates)
pytestmark = [pytest.mark.slow, pytest.mark.serial]


class SuiteRun:
    def __init__(self, code: int, out: str, err: str, reports: Path) -> None:
        self.code, self.out, self.err, self.reports = code, out, err, reports
        summary = reports / "summary.json"
        self.summary: dict[str, Any] = json.loads(summary.read_text()) if summary.exists() else {}
        results = reports / "results.jsonl"
        self.results = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []

    def failed(self, pattern: str = "") -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] == "failed" and re.search(pattern, r["check_id"])]

    def status_of(self, check_id: str) -> str:
        found = [r["status"] for r in self.results if r["check_id"] == check_id]
        assert found, f"no result for {check_id!r}"
        return found[0]

    def result(self, check_id: str) -> dict[str, Any]:
        return next(r for r in self.results if r["check_id"] == check_id)


def run_suite(workdir: Path, *args: str, config: str | None = None, timeout: float = 300) -> SuiteRun:
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "sloguard", "check", "synthetics", *args]
    if config is not None:
        (workdir / "sloguard.yaml").write_text(config)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env)
    return SuiteRun(proc.returncode, proc.stdout, proc.stderr, workdir / "reports")


def test_healthy_platform_is_green(platform, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform.base_url)
    assert run.code == 0, run.out[-3000:] + run.err[-2000:]
    checks = run.summary["checks"]
    assert checks["failed"] == 0 and checks["flaky"] == 0, run.failed()
    assert checks["total"] >= 1000 and checks["passed"] >= 900
    assert run.summary["verdict"] == "pass"
    kinds = {r["kind"] for r in run.results if r["status"] == "passed"}
    assert {"endpoint", "crud", "security", "oauth", "health", "sync", "platform"} <= kinds
    assert run.summary["coverage"]["checked"] >= 350


def test_independent_faults_fail_their_own_checks(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory(
        "integration_down=slack",
        "latency_ms=jira:700",
        "schema_drift=stripe",
        "open_endpoint=github_list_issues",
        "sync_drop=1",
        "accept_alg_none=true",
        "accept_expired_tokens=true",
    )
    run = run_suite(tmp_path, "--target", faulty.base_url)
    assert run.code == 1, run.err[-2000:]
    assert run.summary["verdict"] == "fail"

    slack = run.failed(r"^slack · ")
    assert slack and all(r["rule"] == "INTEGRATION_DEGRADED" and r["severity"] == "P1" for r in slack), slack[:3]
    assert run.status_of("slack · GET /api/slack/health") == "failed"
    assert run.status_of("platform · fewer than 3 integrations down") == "passed"  # only one is down

    jira = run.failed(r"^jira · GET ")
    assert jira and any("latency objective" in r["error"] for r in jira)

    stripe = run.failed(r"^stripe · GET /api/stripe/\w+$")
    assert stripe and all("schema" in r["error"] for r in stripe)

    breach = run.result("github · GET /api/github/issues · auth enforced")
    assert breach["status"] == "failed" and breach["rule"] == "SECURITY_BREACH" and breach["severity"] == "P0"

    assert run.result("auth · oauth · alg: none is refused")["rule"] == "SECURITY_BREACH"
    assert run.result("auth · oauth · expired token is refused")["status"] == "failed"
    sync = run.result("jira · jira → slack · data sync")
    assert sync["status"] == "failed" and sync["rule"] == "DATA_LOSS" and sync["severity"] == "P0"

    # what the faults do not touch stays green
    for healthy in ("discord · GET /api/discord/messages", "zoom · GET /api/zoom/meetings",
                    "auth · oauth · client credentials grant", "discord · GET /api/discord/messages · auth enforced"):
        assert run.status_of(healthy) == "passed", healthy
    alerts = {(a["severity"], a["rule"]) for a in run.summary["alerts"]}
    assert ("P0", "SECURITY_BREACH") in alerts and ("P0", "DATA_LOSS") in alerts

    # In Allure, the breach is a failed result whose message lands in the "Security breach" category.
    allure = run.reports / "allure-results"
    categories = json.loads((allure / "categories.json").read_text())
    breach_category = next(c for c in categories if c["name"] == "Security breach")
    results = [json.loads(p.read_text()) for p in allure.glob("*-result.json")]
    failed = next(r for r in results if r["name"] == "github · GET /api/github/issues · auth enforced")
    assert failed["status"] == "failed"
    assert re.fullmatch(breach_category["messageRegex"], failed["statusDetails"]["message"], re.S)
    labels = {label["name"]: label["value"] for label in failed["labels"]}
    assert (labels["epic"], labels["story"], labels["severity"]) == ("github", "security probe", "blocker")
    assert "target=" in (allure / "environment.properties").read_text()


def test_three_integrations_down_is_p0(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("integration_down=slack,jira,github")
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "health", "--json")
    assert run.code == 1
    assert json.loads(run.out) == run.summary  # --json: stdout is exactly the machine summary
    down = run.result("platform · fewer than 3 integrations down")
    assert down["status"] == "failed" and down["rule"] == "INTEGRATIONS_DOWN" and down["severity"] == "P0"
    assert "github, jira, slack" in down["error"]


def test_database_down_is_p0(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("db_down=true")
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "health")
    assert run.code == 1
    db = run.result("platform · GET /api/health/db")
    assert db["status"] == "failed" and db["rule"] == "DATABASE_FAILURE" and db["severity"] == "P0", db
    assert db["http_status"] == 503


def test_auth_down_is_p0_auth_failure(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("auth_down=true")
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "oauth")
    assert run.code == 1
    login = run.result("auth · login")  # one root cause, one finding (tests/synthetics/test_auth_verdicts.py)
    assert login["status"] == "failed" and login["rule"] == "AUTH_FAILURE" and login["severity"] == "P0"
    assert "503" in login["error"]
    grant = run.result("auth · oauth · client credentials grant")
    assert grant["status"] == "skipped" and "503" in grant["skip_reason"]


def test_error_rate_gives_failures_and_honest_flakes(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("error_rate=0.3")
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "GET and not auth and not security")
    assert run.code == 1
    checks = run.summary["checks"]
    assert checks["flaky"] > 10, checks  # passed only on the retry: reported, never silently green
    assert checks["failed"] > 0, checks
    flaky_files = [p for p in (run.reports / "allure-results").glob("*-result.json")
                   if json.loads(p.read_text()).get("statusDetails", {}).get("flaky")]
    assert len(flaky_files) == checks["flaky"]
    rates = [s for s in run.summary["slos"] if s["name"].endswith("error_rate")]
    assert rates and not all(s["met"] for s in rates)


def test_expiring_certificate_is_p2(platform_factory, tmp_path: Path) -> None:
    faulty = platform_factory("tls_days_left=10")
    config = "target:\n  verify_tls: false\n  environment: reference\n"
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "TLS or reachable", config=config)
    tls = run.result("platform · TLS certificate")
    assert tls["status"] == "failed" and tls["rule"] == "TLS_EXPIRY" and tls["severity"] == "P2", tls
    assert "expires in" in tls["error"]
    assert run.code == 0, run.err  # reported and alerted, but P2 does not fail a release by default
    assert run.summary["verdict"] == "pass" and ("P2", "TLS_EXPIRY") in {
        (a["severity"], a["rule"]) for a in run.summary["alerts"]}
    strict = run_suite(tmp_path / "strict", "--target", faulty.base_url, "-k", "TLS or reachable", "--fail-on", "P2",
                       config=config)
    assert strict.code == 1 and strict.summary["verdict"] == "fail" and strict.summary["fail_on"] == "P2"


def test_rate_limit_headroom_warns_at_80_percent(platform_factory, tmp_path: Path) -> None:
    import httpx

    faulty = platform_factory("rate_limit=30")
    # The platform's windows are fixed minutes (time // 60): the burst and the run must share one, so
    # never start in a window's last 25 s (a CI run once crossed the boundary between them).
    into = time.time() % 60
    if into > 35:
        time.sleep(60.5 - into)
    token = httpx.post(f"{faulty.base_url}/api/auth/token", auth=("sloguard-ci", "sloguard-ci-secret"),
                       data={"grant_type": "client_credentials"}).json()["access_token"]
    for _ in range(22):  # the suite's own client (same client and subject) has used most of its minute
        httpx.get(f"{faulty.base_url}/api/zoom/meetings", headers={"Authorization": f"Bearer {token}"})
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "slack and messages and GET and not auth")
    assert run.code == 0, run.failed()  # a warning, not a failure
    warned = [w for w in run.summary.get("warnings", []) if w["rule"] == "RATE_LIMIT_NEAR"]
    assert warned and warned[0]["severity"] == "P1" and "of 30 left" in warned[0]["message"], run.summary


def test_description_with_a_server_path_prefix(platform, tmp_path: Path) -> None:
    """Paths written below `servers: [{url: /api}]` are called under /api (real descriptions do this)."""
    import httpx

    spec = httpx.get(f"{platform.base_url}/api/v1/openapi.json").json()
    spec["paths"] = {path.removeprefix("/api"): item for path, item in spec["paths"].items()
                     if path.startswith("/api/slack/")}
    spec["servers"] = [{"url": "/api"}]
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    config = "target:\n  openapi: file:spec.json\n  environment: reference\n"
    run = run_suite(tmp_path, "--target", platform.base_url, "-k", "messages and not auth", config=config)
    assert run.code == 0, run.failed()
    listed = run.result("slack · GET /slack/messages")
    assert listed["status"] == "passed" and listed["http_status"] == 200


async def _delaying_proxy(upstream_port: int, delay_s: float) -> asyncio.AbstractServer:
    """A TCP proxy on loopback that holds each new connection for ``delay_s`` before relaying: the
    client's TLS handshake then takes that long, like a slow network path (no netem needed)."""
    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay_s)
        up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream_port)
        await asyncio.gather(pump(client_r, up_w), pump(up_r, client_w))

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_network_time_over_the_objective_fails_its_check(platform_factory, tmp_path: Path) -> None:
    import threading

    server = platform_factory(tls=True)
    config = "target:\n  verify_tls: false\n  environment: reference\n"
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    ports: list[int] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        proxy = loop.run_until_complete(_delaying_proxy(server.port, 0.15))
        ports.append(proxy.sockets[0].getsockname()[1])
        ready.set()
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    ready.wait(10)
    try:
        slow = run_suite(tmp_path / "slow", "--target", f"https://127.0.0.1:{ports[0]}", "-k", "network",
                         config=config)
        quick = run_suite(tmp_path / "quick", "--target", server.base_url, "-k", "network", config=config)
    finally:
        loop.call_soon_threadsafe(loop.stop)
    check = slow.result("platform · network time (connect + TLS)")
    assert check["status"] == "failed" and check["rule"] == "INTEGRATION_DEGRADED", check
    assert "over the 100 ms objective" in check["error"]
    assert quick.result("platform · network time (connect + TLS)")["status"] == "passed"
    assert quick.code == 0 and slow.code == 1


def test_unreachable_target_is_a_p0_result_not_a_traceback(tmp_path: Path) -> None:
    from tests.conftest import free_port

    run = run_suite(tmp_path, "--target", f"http://127.0.0.1:{free_port()}")
    assert run.code == 1, run.err
    assert "Traceback" not in run.out + run.err
    reach = run.result("platform · target reachable")
    assert reach["status"] == "failed" and reach["rule"] == "PLATFORM_DOWN" and "unreachable" in reach["error"]


def test_invalid_spec_and_config_exit_2_with_one_line(tmp_path: Path) -> None:
    bad_spec = tmp_path / "spec" / "broken.json"
    bad_spec.parent.mkdir()
    bad_spec.write_text('{"openapi": "3.0.3", "paths": {')
    run = run_suite(tmp_path / "a", config=f"target:\n  openapi: file:{bad_spec}\n")
    assert run.code == 2 and "Traceback" not in run.err
    assert "broken.json" in run.err and run.err.strip().count("\n") == 0, run.err

    run = run_suite(tmp_path / "b", config="slos:\n  default:\n    latency_p95_ms: fast\n")
    assert run.code == 2 and "latency_p95_ms" in run.err and "Traceback" not in run.err


def test_read_only_skips_side_effects_with_the_reason(platform, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform.base_url, "--read-only", "-k", "slack or jira")
    assert run.code == 0, run.failed()
    writes = [r for r in run.results if r["method"] in ("POST", "PATCH", "DELETE") and r["kind"] != "security"]
    assert writes and all(r["status"] == "skipped" and "read-only" in r["skip_reason"] for r in writes)
    assert not [r for r in run.results if r["kind"] == "crud"]


def test_keyword_selects_and_secrets_never_reach_reports(platform, tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--target", platform.base_url, "-k", "slack or oauth")
    assert run.code == 0
    assert all("slack" in r["check_id"] or "oauth" in r["check_id"] for r in run.results
               if r["check_id"] not in ("platform · target reachable", "auth · login"))  # the login is in test_oauth
    text = "\n".join(p.read_text(errors="replace") for p in run.reports.rglob("*") if p.is_file())
    for secret in ("sloguard-ci-secret", "alice-password", "sloguard-short-secret", "sloguard-globex-secret"):
        assert secret not in text, secret
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.", text), "a JWT leaked into the reports"
    assert re.search(r"authorization\W+bearer \[REDACTED\]", text, re.I)  # the scheme stays, the token goes
    fetched = run.result("platform · target reachable")["evidence"][0]  # the description's fetch is evidence
    assert fetched["url"].endswith("/api/v1/openapi.json") and fetched["status"] == 200
    assert '-H "Authorization: Bearer $ATOM_TOKEN"' in text  # curl lines read the token from the environment


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_compressed_answers_are_decoded_exactly_once(platform_factory, tmp_path: Path, coding: str) -> None:
    """Behind a compressing proxy every answer is decoded once: checks pass and bodies are readable."""
    faulty = platform_factory(f"compression={coding}")
    run = run_suite(tmp_path, "--target", faulty.base_url, "-k", "slack and GET and not auth")
    assert run.code == 0, run.failed()[:3]
    listed = run.result("slack · GET /api/slack/messages")
    (exchange,) = listed["evidence"]
    assert exchange["response_headers"]["content-encoding"] == coding
    assert exchange["response_body"].startswith("{") and '"items"' in exchange["response_body"]
    sent = {k.lower(): v for k, v in exchange["request_headers"].items()}
    assert coding in sent["accept-encoding"] and "accept" in sent and "host" in sent  # the headers really sent


def test_a_description_without_operations_is_a_usage_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "x", "version": "1"}, "paths": {}}))
    run = run_suite(tmp_path / "run", config=f"target:\n  openapi: file:{empty}\n  environment: reference\n")
    assert run.code == 2 and "declares no operations" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "run" / "reports" / "summary.json").exists()  # not a green 0/0


def test_plain_pytest_runs_the_editable_suite_with_one_allure_writer(platform_factory, tmp_path: Path) -> None:
    """`pytest synthetics --alluredir DIR`, as teams run it: a team's own test beside ours is a result in
    the summary and in Allure, written by the same writer as the checks (allure-pytest is off)."""
    import shutil

    from tests.conftest import REPO

    suite = tmp_path / "synthetics"
    shutil.copytree(REPO / "synthetics", suite, ignore=shutil.ignore_patterns("__pycache__"))
    (suite / "test_team.py").write_text("def test_our_own_rule():\n    assert 1 + 1 == 3, 'our rule broke'\n")
    faulty = platform_factory("open_endpoint=slack_list_messages")
    alluredir = tmp_path / "allure"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "--target", faulty.base_url, "-k", "slack and messages or team",
         "--alluredir", str(alluredir), "--sloguard-reports", str(tmp_path / "reports"), "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    results = [json.loads(p.read_text()) for p in alluredir.glob("*-result.json")]
    by_name = {r["name"]: r for r in results}
    breach = by_name["slack · GET /api/slack/messages · auth enforced"]
    assert breach["status"] == "failed" and "[P0 SECURITY_BREACH]" in breach["statusDetails"]["message"]
    team = next(r for n, r in by_name.items() if n.endswith("test_our_own_rule"))
    assert team["status"] == "failed" and "[P1 OPERATION_FAILED]" in team["statusDetails"]["message"]
    assert len(results) == len({r["historyId"] for r in results})  # one writer: no duplicates
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["checks"]["failed"] >= 2 and summary["verdict"] == "fail"
