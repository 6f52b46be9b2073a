"""Fixtures shared by the project's tests: the reference platform as a real server on loopback."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sloguard.cli.launch import ReferenceProcess, free_port, start_reference

REPO = Path(__file__).resolve().parent.parent
__all__ = ["RunningPlatform", "free_port", "require_binary", "start_platform"]
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


RunningPlatform = ReferenceProcess


def start_platform(workdir: Path, *faults: str, tls: bool = False, extra_args: tuple[str, ...] = (),
                   timeout_s: float = 30.0) -> RunningPlatform:
    return start_reference(workdir, faults, tls=tls, extra_args=extra_args, timeout_s=timeout_s)


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
