"""Protected operations refuse missing and forged credentials; tenants are isolated; logins throttled."""

import pytest

pytestmark = pytest.mark.sloguard("security")


def test_security(sloguard_check):
    sloguard_check.verify()
