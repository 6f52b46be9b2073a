"""`sloguard demo`: start the reference platform, run the suites against it, print the verdict."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer

from sloguard.errors import UsageError

from .check import run_synthetics


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])


def start_reference(workdir: Path, port: int, faults: list[str], timeout_s: float = 30.0) -> subprocess.Popen[bytes]:
    """The reference platform in a child process on loopback; returns once it answers /health."""
    cmd = [sys.executable, "-m", "sloguard", "platform", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--db", str(workdir / "platform.sqlite3")]
    for fault in faults:
        cmd += ["--fault", fault]
    log = (workdir / "platform.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise UsageError(f"the reference platform exited ({proc.returncode}); see {workdir / 'platform.log'}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.terminate()
    raise UsageError(f"the reference platform did not start within {timeout_s:.0f} s; see {workdir}/platform.log")


def demo(
    port: Annotated[int, typer.Option(help="Port for the reference platform (a free one if taken).")] = 8400,
    fault: Annotated[list[str] | None, typer.Option("--fault", help="Start the platform with this fault.")] = None,
) -> None:
    """Start the reference ATOM platform on loopback, run the synthetic suite, print verdict and coverage."""
    port = _port(port)
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sloguard-demo-") as tmp:
        typer.echo(f"starting the reference ATOM platform on {base_url} ...")
        proc = start_reference(Path(tmp), port, fault or [])
        try:
            typer.echo("running the synthetic suite (reports in reports/) ...")
            code, summary = run_synthetics(None, base_url, False)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    if summary is not None:
        checks = summary.get("checks", {})
        typer.echo(f"demo verdict: {str(summary.get('verdict', '?')).upper()} — {checks}")
    raise typer.Exit(code)
