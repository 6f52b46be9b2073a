"""Cross-integration sync: a created record arrives, intact, in its target within the time allowed."""

import pytest

pytestmark = pytest.mark.sloguard("sync")


def test_sync(sloguard_check):
    sloguard_check.verify()
