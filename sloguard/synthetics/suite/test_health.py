"""Platform and integration health, the "3+ integrations down" condition, and the TLS certificate."""

import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("health", "tls")


def test_health(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
