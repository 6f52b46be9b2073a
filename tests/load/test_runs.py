"""Real Locust runs of `sloguard load` against the real reference platform (seconds each)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningPlatform

from .conftest import LoadRun, load_command, run_load, set_fault, write_config

pytestmark = pytest.mark.slow
SECRETS = ("sloguard-ci-secret", "alice-password")


def _no_secrets(run: LoadRun) -> None:
    for path in run.files():
        text = path.read_text(errors="replace") if path.suffix in (".json", ".html", ".jsonl", ".log") else ""
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked into {path}"
        assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ", text), f"a JWT leaked into {path}"
    for secret in SECRETS:
        assert secret not in run.stdout + run.stderr


def test_smoke_passes_on_a_healthy_platform_with_tokens_renewed(
    platform_factory: Callable[..., RunningPlatform], tmp_path: Path
) -> None:
    # Tokens live 4 s, so every virtual user must renew its token during the 6 s hold: a user that
    # kept an expired token would get 401s and the step would fail. Client credentials here: the
    # platform's JSON user login has no refresh call (as the real ATOM's), so renewing it every 3 s
    # would re-run the password hash 7 times a second and measure that instead of the API.
    target = platform_factory(extra_args=("--token-ttl", "4"))
    config = write_config(tmp_path, target.base_url, profiles={"smoke": {"login": "client_credentials"}})
    run = run_load(tmp_path, "--profile", "smoke", "--users", "20", "--duration", "6s", "--config", str(config))
    assert run.code == 0, run.stderr[-3000:]
    [step] = run.steps
    assert step["status"] == "passed" and step["findings"] == []
    assert step["requests"] >= 40 and step["error_rate"] == 0.0
    assert step["generator"]["valid"] is True
    renewals = next(s for s in step["scopes"] if s["key"] == "auth · token renewal")
    assert renewals["requests"] >= 20 and renewals["errors"] == 0  # renewed inside the hold by each of 20 users
    assert {s["kind"] for s in step["scopes"]} == {"overall", "integration", "operation"}
    report = run.report
    assert report["totals"]["requests"] == report["locust_totals"]["requests"]
    assert report["totals"]["token_requests"] == report["locust_totals"]["token_requests"] >= 20
    html = (tmp_path / "reports" / "load" / "capacity.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html.replace(target.base_url, "")
    _no_secrets(run)


def test_virtual_users_log_in_as_the_real_atoms_users_do(platform, tmp_path: Path) -> None:
    """The default smoke login is the user login the description documents: the reference platform's
    JSON LoginRequest at /api/auth/login, one per virtual user, in the stats as "auth · token"."""
    config = write_config(tmp_path, platform.base_url, min_samples=20)
    run = run_load(tmp_path, "--profile", "smoke", "--users", "10", "--duration", "5s", "--config", str(config))
    assert run.code == 0, run.stderr[-3000:]
    [step] = run.steps
    assert step["status"] == "passed"
    # one login per user, during the ramp (a step's scopes hold only its hold phase)
    assert run.report["totals"]["token_requests"] == run.report["locust_totals"]["token_requests"] == 10
    _no_secrets(run)


def test_injected_latency_fails_the_step_it_starts_in(
    platform_factory: Callable[..., RunningPlatform], tmp_path: Path
) -> None:
    target = platform_factory()
    config = write_config(tmp_path, target.base_url, min_samples=20,
                          profiles={"capacity": {"steps": [4, 8], "hold": "6s", "spawn_rate": 20,
                                                 "think_time_s": [0.2, 0.4]}})
    proc = subprocess.Popen(load_command("--profile", "capacity", "--config", str(config)), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    injected = False
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + 90
        for line in proc.stderr:  # the plain progress prints a line at every phase change
            if not injected and line.startswith("[2/2"):
                set_fault(target.base_url, "latency_ms", "800")
                injected = True
            assert time.monotonic() < deadline
        proc.wait(timeout=60)
    finally:
        proc.kill()
    assert injected and proc.returncode == 1
    run = LoadRun(proc.returncode, "", "", tmp_path)
    first, second = run.steps
    assert first["status"] == "passed" and first["p95_ms"] < 200
    assert second["status"] == "failed"
    assert 800 <= second["p50_ms"] <= 900 and 800 <= second["p95_ms"] <= 1200
    overall = [f for f in second["findings"] if f["message"].startswith("at 8 users:")]
    assert [f["rule"] for f in overall] == ["SLO_MISSED"] and overall[0]["severity"] == "P1"
    assert overall[0]["message"] == f"at 8 users: p95 {second['p95_ms']:.1f} ms ≥ 500 ms"
    assert run.report["knee"]["max_users_inside_slo"] == 4


def test_sustained_error_rate_aborts_the_run_with_a_p0(
    platform_factory: Callable[..., RunningPlatform], tmp_path: Path
) -> None:
    target = platform_factory("error_rate=0.06")
    config = write_config(tmp_path, target.base_url, abort={"sustained": "4s"})
    start = time.monotonic()
    run = run_load(tmp_path, "--profile", "smoke", "--users", "40", "--duration", "60s", "--config", str(config))
    assert time.monotonic() - start < 45, "the run was not aborted early"
    assert run.code == 1
    [step] = run.steps
    assert step["status"] == "failed"
    [abort] = [f for f in step["findings"] if f["rule"] == "HIGH_ERROR_RATE"]
    assert abort["severity"] == "P0" and "run aborted" in abort["message"]
    assert step["measured_s"] < 30


def test_healthy_run_is_not_aborted(platform_factory: Callable[..., RunningPlatform], tmp_path: Path) -> None:
    target = platform_factory("error_rate=0.02")  # above the SLO, below the abort threshold
    config = write_config(tmp_path, target.base_url, abort={"sustained": "4s"})
    run = run_load(tmp_path, "--profile", "smoke", "--users", "40", "--duration", "6s", "--config", str(config))
    [step] = run.steps
    assert not [f for f in step["findings"] if f["rule"] == "HIGH_ERROR_RATE"]
    assert step["measured_s"] >= 6


def test_two_local_workers_report_every_request_to_the_master(
    platform_factory: Callable[..., RunningPlatform], tmp_path: Path
) -> None:
    platform = platform_factory()  # load writes data: a private platform, not the session's
    run = run_load(tmp_path, "--profile", "smoke", "--users", "20", "--duration", "5s", "--workers", "2",
                   "--target", platform.base_url)
    assert run.code == 0, run.stderr[-3000:]
    [step] = run.steps
    assert step["generator"]["workers"] == 2 and step["status"] == "passed"
    report = run.report
    # Our merged HDR tallies count exactly what Locust's own (separately merged) stats count.
    assert report["totals"]["requests"] == report["locust_totals"]["requests"] > 0
    assert len(list((tmp_path / "reports" / "load" / "workers").glob("worker-*.log"))) == 2


def _locust(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "locust", "-f", str(Path(__file__).parents[2] / "load" / "locustfile.py"), *args]


def test_plain_locust_runs_the_locustfile_with_the_same_gate(
    platform_factory: Callable[..., RunningPlatform], tmp_path: Path
) -> None:
    target = platform_factory("latency_ms=700")
    config = write_config(tmp_path, target.base_url, min_samples=10)
    proc = subprocess.run(_locust("--headless", "--sloguard-config", str(config), "--sloguard-users", "10",
                                  "--sloguard-duration", "4s"), cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]  # the gate's exit code, not Locust's
    run = LoadRun(proc.returncode, proc.stdout, proc.stderr, tmp_path)
    [step] = run.steps
    assert step["status"] == "failed" and step["p95_ms"] >= 700
    assert "auth · token" in proc.stdout + proc.stderr  # token acquisition is in Locust's own statistics


def test_plain_locust_web_ui_serves_the_profile(platform_factory: Callable[..., RunningPlatform],
                                                tmp_path: Path) -> None:
    import httpx

    from tests.conftest import free_port

    platform = platform_factory()
    port = free_port()
    proc = subprocess.Popen(_locust("--web-host", "127.0.0.1", "--web-port", str(port), "--host", platform.base_url),
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "the web UI did not come up"
                time.sleep(0.3)
        assert page.status_code == 200 and "locust" in page.text.lower()
        started = httpx.post(f"http://127.0.0.1:{port}/swarm", data={"user_count": 1, "spawn_rate": 1}, timeout=5)
        assert started.status_code == 200 and started.json()["success"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_unsafe_targets_are_refused_with_exit_2(tmp_path: Path) -> None:
    far = run_load(tmp_path / "far", "--profile", "smoke", "--target", "http://203.0.113.9:8400", timeout=30)
    assert far.code == 2 and "load.allow_hosts" in far.stderr and "Traceback" not in far.stderr
    prod = write_config(tmp_path / "prod", "http://127.0.0.1:9")
    prod.write_text(prod.read_text() + "  environment: production\n")
    refused = run_load(tmp_path / "prod", "--profile", "smoke", "--config", str(prod), timeout=30)
    assert refused.code == 2 and "environment is production" in refused.stderr
    assert "load.allow_production" in refused.stderr
    plain = subprocess.run(_locust("--headless", "--host", "http://203.0.113.9:8400"), cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert plain.returncode == 2 and "load.allow_hosts" in plain.stderr
    both = run_load(tmp_path / "both", "--master", "--worker", timeout=30)
    assert both.code == 2 and "exclude each other" in both.stderr


def test_an_unlabelled_localhost_target_that_is_not_the_reference_platform_is_refused(
    platform, tmp_path: Path
) -> None:
    """A real ATOM on localhost is production until its config says otherwise: no load, and none of
    the reference platform's test credentials are sent to it."""
    import httpx

    from tests.synthetics.test_safe_defaults import RecordingAPI

    spec = httpx.get(f"{platform.base_url}/api/v1/openapi.json").json()
    spec["paths"] = {p: i for p, i in spec["paths"].items() if not p.startswith("/api/admin")}
    api = RecordingAPI(spec)
    try:
        run = run_load(tmp_path, "--profile", "smoke", "--target", api.base_url, timeout=60)
    finally:
        api.stop()
    assert run.code == 2 and "production" in run.stderr, run.stderr[-1000:]
    assert [(m, p) for m, p, _, _ in api.seen] == [("GET", "/api/v1/openapi.json")]  # its description only
