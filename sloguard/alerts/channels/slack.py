"""Slack incoming webhook: one Block Kit message per notification.

The message leads with severity, rule and state, then the summary, the response and resolution
targets of the severity, where it happened, the finding lines, and links to the failing result in
the report and to the runbook. The webhook URL is the credential: it is registered for redaction
and never shown (`describe` names only the host).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from sloguard.config.alerts import SlackChannel as SlackConfig

from ..notification import Kind, Notification, describe_delay
from .http import HTTPChannel

_HEADER_MAX = 150  # Block Kit: a header's plain text
_TEXT_MAX = 3000  # Block Kit: a section's text
_FIELD_MAX = 2000
_ICON = {"P0": ":red_circle:", "P1": ":large_orange_circle:", "P2": ":large_yellow_circle:", "P3": ":white_circle:"}


def escape(text: str) -> str:
    """Slack mrkdwn control characters (&, <, >) as entities, so a summary cannot forge a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def blocks_for(n: Notification) -> dict[str, Any]:
    """The webhook body (``text`` is the fallback shown in notifications and by old clients)."""
    if n.kind is Kind.RESOLVE:
        icon, word = ":white_check_mark:", "resolved"
    elif n.kind is Kind.TEST:
        icon, word = ":test_tube:", "test"
    else:
        icon, word = _ICON.get(n.severity.value, ":red_circle:"), "still firing" if n.kind is Kind.REPEAT else "firing"
    warning = " (warning)" if n.warning else ""
    header = f"{n.severity.value} {n.rule}{warning} {word}" if n.kind is not Kind.TEST else "sloguard test alert"
    fields = [
        ("Severity", f"{n.severity.value}{warning}"),
        ("Respond within", describe_delay(n.response_target)),
        ("Resolve within", describe_delay(n.resolution_target)),
        ("Target", n.target),
        ("Scope", n.scope),
        ("Run", f"`{n.run_id}`" + (f" ({n.suite})" if n.suite else "")),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{header}", _HEADER_MAX), "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(f"{icon} {escape(n.summary)}", _TEXT_MAX)}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": _cut(f"*{label}*\n{escape(value) if label != 'Run' else value}", _FIELD_MAX)}
            for label, value in fields
        ]},
    ]
    if n.details and n.kind is not Kind.RESOLVE:
        more = f"\n… {n.count - len(n.details)} more" if n.count > len(n.details) else ""
        lines = "\n".join(escape(d) for d in n.details)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": _cut(f"```{lines}```{more}", _TEXT_MAX)}})
    links = []
    if n.report_url:
        links.append(f"<{n.report_url}|Open the failing result in the report>")
    if n.runbook_url:
        links.append(f"<{n.runbook_url}|Runbook>")
    if links:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "  ·  ".join(links)}})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(
        f"sloguard · {escape(n.description)} · fingerprint `{n.fingerprint}`", _TEXT_MAX)}]})
    return {"text": _cut(f"{n.title()}", _TEXT_MAX), "blocks": blocks}


class SlackChannel(HTTPChannel[SlackConfig]):
    kind = "slack"

    def validate(self) -> None:
        url = self.config.webhook_url.get_secret_value()
        self.secret(url)
        path = urlsplit(url).path.strip("/")
        if len(path) >= 8:
            self.secret(path)  # the credential part of https://hooks.slack.com/services/T…/B…/…
        self.url = url

    def describe(self) -> str:
        return f"slack ({urlsplit(self.url).hostname})"

    def body(self, n: Notification) -> dict[str, Any]:
        body = blocks_for(n)
        if self.config.channel:
            body["channel"] = self.config.channel
        return body

    def send(self, notification: Notification) -> None:
        self.post(self.url, body=self.body(notification))

    def resolve(self, notification: Notification) -> None:
        self.post(self.url, body=self.body(notification))

    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        return [self.body(n) for n in batch]
