"""Start the reference platform as a child process and wait until it answers.

One launcher for `sloguard demo`, the project's test fixtures and the benchmarks. It runs
`python -m sloguard platform serve` (it never imports the platform), always on loopback.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx

from sloguard.errors import UsageError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ReferenceProcess:
    base_url: str
    port: int
    db_path: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    faults: tuple[str, ...] = ()

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


def start_reference(
    workdir: Path, faults: Iterable[str] = (), *, port: int | None = None, tls: bool = False,
    extra_args: Iterable[str] = (), timeout_s: float = 30.0,
) -> ReferenceProcess:
    """The platform on 127.0.0.1 (a free port unless given), its SQLite file and log in ``workdir``."""
    faults = tuple(faults)
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    db_path, log_path = workdir / "platform.sqlite3", workdir / "platform.log"
    cmd = [sys.executable, "-m", "sloguard", "platform", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--db", str(db_path), *extra_args]
    if tls:
        cmd.append("--tls")
    for fault in faults:
        cmd += ["--fault", fault]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
    https = tls or any(f.startswith("tls_days_left") for f in faults)
    running = ReferenceProcess(f"{'https' if https else 'http'}://127.0.0.1:{port}", port, db_path, log_path,
                               proc, faults)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UsageError(f"the reference platform exited ({proc.returncode}): {running.log().strip()[-500:]}")
        try:
            httpx.get(f"{running.base_url}/health", timeout=1.0, verify=False)
            return running
        except httpx.HTTPError:
            time.sleep(0.1)
    running.stop()
    raise UsageError(f"the reference platform did not answer within {timeout_s:.0f} s; see {log_path}")
