"""`sloguard check` runs deliver their alerts: a breach on the real reference platform reaches PagerDuty
and Slack sinks once across three failing runs and resolves after the platform recovers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.synthetics.test_suite_against_faults import run_suite

from .conftest import PD_KEY, SLACK_PATH
from .receivers import Sink

pytestmark = pytest.mark.slow


def admin_token(base_url: str) -> str:
    answer = httpx.post(f"{base_url}/api/auth/token", auth=("sloguard-admin", "sloguard-admin-secret"),
                        data={"grant_type": "client_credentials", "scope": "admin"})
    return str(answer.json()["access_token"])


def config(pagerduty: Sink, slack: Sink) -> str:
    return f"""
target:
  environment: reference
alerts:
  fire_after: 2
  resolve_after: 2
  retry: {{attempts: 2, backoff_s: 0.01, max_backoff_s: 0.05}}
  channels:
    oncall: {{type: pagerduty, routing_key: "{PD_KEY}", events_url: "{pagerduty.url}/v2/enqueue"}}
    team: {{type: slack, webhook_url: "{slack.url}{SLACK_PATH}"}}
  routes:
    - {{severity: [P0], to: [oncall, team]}}
    - {{severity: [P1], to: [team]}}
"""


def test_a_breach_pages_once_across_runs_and_resolves_after_recovery(
    platform_factory, tmp_path: Path, pagerduty: Sink, slack: Sink
) -> None:
    faulty = platform_factory("open_endpoint=github_list_issues")
    args = ("--target", faulty.base_url, "-k", "github and issues and auth")
    for _ in range(3):
        run = run_suite(tmp_path, *args, config=config(pagerduty, slack))
        assert run.code == 1, run.err[-2000:]
        assert "alerts: " in run.out, run.out[-1500:]
    triggers = [r.json() for r in pagerduty.received if r.json()["event_action"] == "trigger"]
    assert len(triggers) == 1, [t["payload"]["summary"] for t in triggers]
    assert triggers[0]["payload"]["severity"] == "critical" and "SECURITY_BREACH" in json.dumps(triggers[0])
    assert len(slack.received) == 1
    token = admin_token(faulty.base_url)
    cleared = httpx.delete(f"{faulty.base_url}/api/admin/faults/open_endpoint",
                           headers={"Authorization": f"Bearer {token}"})
    assert cleared.status_code in (200, 204), cleared.text
    for expected_resolves in (0, 1):  # resolve_after: 2 passing runs
        run = run_suite(tmp_path, *args, config=config(pagerduty, slack))
        assert run.code == 0, run.failed()
        resolves = [r.json() for r in pagerduty.received if r.json()["event_action"] == "resolve"]
        assert len(resolves) == expected_resolves
    assert resolves[0]["dedup_key"] == triggers[0]["dedup_key"]
    text = "\n".join(p.read_text(errors="replace") for p in (tmp_path / "reports").rglob("*") if p.is_file())
    assert PD_KEY not in text and SLACK_PATH not in text


def test_dry_run_sends_nothing_and_a_broken_channel_stops_the_run_first(
    platform, tmp_path: Path, pagerduty: Sink, slack: Sink
) -> None:
    faulty_config = config(pagerduty, slack)
    run = run_suite(tmp_path / "dry", "--target", platform.base_url, "-k", "reachable", "--dry-run",
                    config=faulty_config)
    assert run.code == 0 and not pagerduty.received and not slack.received
    broken = faulty_config.replace(f'"{PD_KEY}"', '"has spaces in it"')
    run = run_suite(tmp_path / "broken", "--target", platform.base_url, config=broken)
    assert run.code == 2 and "routing_key" in run.err and "Traceback" not in run.err
    assert not (tmp_path / "broken" / "reports" / "summary.json").exists()  # nothing ran
