"""`sloguard alerts test` / `flush` as a user runs them, and broken channel configs failing at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import HMAC_SECRET, PD_KEY, SLACK_PATH
from .receivers import Sink, SMTPServer


def sloguard(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sloguard", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})})


def channels_yaml(pagerduty: Sink, slack: Sink, webhook: Sink, smtp: SMTPServer) -> str:
    return f"""
alerts:
  channels:
    oncall: {{type: pagerduty, routing_key: {PD_KEY}, events_url: "{pagerduty.url}/v2/enqueue"}}
    team: {{type: slack, webhook_url: "{slack.url}{SLACK_PATH}"}}
    tickets: {{type: webhook, url: "{webhook.url}/hooks/tickets", secret: {HMAC_SECRET}}}
    mail: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp.port}, username: {smtp.username},
           password: {smtp.password}, ca_file: "{smtp.cert}", sender: sloguard@example.com, to: sre@example.com}}
  routes:
    - {{severity: [P0], to: [oncall, team]}}
    - {{severity: [P2, P3], to: [tickets, mail]}}
  retry: {{attempts: 2, backoff_s: 0.01}}
"""


def test_alerts_test_reaches_every_channel_and_says_which_answered(
    tmp_path: Path, pagerduty: Sink, slack: Sink, webhook: Sink, smtp: SMTPServer
) -> None:
    (tmp_path / "sloguard.yaml").write_text(channels_yaml(pagerduty, slack, webhook, smtp))
    done = sloguard(tmp_path, "alerts", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    for line in ("ok    oncall   pagerduty (127.0.0.1)", "ok    team     slack (127.0.0.1)",
                 "ok    tickets  webhook (127.0.0.1)", "ok    mail     email (127.0.0.1:",
                 "4 of 4 channel(s) answered"):
        assert line in done.stdout, done.stdout
    assert [e["event_action"] for e in (r.json() for r in pagerduty.received)] == ["trigger", "resolve"]
    assert pagerduty.received[0].json()["payload"]["severity"] == "info"
    assert "sloguard test alert" in slack.received[0].json()["text"]
    assert webhook.received[0].json()["kind"] == "test" and not webhook.refused  # signed, and it verified
    assert len(smtp.messages) == 1 and smtp.messages[0].tls
    assert not (tmp_path / "reports").exists(), "a test alert leaves no state and no spool"

    slack.fail_next(100, 503)
    pagerduty_down = sloguard(tmp_path, "alerts", "test", "--json")
    assert pagerduty_down.returncode == 1
    results = {r["name"]: r for r in json.loads(pagerduty_down.stdout)}
    assert results["team"]["ok"] is False and results["team"]["error"] == "HTTP 503: service unavailable"
    assert all(results[n]["ok"] for n in ("oncall", "tickets", "mail"))
    slack.recover()
    pagerduty.fail_next(100, 500)
    human = sloguard(tmp_path, "alerts", "test")
    assert human.returncode == 1 and "FAIL  oncall   pagerduty (127.0.0.1): HTTP 500" in human.stdout
    assert "3 of 4 channel(s) answered" in human.stdout


def test_alerts_flush_exit_code_says_whether_anything_still_waits(tmp_path: Path, webhook: Sink) -> None:
    from sloguard.alerts.spool import Spool
    from sloguard.severity import Rule

    from .conftest import alert, alerts_config, webhook_channel
    (tmp_path / "sloguard.yaml").write_text(
        f"alerts:\n  channels:\n    tickets: {{type: webhook, url: '{webhook.url}/hooks/t', secret: {HMAC_SECRET}}}\n"
        "  routes: [{to: tickets}]\n  retry: {attempts: 1}\nreports: {dir: out}\n")
    from sloguard.alerts.notify import notify

    config = alerts_config(channels={"tickets": webhook_channel(webhook)}, routes=[{"to": "tickets"}])
    webhook.fail_next(100, 503)
    notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=tmp_path / "out" / "alerts", run_id="r1")
    assert len(Spool(tmp_path / "out" / "alerts" / "spool", "tickets")) == 1
    waiting = sloguard(tmp_path, "alerts", "flush")
    assert waiting.returncode == 1 and "1 waiting in the spool (tickets: HTTP 503" in waiting.stdout
    webhook.recover()
    done = sloguard(tmp_path, "alerts", "flush")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sent     tickets: trigger P0 PLATFORM_DOWN platform" in done.stdout
    assert [r.json()["rule"] for r in webhook.received] == ["PLATFORM_DOWN"]


BROKEN = [
    pytest.param("team: {type: slack, webhook_url: 'http://hooks.slack.com/services/T/B/x'}",
                 "sloguard.yaml:4: alerts.channels.team.webhook_url: the webhook URL must be https://",
                 id="slack-http"),
    pytest.param("oncall: {type: pagerduty, routing_key: 'abc def'}",
                 "alerts.channels.oncall.routing_key: contains whitespace", id="pagerduty-key"),
    pytest.param("mail: {type: email, smtp_host: smtp.example.com, sender: a@example.com, to: [b@example.com],"
                 " starttls: false, username: u, password: p4ssw0rd}",
                 "alerts.channels.mail: refusing to send the SMTP password in clear text", id="email-plaintext"),
    pytest.param("mail: {type: email, smtp_host: 127.0.0.1, sender: not-an-address, to: b@example.com}",
                 "alerts.channels.mail.sender: 'not-an-address' is not an email address", id="email-address"),
    pytest.param("hook: {type: webhook, url: 'http://tickets.example.com/in'}",
                 "a webhook over http:// off this machine must be signed", id="webhook-unsigned"),
    pytest.param("am: {type: alertmanager, url: 'http://127.0.0.1:9093', labels: {bad-name: x}}",
                 "alerts.channels.am.labels: 'bad-name' is not a label name", id="am-label"),
    pytest.param("mail: {type: email, smtp_host: 127.0.0.1, sender: a@example.com, to: b@example.com,"
                 " ca_file: missing.pem}",
                 "alerts.channels.mail (email): ca_file missing.pem not found", id="email-ca-file"),
    pytest.param("hook: {type: webhook, url: 'https://t.example.com/in', headers: {X-Sloguard-Signature: x}}",
                 "alerts.channels.hook (webhook): header X-Sloguard-Signature is set by sloguard itself",
                 id="webhook-header"),
]


@pytest.mark.parametrize(("channel", "message"), BROKEN)
def test_a_broken_channel_config_is_a_one_line_error_at_start(tmp_path: Path, channel: str, message: str) -> None:
    (tmp_path / "sloguard.yaml").write_text(f"\nalerts:\n  channels:\n    {channel}\n")
    done = sloguard(tmp_path, "alerts", "test")
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sloguard: error: "), done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr and "p4ssw0rd" not in done.stderr


def test_a_check_run_with_a_broken_channel_config_stops_before_checking(tmp_path: Path) -> None:
    (tmp_path / "sloguard.yaml").write_text(
        "alerts:\n  channels:\n    oncall: {type: pagerduty, routing_key: 'x y', events_url: 'http://pd.example.com'}\n")
    done = sloguard(tmp_path, "check", "synthetics")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("sloguard: error: sloguard.yaml:3: alerts.channels.oncall.")
    assert not (tmp_path / "reports").exists()
