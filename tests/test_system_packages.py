"""The rule for tests that need a Debian package: skip naming it on a user's machine, fail in CI."""

from __future__ import annotations

import pytest

from tests.conftest import STRICT_ENV, require_binary


def test_present_binary_is_returned() -> None:
    assert require_binary("sh", "dash").endswith("/sh")


def test_missing_binary_skips_with_the_package_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"apt-get install -y no-such-package"):
        require_binary("sloguard-no-such-binary", "no-such-package")


def test_missing_binary_fails_when_ci_requires_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=r"may not be skipped"):
        require_binary("sloguard-no-such-binary", "no-such-package")
