"""Every OAuth grant works; every attack on the flows is refused."""

import pytest

pytestmark = pytest.mark.sloguard("oauth")


def test_oauth(sloguard_check):
    sloguard_check.verify()
