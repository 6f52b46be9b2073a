"""Alerts end to end through `notify`, against HTTP receivers that validate what they are sent.

Each test plays successive runs (the firing alerts a run produced) through the same entry point the
engine calls, with state and spool in a temporary reports folder.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from sloguard.alerts.notify import flush, notify
from sloguard.alerts.spool import Spool
from sloguard.errors import UsageError
from sloguard.severity import Rule, Severity

from .conftest import (
    HMAC_SECRET,
    PD_KEY,
    TARGET,
    Runs,
    alert,
    alerts_config,
    pd_channel,
    recipe,
    slack_channel,
    webhook_channel,
)
from .receivers import Sink

RUNBOOK = "http://127.0.0.1:18080/runbooks/platform-down"


def pd_events(sink: Sink, action: str | None = None) -> list[dict]:
    events = [r.json() for r in sink.received]
    return [e for e in events if action is None or e["event_action"] == action]


def test_p0_reaches_pagerduty_and_slack_once_across_three_failing_runs_then_resolves(
    tmp_path: Path, pagerduty: Sink, slack: Sink
) -> None:
    config = alerts_config(
        channels={"oncall": pd_channel(pagerduty), "team": slack_channel(slack)},
        routes=[{"severity": ["P0"], "to": ["oncall", "team"]}],
        runbooks={"PLATFORM_DOWN": RUNBOOK, "default": "http://127.0.0.1:18080/runbooks/"},
    )
    runs = Runs(config, tmp_path / "alerts")
    down = alert(Rule.PLATFORM_DOWN, summary="GET /health → connection refused", check_ids=("platform-health",))
    reports = [runs.run(down) for _ in range(3)]

    assert [r.new for r in reports] == [1, 0, 0] and [r.firing for r in reports] == [0, 1, 1]
    triggers = pd_events(pagerduty, "trigger")
    assert len(triggers) == 1 and len(pagerduty.attempts) == 1, "PagerDuty must be paged exactly once"
    assert len(slack.received) == 1 and len(slack.attempts) == 1
    event = triggers[0]
    assert event["dedup_key"] == down.fingerprint and len(event["dedup_key"]) <= 255
    assert event["payload"]["severity"] == "critical"
    assert event["payload"]["summary"].startswith("P0 PLATFORM_DOWN firing: GET /health")
    assert event["payload"]["source"] == "127.0.0.1:18400"
    assert event["payload"]["custom_details"]["respond_within"] == "immediately"
    assert event["payload"]["custom_details"]["resolve_within"] == "1 h"
    links = {link["text"]: link["href"] for link in event["links"]}
    assert links["Runbook"] == RUNBOOK
    assert links["Failing result in the sloguard report"] == "http://127.0.0.1:18080/report/#platform-health"
    message = slack.received[0].json()
    text = json.dumps(message)
    assert message["blocks"][0]["text"]["text"] == "P0 PLATFORM_DOWN firing"
    for expected in ("*Respond within*\\nimmediately", "*Resolve within*\\n1 h", RUNBOOK,
                     "http://127.0.0.1:18080/report/#platform-health", "connection refused"):
        assert expected in text, expected
    assert "one trigger" not in reports[0].line() and "sent 2 (oncall 1, team 1)" in reports[0].line()

    # recovery: resolve_after (2) passing runs
    first_pass = runs.run()
    assert first_pass.resolved == 0 and not pd_events(pagerduty, "resolve") and len(slack.received) == 1
    second_pass = runs.run()
    assert second_pass.resolved == 1
    resolves = pd_events(pagerduty, "resolve")
    assert resolves == [{"routing_key": PD_KEY, "event_action": "resolve", "dedup_key": down.fingerprint}]
    assert len(slack.received) == 2 and "resolved" in slack.received[1].json()["blocks"][0]["text"]["text"]
    # and nothing more once it is resolved
    runs.run()
    assert len(pagerduty.attempts) == 2 and len(slack.attempts) == 2


def test_flap_suppression_holds_a_p1_until_its_second_failing_run(tmp_path: Path, slack: Sink) -> None:
    routes = [{"severity": ["P1"], "to": ["team"]}]
    config = alerts_config(channels={"team": slack_channel(slack)}, routes=routes, repeat_after=None)
    runs = Runs(config, tmp_path / "alerts")
    slow = alert(Rule.INTEGRATION_DEGRADED, "integration:stripe", integration="stripe")

    first = runs.run(slow)
    assert first.held == 1 and first.new == 0 and not slack.attempts, "one failing run must not alert"
    second = runs.run(slow)
    assert second.new == 1 and len(slack.received) == 1
    assert "P1 INTEGRATION_DEGRADED firing" in slack.received[0].json()["text"]
    assert "*Respond within*\\n2 h" in json.dumps(slack.received[0].json())

    # a flapping P1 (fail, pass, fail, pass) never alerts
    flappy = alert(Rule.SLOW_OPERATION, "integration:jira", integration="jira")
    for _ in range(3):
        runs.run(slow, flappy)
        runs.run(slow)
    assert len(slack.received) == 1

    # the suppression is the config's: fire_after 1 alerts on the first failing run
    eager = alerts_config(channels={"team": slack_channel(slack)}, routes=routes, fire_after=1)
    Runs(eager, tmp_path / "eager").run(flappy)
    assert len(slack.received) == 2


def test_a_channel_down_for_a_while_gets_every_notification_in_order_once(
    tmp_path: Path, webhook: Sink, slack: Sink
) -> None:
    config = alerts_config(
        channels={"tickets": webhook_channel(webhook), "team": slack_channel(slack)},
        routes=[{"to": ["tickets", "team"]}], resolve_after=1, repeat_after=None,
    )
    runs = Runs(config, tmp_path / "alerts")
    a = alert(Rule.PLATFORM_DOWN)
    b = alert(Rule.DATA_LOSS, "check:sync-jira-slack", check_ids=("sync-jira-slack",))
    webhook.fail_next(1000, 503)

    one = runs.run(a)
    assert one.channels["tickets"].error == "HTTP 503: service unavailable"
    assert one.channels["tickets"].waiting == 1 and len(webhook.attempts) == 3  # retried with backoff
    assert "1 waiting in the spool (tickets: HTTP 503" in one.line()
    runs.run(a, b)  # b is new; a is still queued ahead of it
    three = runs.run(b)  # a resolves (resolve_after 1) while the webhook is still down
    assert three.channels["tickets"].waiting == 3 and not webhook.received
    assert len(slack.received) == 3, "a channel that is down must not hold up the others"
    assert len(webhook.attempts) == 9, "each run tries the head of the queue only (3 attempts)"

    webhook.recover()
    four = runs.run(b)
    got = [(r.json()["kind"], r.json()["rule"]) for r in webhook.received]
    assert got == [("trigger", "PLATFORM_DOWN"), ("trigger", "DATA_LOSS"), ("resolve", "PLATFORM_DOWN")]
    assert four.channels["tickets"].waiting == 0 and four.ok
    ids = [r.headers["x-sloguard-delivery"] for r in webhook.received]
    assert len(set(ids)) == 3
    for _ in range(2):
        runs.run(b)
    assert len(webhook.received) == 3, "nothing is delivered twice"
    assert not list((tmp_path / "alerts" / "spool" / "tickets" / "queue").iterdir())


def test_flush_delivers_the_spool_without_a_run(tmp_path: Path, webhook: Sink) -> None:
    config = alerts_config(channels={"tickets": webhook_channel(webhook)}, routes=[{"to": "tickets"}])
    runs = Runs(config, tmp_path / "alerts")
    webhook.fail_next(1000, 502)
    runs.run(alert(Rule.PLATFORM_DOWN))
    runs.run(alert(Rule.PLATFORM_DOWN), alert(Rule.AUTH_FAILURE))
    still = flush(config, state_dir=tmp_path / "alerts")
    assert still.waiting == 2 and not still.ok and "spool flushed" in still.line()
    webhook.recover()
    done = flush(config, state_dir=tmp_path / "alerts")
    assert done.waiting == 0 and done.sent == 2 and done.ok
    assert [r.json()["rule"] for r in webhook.received] == ["PLATFORM_DOWN", "AUTH_FAILURE"]
    runs.run(alert(Rule.PLATFORM_DOWN), alert(Rule.AUTH_FAILURE))
    assert len(webhook.received) == 2


def test_retries_back_off_exponentially_and_honour_retry_after(tmp_path: Path, slack: Sink) -> None:
    config = alerts_config(channels={"team": slack_channel(slack)}, routes=[{"to": "team"}],
                           retry={"attempts": 4, "backoff_s": 0.05, "max_backoff_s": 2})
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the real wait, recorded
        waits.append(seconds)
        time.sleep(seconds)

    slack.fail_next(2, 503)
    report = notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=tmp_path / "a", run_id="r1", sleep=sleep)
    assert report.ok and len(slack.received) == 1 and len(slack.attempts) == 3
    assert waits == [0.05, 0.1]
    waits.clear()
    slack.fail_next(1, 429, retry_after="1")
    report = notify([alert(Rule.PLATFORM_DOWN, "integration:x")], config, state_dir=tmp_path / "b", run_id="r1",
                    sleep=sleep)
    assert report.ok and waits == [1.0], "Retry-After asks for longer than the backoff"


def test_the_webhook_signature_verifies_with_the_documented_recipe(tmp_path: Path, webhook: Sink) -> None:
    config = alerts_config(channels={"tickets": webhook_channel(webhook)}, routes=[{"to": "tickets"}], fire_after=1)
    Runs(config, tmp_path / "alerts").run(alert(Rule.TLS_EXPIRY, summary="certificate expires in 12 days"))
    assert len(webhook.received) == 1 and not webhook.refused  # the sink checks every request with the recipe
    request = webhook.received[0]
    stamp, signature = request.headers["x-sloguard-timestamp"], request.headers["x-sloguard-signature"]
    verify = recipe()
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(HMAC_SECRET, request.body, stamp, signature)
    assert not verify(HMAC_SECRET, request.body.replace(b"12 days", b"99 days"), stamp, signature)
    assert not verify("another-secret-value", request.body, stamp, signature)
    assert not verify(HMAC_SECRET, request.body, str(int(stamp) + 1), signature), "the timestamp is signed"
    assert not verify(HMAC_SECRET, request.body, str(int(time.time()) - 3600), signature)
    body = request.json()
    assert body["version"] == 1 and body["kind"] == "trigger" and body["severity"] == "P2"
    assert body["response_target"] == "8 h" and body["resolution_target"] == "24 h"
    assert request.headers["x-sloguard-delivery"] == body["id"]


def test_the_shell_recipe_gives_the_same_signature(tmp_path: Path, webhook: Sink) -> None:
    import re
    import subprocess

    from tests.conftest import REPO, require_binary

    require_binary("openssl", "openssl")
    config = alerts_config(channels={"tickets": webhook_channel(webhook)}, routes=[{"to": "tickets"}])
    Runs(config, tmp_path / "alerts").run(alert(Rule.PLATFORM_DOWN))
    request = webhook.received[0]
    (tmp_path / "body.json").write_bytes(request.body)
    doc = (REPO / "docs" / "alerts.md").read_text()
    line = re.search(r"```sh\n(.*openssl dgst.*)\n```", doc)
    assert line
    out = subprocess.run(["bash", "-c", line.group(1)], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={"TIMESTAMP": request.headers["x-sloguard-timestamp"], "SECRET": HMAC_SECRET,
                              "PATH": "/usr/bin:/bin"})
    assert "sha256=" + out.stdout.strip() == request.headers["x-sloguard-signature"]


def test_a_refused_notification_is_set_aside_not_dropped_and_can_be_retried(
    tmp_path: Path, pagerduty: Sink
) -> None:
    wrong = {**pd_channel(pagerduty), "routing_key": "WRONGKEY0123456789abcdefABCDEF01"}
    config = alerts_config(channels={"oncall": wrong}, routes=[{"to": "oncall"}])
    runs = Runs(config, tmp_path / "alerts")
    report = runs.run(alert(Rule.PLATFORM_DOWN))
    assert not report.ok and len(pagerduty.attempts) == 1, "a 400 is not retried"
    assert report.channels["oncall"].rejected and "Invalid routing key" in report.channels["oncall"].rejected[0]
    assert "1 refused by the receiver and set aside" in report.line()
    spool = Spool(tmp_path / "alerts" / "spool", "oncall")
    assert len(spool.rejected_entries()) == 1 and len(spool) == 0
    fixed = alerts_config(channels={"oncall": pd_channel(pagerduty)}, routes=[{"to": "oncall"}])
    again = flush(fixed, state_dir=tmp_path / "alerts", retry_rejected=True)
    assert again.ok and again.sent == 1 and pd_events(pagerduty, "trigger")
    assert not spool.rejected_entries()


def test_repeat_after_reminds_long_firing_alerts(tmp_path: Path, pagerduty: Sink, slack: Sink) -> None:
    config = alerts_config(channels={"oncall": pd_channel(pagerduty), "team": slack_channel(slack)},
                           routes=[{"to": ["oncall", "team"]}], repeat_after="3h")
    runs = Runs(config, tmp_path / "alerts")
    down = alert(Rule.PLATFORM_DOWN)
    for _ in range(7):  # hourly runs: trigger at 1, reminders at 4 and 7
        runs.run(down)
    kinds = [json.loads(r.body)["text"].split(":")[0] for r in slack.received]
    assert kinds == ["P0 PLATFORM_DOWN firing", "P0 PLATFORM_DOWN still firing", "P0 PLATFORM_DOWN still firing"]
    assert {e["dedup_key"] for e in pd_events(pagerduty)} == {down.fingerprint}  # one incident
    quiet = alerts_config(channels={"team": slack_channel(slack)}, routes=[{"to": "team"}], repeat_after=None)
    runs = Runs(quiet, tmp_path / "quiet")
    for _ in range(7):
        runs.run(down, step=timedelta(hours=5))
    assert len(slack.received) == 4


def test_routes_by_labels_and_escalation_reaches_the_new_channel(
    tmp_path: Path, pagerduty: Sink, slack: Sink, webhook: Sink
) -> None:
    config = alerts_config(
        channels={"oncall": pd_channel(pagerduty), "team": slack_channel(slack), "payments": webhook_channel(webhook)},
        routes=[{"severity": "P0", "to": "oncall"}, {"severity": ["P0", "P1"], "to": "team"},
                {"match": {"integration": "stripe*", "suite": "synthetics"}, "to": "payments"}],
        fire_after=1,
    )
    runs = Runs(config, tmp_path / "alerts")
    jira = alert(Rule.INTEGRATION_DEGRADED, "integration:jira", integration="jira")
    stripe = alert(Rule.INTEGRATION_DEGRADED, "integration:stripe", integration="stripe")
    runs.run(jira, stripe)
    assert len(slack.received) == 2 and not pagerduty.received
    assert [r.json()["integration"] for r in webhook.received] == ["stripe"]
    # the same condition, now P0: PagerDuty gets its trigger; Slack and the webhook are not told twice
    runs.run(jira, alert(Rule.INTEGRATION_DEGRADED, "integration:stripe", integration="stripe",
                         severity=Severity.P0))
    assert [e["payload"]["severity"] for e in pd_events(pagerduty)] == ["critical"]
    assert len(slack.received) == 2 and len(webhook.received) == 1


def test_a_run_of_another_suite_or_target_does_not_resolve(tmp_path: Path, slack: Sink) -> None:
    config = alerts_config(channels={"team": slack_channel(slack)}, routes=[{"to": "team"}], resolve_after=1)
    state = tmp_path / "alerts"
    down = alert(Rule.PLATFORM_DOWN)
    notify([down], config, state_dir=state, run_id="r1", target=TARGET, suite="synthetics")
    notify([], config, state_dir=state, run_id="r2", target=TARGET, suite="load")
    notify([], config, state_dir=state, run_id="r3", target="http://127.0.0.1:9999", suite="synthetics")
    assert len(slack.received) == 1
    notify([], config, state_dir=state, run_id="r4", target=TARGET, suite="all")
    assert len(slack.received) == 2 and "resolved" in slack.received[1].json()["text"]


def test_dry_run_prints_redacted_payloads_and_changes_nothing(
    tmp_path: Path, pagerduty: Sink, slack: Sink, webhook: Sink
) -> None:
    config = alerts_config(channels={"oncall": pd_channel(pagerduty), "team": slack_channel(slack),
                                     "tickets": webhook_channel(webhook)},
                           routes=[{"to": ["oncall", "team", "tickets"]}])
    state = tmp_path / "alerts"
    lines: list[str] = []
    report = notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=state, run_id="r1", dry_run=True,
                    echo=lines.append)
    out = "\n".join(lines)
    assert report.dry_run and report.new == 1 and not state.exists()
    assert not pagerduty.attempts and not slack.attempts and not webhook.attempts
    assert '"event_action": "trigger"' in out and '"routing_key": "[REDACTED]"' in out
    assert "P0 PLATFORM_DOWN firing" in out and "would send: oncall new, team new, tickets new" in out
    for secret in (PD_KEY, "sl4ckW3bh00kS3cr3t", HMAC_SECRET):
        assert secret not in out
    # with real state: dry run shows the resolve it would send and still writes nothing
    Runs(config, state).run(alert(Rule.PLATFORM_DOWN))
    before = sorted(p.relative_to(state) for p in state.rglob("*"))
    stamp = (state / "state.json").stat().st_mtime_ns
    for _ in range(3):
        notify([], config, state_dir=state, run_id="r9", dry_run=True, echo=lines.append)
    assert sorted(p.relative_to(state) for p in state.rglob("*")) == before
    assert (state / "state.json").stat().st_mtime_ns == stamp


def test_a_broken_channel_is_an_error_before_anything_is_sent(tmp_path: Path, slack: Sink) -> None:
    config = alerts_config(channels={"team": slack_channel(slack),
                                     "mail": {"type": "email", "smtp_host": "127.0.0.1", "sender": "a@example.com",
                                              "to": "b@example.com", "ca_file": str(tmp_path / "missing.pem")}},
                           routes=[{"to": ["team", "mail"]}])
    with pytest.raises(UsageError, match=r"alerts.channels.mail \(email\): ca_file .*missing.pem not found"):
        notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=tmp_path / "alerts", run_id="r1")
    assert not slack.attempts and not (tmp_path / "alerts").exists()


def test_a_crashed_runs_outbox_is_delivered_once(tmp_path: Path, slack: Sink) -> None:
    from datetime import UTC, datetime

    from sloguard.alerts.state import AlertBook, evaluate

    config = alerts_config(channels={"team": slack_channel(slack)}, routes=[{"to": "team"}])
    state = tmp_path / "alerts"
    # what a run leaves when it stops right after saving its state with the outbox (step 1)
    ev = evaluate(AlertBook(), [alert(Rule.PLATFORM_DOWN)], config, run_id="r1", now=datetime.now(UTC),
                  repeating=set())
    ev.book.outbox = ev.outgoing
    ev.book.save(state / "state.json")
    report = notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=state, run_id="r2")
    assert len(slack.received) == 1 and report.firing == 1 and report.new == 0
    assert json.loads((state / "state.json").read_text())["outbox"] == []
    notify([alert(Rule.PLATFORM_DOWN)], config, state_dir=state, run_id="r3")
    assert len(slack.received) == 1
