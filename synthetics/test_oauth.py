"""Every OAuth grant works; every attack on the flows is refused."""

import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("oauth")


def test_oauth(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
