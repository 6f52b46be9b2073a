"""Platform and integration health, the "3+ integrations down" condition, and the TLS certificate."""

import pytest

pytestmark = pytest.mark.sloguard("health", "tls")


def test_health(sloguard_check):
    sloguard_check.verify()
