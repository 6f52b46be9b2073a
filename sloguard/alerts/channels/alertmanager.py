"""Prometheus Alertmanager API v2: ``POST /api/v2/alerts``, re-sent every run while firing.

Alertmanager identifies an alert by its label set (``alertname`` = the rule, ``severity``,
``scope``, ``integration``, ``target``, plus the channel's static ``labels``), groups, dedups and
routes it itself, and expects clients to repeat firing alerts. Each firing post carries ``endsAt``
= now + ``expire_after``, so an alert that sloguard stops sending resolves by itself; a resolve
posts the same labels with ``endsAt`` = when it cleared.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sloguard.config.alerts import AlertmanagerChannel as AlertmanagerConfig
from sloguard.redact import is_sensitive_key

from ..notification import Kind, Notification, describe_delay
from .http import HTTPChannel, check_headers

API_PATH = "/api/v2/alerts"
TEST_ALERTNAME = "SloguardTest"
TEST_EXPIRES = timedelta(minutes=5)


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class AlertmanagerChannel(HTTPChannel[AlertmanagerConfig]):
    kind = "alertmanager"
    repeats_while_firing = True
    batch_size = 50  # one POST carries a list of alerts

    def validate(self) -> None:
        check_headers(self, self.config.headers)
        for name, value in self.config.headers.items():
            if is_sensitive_key(name):
                self.secret(value)
        parts = urlsplit(self.config.url)
        if parts.password:
            self.secret(parts.password)
        path = parts.path.rstrip("/")
        path = path.removesuffix(API_PATH)
        self.endpoint = urlunsplit((parts.scheme, parts.netloc, path + API_PATH, "", ""))
        self.host = parts.hostname or ""

    def describe(self) -> str:
        return f"alertmanager ({self.host})"

    def labels(self, n: Notification) -> dict[str, str]:
        if n.kind is Kind.TEST:
            core = {"alertname": TEST_ALERTNAME, "severity": n.severity.value, "scope": n.scope, "target": n.target}
        else:
            core = {"alertname": n.rule, "severity": n.severity.value, "scope": n.scope, "target": n.target}
            if n.integration:
                core["integration"] = n.integration
            if n.suite:
                core["suite"] = n.suite
        return {**self.config.labels, **core, "source": "sloguard"}

    def alert(self, n: Notification, now: datetime | None = None) -> dict[str, Any]:
        moment = now or datetime.now(UTC)
        annotations = {
            "summary": n.summary, "description": n.description,
            "respond_within": describe_delay(n.response_target),
            "resolve_within": describe_delay(n.resolution_target),
            "run_id": n.run_id, "fingerprint": n.fingerprint,
        }
        if n.runbook_url:
            annotations["runbook_url"] = n.runbook_url
        if n.report_url:
            annotations["report_url"] = n.report_url
        if n.details:
            annotations["findings"] = "\n".join(n.details)
        if n.kind is Kind.RESOLVE:
            ends = n.ended_at or moment
        elif n.kind is Kind.TEST:
            ends = moment + TEST_EXPIRES
        else:
            ends = moment + timedelta(seconds=self.config.expire_after)
        body: dict[str, Any] = {"labels": self.labels(n), "annotations": annotations,
                                "startsAt": _z(min(n.started_at, ends)), "endsAt": _z(ends)}
        if n.report_url:
            body["generatorURL"] = n.report_url
        return body

    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        return [[self.alert(n) for n in batch]] if batch else []

    def deliver(self, batch: Sequence[Notification]) -> None:
        if batch:
            self.post(self.endpoint, body=[self.alert(n) for n in batch], headers=self.config.headers)

    def send(self, notification: Notification) -> None:
        self.deliver([notification])

    def resolve(self, notification: Notification) -> None:
        self.deliver([notification])
