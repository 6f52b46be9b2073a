"""Protected operations refuse missing and forged credentials; tenants are isolated; logins throttled."""

import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("security")


def test_security(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
