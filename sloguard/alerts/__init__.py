"""Alerts: built from findings and SLO misses by rules, routed by severity to channels.

`model` says what an alert is (with a stable fingerprint), `rules` builds a run's alerts. Routing,
channels, delivery state and the spool build on these and never see a runner.
"""

from .model import MAX_DETAILS, Alert, AlertState, fingerprint, target_key
from .rules import SCOPE_OF, build_alerts, finding_line, nothing_ran, scope_for

__all__ = [
    "MAX_DETAILS",
    "SCOPE_OF",
    "Alert",
    "AlertState",
    "build_alerts",
    "finding_line",
    "fingerprint",
    "nothing_ran",
    "scope_for",
    "target_key",
]
