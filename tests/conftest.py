"""Fixtures shared by the project's tests: the reference platform as a real server on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
STRICT_ENV = "SLOGUARD_REQUIRE_SYSTEM_PACKAGES"


def require_binary(binary: str, package: str) -> str:
    """Path of ``binary``; skip naming the Debian package when missing, or fail when CI demands it."""
    path = shutil.which(binary)
    if path:
        return path
    message = f"needs `{binary}`: install the Debian package `{package}` (apt-get install -y {package})"
    if os.environ.get(STRICT_ENV):
        pytest.fail(f"{message}; {STRICT_ENV} is set, so this may not be skipped")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningPlatform:
    base_url: str
    port: int
    db_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    faults: tuple[str, ...] = field(default_factory=tuple)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_platform(
    workdir: Path, *faults: str, tls: bool = False, extra_args: tuple[str, ...] = (), timeout_s: float = 30.0
) -> RunningPlatform:
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    db_path = workdir / "platform.sqlite3"
    log_path = workdir / "platform.log"
    cmd = [sys.executable, "-m", "sloguard", "platform", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--db", str(db_path), *extra_args]
    if tls:
        cmd.append("--tls")
    for f in faults:
        cmd += ["--fault", f]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    scheme = "https" if tls or any(f.startswith("tls_days_left") for f in faults) else "http"
    base_url = f"{scheme}://127.0.0.1:{port}"
    platform = RunningPlatform(base_url, port, db_path, log_path, proc, tuple(faults))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"reference platform exited with {proc.returncode}:\n{platform.log()}")
        try:
            httpx.get(f"{base_url}/health", timeout=1.0, verify=False)
            return platform
        except httpx.HTTPError:
            time.sleep(0.1)
    platform.stop()
    raise RuntimeError(f"reference platform did not answer within {timeout_s}s:\n{platform.log()}")


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    """One healthy reference platform for the whole session. Tests that inject faults at run time
    must clear them again (or use ``platform_factory`` for a private server)."""
    running = start_platform(tmp_path_factory.mktemp("platform"))
    yield running
    running.stop()


@pytest.fixture
def platform_factory(tmp_path: Path) -> Iterator[Callable[..., RunningPlatform]]:
    """Start private platforms (e.g. with start-time faults); all are stopped after the test."""
    started: list[RunningPlatform] = []

    def factory(*faults: str, tls: bool = False, extra_args: tuple[str, ...] = ()) -> RunningPlatform:
        running = start_platform(tmp_path / f"platform{len(started)}", *faults, tls=tls, extra_args=extra_args)
        started.append(running)
        return running

    yield factory
    for running in started:
        running.stop()
