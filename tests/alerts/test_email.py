"""The email channel against a real SMTP server (aiosmtpd) that requires STARTTLS before AUTH."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import pytest

from sloguard.alerts.notify import notify
from sloguard.severity import Rule

from .conftest import Runs, alert, alerts_config
from .receivers import SMTPServer


def mail_channel(server: SMTPServer, **extra: Any) -> dict[str, Any]:
    return {"type": "email", "smtp_host": "127.0.0.1", "smtp_port": server.port, "username": server.username,
            "password": server.password, "ca_file": str(server.cert), "sender": "sloguard@example.com",
            "to": ["sre@example.com", "oncall@example.com"], **extra}


def test_p2_and_p3_go_out_as_one_digest_over_starttls_with_login(tmp_path: Path, smtp: SMTPServer) -> None:
    config = alerts_config(channels={"mail": mail_channel(smtp)}, routes=[{"severity": ["P2", "P3"], "to": "mail"}],
                           fire_after=1, runbooks={"TLS_EXPIRY": "http://127.0.0.1:18080/runbooks/tls"})
    runs = Runs(config, tmp_path / "alerts")
    report = runs.run(alert(Rule.TLS_EXPIRY, summary="certificate expires in 12 days"),
                      alert(Rule.COSMETIC_CONTRACT, "integration:jira", integration="jira"),
                      alert(Rule.PLATFORM_DOWN))  # P0: not routed to email
    assert report.ok and report.channels["mail"].sent == ["trigger P2 TLS_EXPIRY platform",
                                                          "trigger P3 COSMETIC_CONTRACT integration:jira"]
    [mail] = smtp.messages
    assert mail.tls and mail.login == smtp.username, "the password went only over TLS, and it was accepted"
    assert mail.sender == "sloguard@example.com" and mail.recipients == ["sre@example.com", "oncall@example.com"]
    message = email.message_from_bytes(mail.data, policy=policy.default)
    assert message["Subject"] == "[sloguard] 2 alerts (firing 2; most severe P2)"
    body = message.get_content()
    assert body.index("P2 TLS_EXPIRY firing") < body.index("P3 COSMETIC_CONTRACT firing")
    assert "respond within 8 h, resolve within 24 h" in body and "respond within 24 h, resolve within 1 week" in body
    assert "runbook: http://127.0.0.1:18080/runbooks/tls" in body
    assert smtp.password not in mail.data.decode()

    one_each = alerts_config(channels={"mail": mail_channel(smtp, digest=False)}, routes=[{"to": "mail"}],
                             fire_after=1)
    Runs(one_each, tmp_path / "one").run(alert(Rule.TLS_EXPIRY), alert(Rule.NEW_VERSION))
    subjects = [email.message_from_bytes(m.data, policy=policy.default)["Subject"].strip() for m in smtp.messages[1:]]
    assert subjects == ["[sloguard] P2 TLS_EXPIRY firing: the TLS certificate expires within 30 days (platform)",
                        "[sloguard] P2 NEW_VERSION firing: a new platform version was seen (platform)"]


def test_a_wrong_password_is_refused_once_and_set_aside(tmp_path: Path, smtp: SMTPServer,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    wrong = mail_channel(smtp, password="not-the-password-1")
    config = alerts_config(channels={"mail": wrong}, routes=[{"to": "mail"}], fire_after=1)
    report = Runs(config, tmp_path / "alerts").run(alert(Rule.TLS_EXPIRY))
    assert not report.ok and not smtp.messages
    # smtplib offers AUTH PLAIN then AUTH LOGIN in one session; a retry would make it four
    assert smtp.logins == [(smtp.username, False)] * 2, "a refused login is not retried"
    assert len(report.channels["mail"].rejected) == 1
    assert "SMTP login refused (535)" in report.channels["mail"].rejected[0]
    assert "not-the-password-1" not in caplog.text + report.line()


def test_an_untrusted_certificate_is_not_sent_a_password(tmp_path: Path, smtp: SMTPServer) -> None:
    untrusted = mail_channel(smtp)
    untrusted.pop("ca_file")
    config = alerts_config(channels={"mail": untrusted}, routes=[{"to": "mail"}], fire_after=1)
    report = notify([alert(Rule.TLS_EXPIRY)], config, state_dir=tmp_path / "alerts", run_id="r1")
    assert "TLS certificate not trusted" in report.channels["mail"].rejected[0]
    assert not smtp.logins and not smtp.messages
