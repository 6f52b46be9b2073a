"""Which channels an alert goes to: the config's routes, by severity and by labels.

Every route whose severities include the alert's and whose ``match`` globs all match its labels
adds its channels (each channel once, in route order), so ``P0 → pagerduty + slack`` and
``integration: stripe* → payments-team`` can both apply to one alert. Warning alerts are routed
like the others (match ``warning: "true"`` to treat them apart).
"""

from __future__ import annotations

from sloguard.config.alerts import AlertsConfig, Route
from sloguard.redact import redact_text

from .model import Alert


def labels_of(alert: Alert) -> dict[str, str]:
    """The labels routes match on: the alert's own ``labels`` plus rule, severity, scope, suite,
    integration, target, warning ("true"/"false") and state."""
    return {
        **{str(k): str(v) for k, v in alert.labels.items()},
        "rule": alert.rule.name,
        "severity": alert.severity.value,
        "scope": alert.scope,
        "suite": alert.suite,
        "integration": alert.integration or "",
        "target": redact_text(alert.target),
        "warning": "true" if alert.warning else "false",
        "state": alert.state.value,
    }


def matching_routes(alert: Alert, config: AlertsConfig) -> list[Route]:
    labels = labels_of(alert)
    return [r for r in config.routes if r.matches(alert.severity.value, labels)]


def channels_for(alert: Alert, config: AlertsConfig) -> list[str]:
    """The names of the channels ``alert`` goes to, each once, in route order (empty: print only)."""
    names: list[str] = []
    for route in matching_routes(alert, config):
        names.extend(n for n in route.to if n not in names and n in config.channels)
    return names
