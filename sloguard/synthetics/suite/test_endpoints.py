"""Every catalog operation: status, schema, content type, latency and network time within the SLO."""

import pytest

from sloguard.synthetics import CheckHandle

pytestmark = pytest.mark.sloguard("platform", "endpoint", "crud", "action")


def test_endpoint(sloguard_check: CheckHandle) -> None:
    sloguard_check.verify()
