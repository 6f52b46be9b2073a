"""`sloguard platform serve` and `sloguard catalog` from the command line: bad input is one clear line, exit 2."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from sloguard.reference.faults import FAULTS


def sloguard(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sloguard", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def test_list_faults_names_every_fault() -> None:
    run = sloguard("platform", "serve", "--list-faults")
    assert run.returncode == 0
    listed = {line.split("=", 1)[0] for line in run.stdout.splitlines() if line.strip()}
    assert listed == set(FAULTS) and len(listed) == 15


@pytest.mark.parametrize(("fault", "expected"), [
    ("nope=1", "unknown fault 'nope'"),
    ("rate_limit=abc", "rate_limit: 'abc' is not a whole number"),
    ("error_rate=1.5", "out of range"),
    ("integration_down=myspace", "unknown integration myspace"),
    ("latency_ms=100/bimodal", "unknown distribution"),
    ("open_endpoint=no_such_operation", "unknown operationId no_such_operation"),
])
def test_bad_fault_is_one_line_exit_2(fault: str, expected: str, tmp_path: Path) -> None:
    run = sloguard("platform", "serve", "--port", "0", "--db", str(tmp_path / "db.sqlite3"), "--fault", fault)
    assert run.returncode == 2, run.stderr
    assert expected in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "Traceback" not in run.stderr


def test_port_in_use_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = sloguard("platform", "serve", "--port", str(port), "--db", str(tmp_path / "db.sqlite3"))
    assert run.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in run.stderr and "--port" in run.stderr
    assert "Traceback" not in run.stderr


def test_tls_days_left_serves_a_certificate_expiring_then(platform_factory) -> None:
    server = platform_factory("tls_days_left=10")
    assert server.base_url.startswith("https://")
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        der = tls.getpeercert(binary_form=True)
    from datetime import UTC, datetime

    from cryptography import x509

    left = (x509.load_der_x509_certificate(der).not_valid_after_utc - datetime.now(UTC)).days
    assert 9 <= left <= 10


def test_catalog_command_prints_integrations_and_coverage(platform) -> None:
    run = sloguard("catalog", "--target", platform.base_url)
    assert run.returncode == 0, run.stderr
    assert "slack" in run.stdout and "hubspot-marketing" in run.stdout
    coverage = next(line for line in run.stdout.splitlines() if line.startswith("coverage:"))
    checked, total = coverage.split()[1].split("/")
    assert int(total) >= 350 and int(checked) >= 350
    assert "needs scope admin" in run.stdout  # why the rest is not checked


def test_catalog_of_an_unreachable_target_is_one_line(tmp_path: Path) -> None:
    from tests.conftest import free_port

    run = sloguard("catalog", "--target", f"http://127.0.0.1:{free_port()}", cwd=tmp_path)
    assert run.returncode == 2 and "target unreachable" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize("url", ["ftp://atom.example.com", "atom.example.com", "https://atom.example.com/?x=1"])
def test_bad_public_url_is_one_line_exit_2(url: str, tmp_path: Path) -> None:
    result = sloguard("platform", "serve", "--port", "0", "--db", str(tmp_path / "p.db"), "--public-url", url)
    assert result.returncode == 2 and "--public-url" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr
