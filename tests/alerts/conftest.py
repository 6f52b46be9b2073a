"""Fixtures for the alert tests: receivers on loopback and helpers to play runs through `notify`."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sloguard.alerts.model import Alert
from sloguard.config.alerts import AlertsConfig
from sloguard.redact import clear_secrets
from sloguard.severity import Rule
from tests.conftest import REPO, require_binary

from .receivers import Alertmanager, Sink, SMTPServer, pagerduty_ok, pagerduty_validator, slack_validator

TARGET = "http://127.0.0.1:18400"
# Secrets of the channels (each long enough to be registered for redaction).
PD_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters, like a PagerDuty integration key
SLACK_PATH = "/services/T0SLOGUARD/B0ALERTS/sl4ckW3bh00kS3cr3t"
HMAC_SECRET = "whsec-9f8e7d6c5b4a39281706"
FAST_RETRY = {"attempts": 3, "backoff_s": 0.01, "max_backoff_s": 0.05}


def recipe() -> Callable[..., bool]:
    """The signature check exactly as docs/alerts.md prints it (so the documented recipe is tested)."""
    text = (REPO / "docs" / "alerts.md").read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?def verify_signature.*?)```", text, re.S)
    assert block, "docs/alerts.md must show the verify_signature recipe in a ```python block"
    namespace: dict[str, Any] = {}
    exec(block.group(1), namespace)
    check: Callable[..., bool] = namespace["verify_signature"]
    return check


def webhook_validator(secret: str) -> Callable[[Any], tuple[int, str] | None]:
    verify = recipe()

    def check(request: Any) -> tuple[int, str] | None:
        ok = verify(secret, request.body, request.headers.get("x-sloguard-timestamp", ""),
                    request.headers.get("x-sloguard-signature", ""))
        return None if ok else (401, "bad signature")

    return check


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    yield
    clear_secrets()


@pytest.fixture
def pagerduty() -> Iterator[Sink]:
    sink = Sink(validate=pagerduty_validator(PD_KEY), ok_status=202, ok_body=pagerduty_ok)
    yield sink
    sink.stop()


@pytest.fixture
def slack() -> Iterator[Sink]:
    sink = Sink(validate=slack_validator(SLACK_PATH))
    yield sink
    sink.stop()


@pytest.fixture
def webhook() -> Iterator[Sink]:
    sink = Sink(validate=webhook_validator(HMAC_SECRET), ok_body='{"received": true}')
    yield sink
    sink.stop()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    binary = require_binary("prometheus-alertmanager", "prometheus-alertmanager")
    running = Alertmanager(binary, tmp_path / "alertmanager").start()
    yield running
    running.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SMTPServer]:
    server = SMTPServer(tmp_path / "smtp")
    server.workdir.mkdir()
    server.start()
    yield server
    server.stop()


def alerts_config(**sections: Any) -> AlertsConfig:
    data: dict[str, Any] = {"retry": FAST_RETRY, **sections}
    return AlertsConfig.model_validate(data)


def pd_channel(sink: Sink) -> dict[str, Any]:
    return {"type": "pagerduty", "routing_key": PD_KEY, "events_url": f"{sink.url}/v2/enqueue"}


def slack_channel(sink: Sink) -> dict[str, Any]:
    return {"type": "slack", "webhook_url": f"{sink.url}{SLACK_PATH}"}


def webhook_channel(sink: Sink) -> dict[str, Any]:
    return {"type": "webhook", "url": f"{sink.url}/hooks/tickets", "secret": HMAC_SECRET}


def alert(rule: Rule | str, scope: str = "platform", *, run: int = 1, summary: str | None = None,
          **fields: Any) -> Alert:
    rule = Rule.parse(rule)
    return Alert(rule=rule, scope=scope, summary=summary or f"{rule.description} ({scope})", target=TARGET,
                 run_id=f"run-{run}", suite=fields.pop("suite", "synthetics"), **fields)


class Runs:
    """Plays successive runs through `notify` with a clock one hour apart per run."""

    def __init__(self, config: AlertsConfig, state_dir: Path, start: datetime | None = None) -> None:
        self.config = config
        self.state_dir = state_dir
        self.now = start or datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        self.count = 0

    def run(self, *alerts: Alert, step: timedelta = timedelta(hours=1), **kwargs: Any) -> Any:
        from sloguard.alerts.notify import notify

        self.count += 1
        self.now += step
        kwargs.setdefault("report_url", "http://127.0.0.1:18080/report/")
        return notify(list(alerts), self.config, state_dir=self.state_dir, run_id=f"run-{self.count}",
                      now=self.now, target=TARGET, suite="synthetics", **kwargs)
