"""No channel secret (routing key, webhook URL path, HMAC secret, SMTP password, header tokens) reaches
any payload it does not belong in, any log line, the dry-run output, the CLI output, or any file under
the reports folder — even when an alert's own text quotes one (a platform that echoes credentials)."""

from __future__ import annotations

import email
import json
import logging
import os
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from sloguard.alerts.notify import flush
from sloguard.severity import Rule

from .conftest import HMAC_SECRET, PD_KEY, SLACK_PATH, Runs, alert, alerts_config, pd_channel, slack_channel
from .receivers import Sink, SMTPServer

API_KEY = "tickets-api-key-5Rq8Lm2"


def test_no_secret_leaks_anywhere(tmp_path: Path, pagerduty: Sink, slack: Sink, webhook: Sink, smtp: SMTPServer,
                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="sloguard")
    slack_token = SLACK_PATH.rsplit("/", 1)[1]
    secrets = [PD_KEY, slack_token, f"{slack.url}{SLACK_PATH}", HMAC_SECRET, smtp.password, API_KEY]
    channels = {
        "oncall": pd_channel(pagerduty),
        "team": slack_channel(slack),
        "tickets": {"type": "webhook", "url": f"{webhook.url}/hooks/tickets", "secret": HMAC_SECRET,
                    "headers": {"X-Api-Key": API_KEY}},
        "mail": {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "username": smtp.username,
                 "password": smtp.password, "ca_file": str(smtp.cert), "sender": "sloguard@example.com",
                 "to": "sre@example.com"},
    }
    config = alerts_config(channels=channels, routes=[{"to": list(channels)}], resolve_after=1)
    reports = tmp_path / "reports"
    runs = Runs(config, reports / "alerts")
    leaky = alert(Rule.SECURITY_BREACH, summary=f"the platform echoed routing_key={PD_KEY} and {HMAC_SECRET}",
                  details=(f"GET /api/x → 200: body quotes {smtp.password} and {API_KEY}",
                           f"Location: {slack.url}{SLACK_PATH}"))
    printed: list[str] = []
    webhook.fail_next(3, 503)  # the first run spools the webhook's notification
    outputs = [runs.run(leaky), runs.run(leaky, dry_run=True, echo=printed.append), runs.run(leaky), runs.run()]
    outputs.append(flush(config, state_dir=reports / "alerts"))
    assert len(webhook.received) == 2 and len(pagerduty.received) == 2 and len(smtp.messages) == 2

    env = {**os.environ, "PD_KEY": PD_KEY, "SLACK_URL": f"{slack.url}{SLACK_PATH}", "HOOK_SECRET": HMAC_SECRET,
           "SMTP_PASSWORD": smtp.password}
    (tmp_path / "sloguard.yaml").write_text(f"""
alerts:
  channels:
    oncall: {{type: pagerduty, routing_key: "${{PD_KEY}}", events_url: "{pagerduty.url}/v2/enqueue"}}
    team: {{type: slack, webhook_url: "${{SLACK_URL}}"}}
    tickets: {{type: webhook, url: "{webhook.url}/nope", secret: "${{HOOK_SECRET}}"}}
    mail: {{type: email, smtp_host: 127.0.0.1, smtp_port: {smtp.port}, username: {smtp.username},
           password: "${{SMTP_PASSWORD}}", ca_file: "{smtp.cert}", sender: a@example.com, to: b@example.com}}
  retry: {{attempts: 1}}
reports: {{dir: reports}}
""")
    cli = [subprocess.run([sys.executable, "-m", "sloguard", "alerts", *args, "--config", "sloguard.yaml"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
           for args in (["test"], ["flush", "--json"])]
    assert cli[0].returncode == 0, cli[0].stdout + cli[0].stderr

    shown = [caplog.text, "\n".join(printed), *(o.line() for o in outputs), *(json.dumps(o.to_dict()) for o in outputs),
             *(c.stdout + c.stderr for c in cli)]
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert any("/spool/tickets/delivered/" in str(p) for p in files) and (reports / "alerts" / "state.json") in files
    shown += [p.read_text(encoding="utf-8", errors="replace") for p in files]
    # what each receiver got, minus the one place its own credential must be
    for request in pagerduty.received:
        event = request.json()
        assert event.pop("routing_key") == PD_KEY
        shown.append(json.dumps(event) + json.dumps(request.headers))
    for request in slack.received:
        assert request.path == SLACK_PATH  # the URL is Slack's credential; it is only ever the request line
        shown.append(request.body.decode() + json.dumps(request.headers))
    for request in webhook.received:  # the runs' (with the header) and `alerts test`'s (without)
        assert request.headers.pop("x-api-key", API_KEY) == API_KEY
        shown.append(request.body.decode() + json.dumps(request.headers))
    mails = [email.message_from_bytes(m.data, policy=policy.default) for m in smtp.messages]
    shown += [m.data.decode(errors="replace") for m in smtp.messages]  # raw, and decoded (the body may be
    shown += [f"{mail['Subject']}\n{mail.get_content()}" for mail in mails]  # quoted-printable or base64)

    assert "[REDACTED]" in "\n".join(printed)
    assert "the platform echoed routing_key=[REDACTED] and [REDACTED]" in mails[0].get_content()
    for text in shown:
        for secret in secrets:
            assert secret not in text, (secret, text[:300])
