"""Every catalog operation: status, schema, content type, latency and network time within the SLO."""

import pytest

pytestmark = pytest.mark.sloguard("platform", "endpoint", "crud", "action")


def test_endpoint(sloguard_check):
    sloguard_check.verify()
