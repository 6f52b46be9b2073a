"""Cross-integration sync: a created record arrives, intact, in its target within the time allowed."""

import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("sync")


def test_sync(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
