"""Value types of `sloguard.yaml`: durations, cron schedules, severities, URLs and integration names."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from croniter import croniter
from pydantic import BeforeValidator, PlainSerializer

from sloguard.severity import Severity

REFERENCE_BASE_URL = "http://127.0.0.1:8400"
REFERENCE_REDIRECT_URI = "http://127.0.0.1:8765/callback"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}

# ---------------------------------------------------------------- value types


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float:
    """'90s', '5m', '1h30m', '2d' or a number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30s', '5m' or '2h'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.strip():
        text = value.strip().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION_PART.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ValueError(
                    f"'{value}' is not a duration: expected a number with a unit, such as '30s', '5m', "
                    "'2h', '1h30m' or '1d'"
                ) from None
            seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in parts)
    else:
        raise ValueError("expected a duration such as '30s', '5m' or '2h'")
    if seconds <= 0:
        raise ValueError("a duration must be greater than 0")
    return seconds


def validate_cron(value: Any) -> str:
    """A standard 5-field cron expression (minute hour day-of-month month day-of-week)."""
    if not isinstance(value, str):
        raise ValueError("expected a cron expression such as '0 3 * * *'")
    text = " ".join(value.split())
    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise ValueError(
            f"'{value}' is not a cron expression: expected 5 fields (minute hour day month weekday), "
            "such as '0 3 * * *' or '0 2 * * SUN'"
        )
    return text


Duration = Annotated[float, BeforeValidator(parse_duration)]
Cron = Annotated[str, BeforeValidator(validate_cron)]


@dataclass(frozen=True)
class Schedule:
    """Run every `every_s` seconds, or at the times of `cron`; `text` is what the file said."""

    text: str
    every_s: float | None = None
    cron: str | None = None


def _parse_schedule(value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    try:
        if isinstance(value, str) and len(value.split()) > 1:
            return Schedule(text=value, cron=validate_cron(value))
        return Schedule(text=str(value), every_s=parse_duration(value))
    except ValueError:
        raise ValueError(
            f"'{value}' is not a schedule: expected an interval such as '15m' or '1h', or a 5-field "
            "cron expression such as '0 3 * * *'"
        ) from None


ScheduleValue = Annotated[
    Schedule, BeforeValidator(_parse_schedule), PlainSerializer(lambda s: s.text, return_type=str)
]


def _parse_severity(value: Any) -> Any:
    # 'P1' or 'p1'; anything else fails with Severity.parse's one line (use one of P0, P1, P2, P3).
    return Severity.parse(value) if isinstance(value, str) else value


SeverityValue = Annotated[
    Severity, BeforeValidator(_parse_severity), PlainSerializer(str, return_type=str)
]


def as_list(value: Any) -> Any:
    return [value] if isinstance(value, str | int) and not isinstance(value, bool) else value


def as_pair(value: Any) -> Any:
    return [value, value] if isinstance(value, int | float) and not isinstance(value, bool) else value


def http_url(value: str, what: str = "URL") -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http:// or https:// {what}")
    return value


def is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def integration_key(name: str) -> str:
    """One spelling for an integration: 'Microsoft Teams', 'microsoft_teams' → 'microsoft-teams'."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
