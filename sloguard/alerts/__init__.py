"""Alerts: built from findings and SLO misses by rules, routed by severity to channels.

`model` says what an alert is (with a stable fingerprint). Routing, channels, delivery state and
the spool build on it and never see a runner.
"""

from .model import MAX_DETAILS, Alert, AlertState, fingerprint, target_key

__all__ = ["MAX_DETAILS", "Alert", "AlertState", "fingerprint", "target_key"]
