"""What a notification carries and how each channel shapes it: targets, links, limits, routing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sloguard.alerts.channels import ChannelSettings, open_channel
from sloguard.alerts.notification import Kind, Notification, describe_delay, report_link
from sloguard.alerts.routes import channels_for, labels_of
from sloguard.config.alerts import AlertsConfig
from sloguard.severity import Rule, Severity

from .conftest import PD_KEY, alert, alerts_config


@pytest.mark.parametrize(("severity", "respond", "resolve"), [
    (Severity.P0, "immediately", "1 h"), (Severity.P1, "2 h", "4 h"),
    (Severity.P2, "8 h", "24 h"), (Severity.P3, "24 h", "1 week"),
])
def test_each_severity_carries_the_platform_plans_targets(severity: Severity, respond: str, resolve: str) -> None:
    n = Notification.from_alert(alert(Rule.CHECK_ERROR, severity=severity), Kind.TRIGGER)
    assert describe_delay(n.response_target) == respond and describe_delay(n.resolution_target) == resolve
    assert n.to_dict()["response_target"] == respond and n.to_dict()["resolution_target"] == resolve


def test_runbooks_by_rule_then_default_and_report_links() -> None:
    books = {"PLATFORM_DOWN": "https://wiki/pd", "default": "https://wiki/"}
    down = Notification.from_alert(alert(Rule.PLATFORM_DOWN), Kind.TRIGGER, runbooks=books)
    other = Notification.from_alert(alert(Rule.TLS_EXPIRY), Kind.TRIGGER, runbooks=books)
    assert (down.runbook_url, other.runbook_url) == ("https://wiki/pd", "https://wiki/")
    assert Notification.from_alert(alert(Rule.TLS_EXPIRY), Kind.TRIGGER).runbook_url is None
    args = {"run_id": "r7", "fingerprint": "f00d", "check_id": "stripe-list", "rule": "SLO_MISSED"}
    assert report_link("https://ci/r/", **args) == "https://ci/r/#stripe-list"
    assert report_link("https://ci/r/", **{**args, "check_id": ""}) == "https://ci/r/#f00d"
    assert report_link("https://ci/{run_id}/index.html#/{check_id}", **args) == "https://ci/r7/index.html#/stripe-list"
    assert report_link("https://ci/r/#top", **args) == "https://ci/r/#top"
    assert report_link(None, **args) is None


def test_report_url_placeholders_are_checked_in_the_config() -> None:
    with pytest.raises(ValueError, match=r"unknown placeholder 'run' in report_url; use \{run_id\}"):
        AlertsConfig.model_validate({"report_url": "https://ci/{run}/"})
    with pytest.raises(ValueError, match="did you mean 'PLATFORM_DOWN'"):
        AlertsConfig.model_validate({"runbooks": {"platform_dwn": "https://wiki/x"}})
    assert AlertsConfig.model_validate({"runbooks": {"platform-down": "https://wiki/x"}}).runbooks == {
        "PLATFORM_DOWN": "https://wiki/x"}


def test_routes_match_severity_and_label_globs() -> None:
    config = alerts_config(
        channels={n: {"type": "webhook", "url": f"https://{n}.example.com/in"} for n in ("page", "chat", "pay", "cap")},
        routes=[{"severity": "P0", "to": "page"}, {"severity": ["P0", "P1"], "to": ["chat", "page"]},
                {"match": {"integration": "stripe*"}, "to": "pay"},
                {"match": {"warning": "true", "rule": "RATE_LIMIT_*"}, "to": "cap"}])
    assert channels_for(alert(Rule.PLATFORM_DOWN), config) == ["page", "chat"]
    stripe = alert(Rule.INTEGRATION_DEGRADED, "integration:stripe-eu", integration="stripe-eu")
    assert channels_for(stripe, config) == ["chat", "page", "pay"]
    near = alert(Rule.RATE_LIMIT_NEAR, "integration:jira", integration="jira", warning=True)
    assert channels_for(near, config) == ["chat", "page", "cap"]
    assert channels_for(alert(Rule.COSMETIC_CONTRACT), config) == []
    assert labels_of(near)["warning"] == "true" and labels_of(near)["severity"] == "P1"


def test_pagerduty_limits_and_severity_mapping() -> None:
    channel = open_channel("oncall", AlertsConfig.model_validate(
        {"channels": {"oncall": {"type": "pagerduty", "routing_key": PD_KEY}}}).channels["oncall"], ChannelSettings())
    for severity, expected in zip(Severity, ("critical", "error", "warning", "info"), strict=True):
        huge = alert(Rule.CHECK_ERROR, severity=severity, summary="x" * 5000)
        [event] = channel.payloads([Notification.from_alert(huge, Kind.TRIGGER)])
        assert event["payload"]["severity"] == expected
        assert len(event["payload"]["summary"]) == 1024 and event["payload"]["summary"].endswith("…")
        assert len(event["dedup_key"]) <= 255 and event["dedup_key"] == huge.fingerprint
    [resolve] = channel.payloads([Notification.from_alert(huge.resolve("r2"), Kind.RESOLVE)])
    assert resolve == {"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": huge.fingerprint}
    [shown] = channel.preview([Notification.from_alert(huge.resolve("r2"), Kind.RESOLVE)])
    assert shown["routing_key"] == "[REDACTED]"


def test_slack_blocks_respect_block_kit_limits_and_escape_mrkdwn() -> None:
    from sloguard.alerts.channels.slack import blocks_for

    long = alert(Rule.INTEGRATION_DEGRADED, "integration:" + "z" * 300, summary="<!channel> & " + "y" * 4000,
                 details=tuple(f"line {i} " + "d" * 400 for i in range(20)), count=45)
    body = blocks_for(Notification.from_alert(long, Kind.TRIGGER))
    header, summary, fields, details = body["blocks"][:4]
    assert len(header["text"]["text"]) <= 150
    assert len(summary["text"]["text"]) <= 3000 and "&lt;!channel&gt; &amp;" in summary["text"]["text"]
    assert len(fields["fields"]) <= 10 and all(len(f["text"]) <= 2000 for f in fields["fields"])
    assert len(details["text"]["text"]) <= 3000


def test_alerts_render_repeat_and_resolve_titles() -> None:
    a = alert(Rule.RATE_LIMIT_NEAR, "integration:jira", warning=True, summary="84% of the limit")
    assert Notification.from_alert(a, Kind.TRIGGER).title() == "P1 RATE_LIMIT_NEAR (warning) firing: 84% of the limit"
    assert Notification.from_alert(a, Kind.REPEAT).title().startswith("P1 RATE_LIMIT_NEAR (warning) still firing")
    resolved = Notification.from_alert(a.resolve("r2"), Kind.RESOLVE)
    assert resolved.state == "resolved" and resolved.ended_at is not None
    again = Notification.from_dict(resolved.to_dict())
    assert again == resolved
    assert describe_delay(timedelta(days=3)) == "3 days" and describe_delay(timedelta(minutes=90)) == "90 min"
