"""The Alertmanager channel against the real thing: Debian's prometheus-alertmanager on loopback."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sloguard.alerts.notify import flush
from sloguard.severity import Rule

from .conftest import TARGET, Runs, alert, alerts_config
from .receivers import Alertmanager, wait_for

RUNBOOK = "http://127.0.0.1:18080/runbooks/integrations"


def held(am: Alertmanager, alertname: str) -> list[dict]:
    return [a for a in am.alerts() if a["labels"].get("alertname") == alertname]


def test_firing_alerts_are_posted_with_labels_and_annotations_resent_and_resolved(
    tmp_path: Path, alertmanager: Alertmanager
) -> None:
    config = alerts_config(channels={"am": {"type": "alertmanager", "url": alertmanager.url,
                                            "labels": {"team": "platform"}}},
                           routes=[{"to": "am"}], runbooks={"default": RUNBOOK})
    runs = Runs(config, tmp_path / "alerts", start=datetime.now(UTC) - timedelta(hours=1, minutes=10))
    stripe = alert(Rule.INTEGRATION_DEGRADED, "integration:stripe", integration="stripe",
                   summary="stripe: 4 failures, first: GET /api/stripe/charges → 503", check_ids=("stripe-charges",))

    first = runs.run(stripe)
    assert first.held == 1 and not alertmanager.alerts(), "flap suppression holds a P1 for one run"
    second = runs.run(stripe, step=timedelta(minutes=1))
    assert second.new == 1 and second.channels["am"].sent
    [got] = held(alertmanager, "INTEGRATION_DEGRADED")
    assert got["labels"] == {"alertname": "INTEGRATION_DEGRADED", "severity": "P1", "scope": "integration:stripe",
                             "integration": "stripe", "suite": "synthetics", "target": TARGET,
                             "source": "sloguard", "team": "platform"}
    annotations = got["annotations"]
    assert annotations["summary"].startswith("stripe: 4 failures")
    assert annotations["runbook_url"] == RUNBOOK
    assert annotations["report_url"] == "http://127.0.0.1:18080/report/#stripe-charges"
    assert annotations["respond_within"] == "2 h" and annotations["resolve_within"] == "4 h"
    assert got["status"]["state"] == "active"
    assert datetime.fromisoformat(got["endsAt"]) > datetime.now(UTC) + timedelta(hours=2)
    updated = got["updatedAt"]

    # still firing: re-sent every run (Alertmanager expects repeats), one alert in Alertmanager
    third = runs.run(stripe, step=timedelta(minutes=1))
    assert third.channels["am"].repeats == 1 and not third.channels["am"].sent
    [again] = held(alertmanager, "INTEGRATION_DEGRADED")
    assert again["fingerprint"] == got["fingerprint"] and again["updatedAt"] > updated

    # recovery: after resolve_after (2) passing runs it is resolved with endsAt, and leaves the active list
    runs.run(step=timedelta(minutes=1))
    assert held(alertmanager, "INTEGRATION_DEGRADED"), "one passing run does not resolve"
    resolved = runs.run(step=timedelta(minutes=1))
    assert resolved.resolved == 1 and resolved.channels["am"].sent == [
        "resolve P1 INTEGRATION_DEGRADED integration:stripe"]
    assert wait_for(lambda: not held(alertmanager, "INTEGRATION_DEGRADED"))


def test_alertmanager_down_then_back_gets_the_spooled_trigger(tmp_path: Path, alertmanager: Alertmanager) -> None:
    config = alerts_config(channels={"am": {"type": "alertmanager", "url": alertmanager.url}}, routes=[{"to": "am"}])
    runs = Runs(config, tmp_path / "alerts", start=datetime.now(UTC) - timedelta(minutes=30))
    alertmanager.stop()
    down = runs.run(alert(Rule.PLATFORM_DOWN), step=timedelta(minutes=1))
    assert down.channels["am"].waiting == 1 and "cannot connect" in (down.channels["am"].error or "")
    alertmanager.start()  # a new process on a new port: the config follows it, as an operator's would
    config = alerts_config(channels={"am": {"type": "alertmanager", "url": alertmanager.url}}, routes=[{"to": "am"}])
    report = flush(config, state_dir=tmp_path / "alerts")
    assert report.ok and report.sent == 1
    assert [a["labels"]["alertname"] for a in alertmanager.alerts()] == ["PLATFORM_DOWN"]


def test_alerts_test_command_reaches_alertmanager(tmp_path: Path, alertmanager: Alertmanager) -> None:
    (tmp_path / "sloguard.yaml").write_text(
        f"alerts:\n  channels:\n    am: {{type: alertmanager, url: '{alertmanager.url}'}}\n"
        f"  retry: {{attempts: 1}}\n")
    done = subprocess.run([sys.executable, "-m", "sloguard", "alerts", "test", "--config", "sloguard.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "ok    am  alertmanager (127.0.0.1)" in done.stdout and "1 of 1 channel(s) answered" in done.stdout
    [test_alert] = held(alertmanager, "SloguardTest")
    assert test_alert["labels"]["severity"] == "P3"
    ends = datetime.fromisoformat(test_alert["endsAt"])
    assert ends < datetime.now(UTC) + timedelta(minutes=6), "a test alert expires by itself"
