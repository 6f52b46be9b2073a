"""PagerDuty Events API v2: trigger and resolve events keyed by the alert's fingerprint.

``dedup_key`` is the fingerprint, so a repeat or a duplicate trigger updates the open incident
instead of paging again, and the resolve closes exactly the incident its trigger opened.
Severity maps P0 → critical, P1 → error, P2 → warning, P3 → info. Limits from the API: ``dedup_key``
at most 255 characters, ``payload.summary`` at most 1024.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sloguard.config.alerts import PagerDutyChannel as PagerDutyConfig

from ..notification import Kind, Notification, describe_delay
from .http import HTTPChannel

SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_SOURCE = 255


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PagerDutyChannel(HTTPChannel[PagerDutyConfig]):
    kind = "pagerduty"

    def validate(self) -> None:
        self.routing_key = self.secret(self.config.routing_key.get_secret_value()) or ""

    def describe(self) -> str:
        return f"pagerduty ({urlsplit(self.config.events_url).hostname})"

    def source(self, n: Notification) -> str:
        return _cut(self.config.source or urlsplit(n.target).netloc or n.target or "sloguard", MAX_SOURCE)

    def dedup_key(self, n: Notification) -> str:
        return n.fingerprint[:MAX_DEDUP_KEY]

    def trigger_event(self, n: Notification) -> dict[str, Any]:
        details: dict[str, Any] = {
            "rule": n.rule, "description": n.description, "scope": n.scope, "target": n.target,
            "run_id": n.run_id, "suite": n.suite, "count": n.count,
            "respond_within": describe_delay(n.response_target),
            "resolve_within": describe_delay(n.resolution_target),
            "fingerprint": n.fingerprint, "notification_id": n.id,
        }
        if n.integration:
            details["integration"] = n.integration
        if n.warning:
            details["warning"] = True
        if n.details:
            details["findings"] = list(n.details)
        if n.labels:
            details["labels"] = dict(n.labels)
        payload: dict[str, Any] = {
            "summary": _cut(n.title(), MAX_SUMMARY),
            "source": self.source(n),
            "severity": "info" if n.kind is Kind.TEST else SEVERITY[n.severity.value],
            "timestamp": n.started_at.isoformat(),
            "class": n.rule,
            "custom_details": details,
        }
        if n.integration:
            payload["component"] = n.integration
        if n.suite:
            payload["group"] = n.suite
        event: dict[str, Any] = {
            "routing_key": self.routing_key, "event_action": "trigger", "dedup_key": self.dedup_key(n),
            "payload": payload, "client": "sloguard",
        }
        links = []
        if n.report_url:
            event["client_url"] = n.report_url
            links.append({"href": n.report_url, "text": "Failing result in the sloguard report"})
        if n.runbook_url:
            links.append({"href": n.runbook_url, "text": "Runbook"})
        if links:
            event["links"] = links
        return event

    def resolve_event(self, n: Notification) -> dict[str, Any]:
        return {"routing_key": self.routing_key, "event_action": "resolve", "dedup_key": self.dedup_key(n)}

    def events(self, n: Notification) -> list[dict[str, Any]]:
        if n.kind is Kind.RESOLVE:
            return [self.resolve_event(n)]
        if n.kind is Kind.TEST:  # leave no open incident behind
            return [self.trigger_event(n), self.resolve_event(n)]
        return [self.trigger_event(n)]

    def send(self, notification: Notification) -> None:
        for event in self.events(notification):
            self.post(self.config.events_url, body=event)

    def resolve(self, notification: Notification) -> None:
        self.post(self.config.events_url, body=self.resolve_event(notification))

    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        return [event for n in batch for event in self.events(n)]
