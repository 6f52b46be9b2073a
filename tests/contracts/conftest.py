"""A reference platform of the contract tests' own: fuzzing creates records and spends OAuth states,
so it must not share the session's platform with suites that expect a quiet one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import RunningPlatform, start_platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPlatform]:
    running = start_platform(tmp_path_factory.mktemp("contract-platform"))
    yield running
    running.stop()
