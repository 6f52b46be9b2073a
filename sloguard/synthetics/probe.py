"""What one synthetic check is, and the recorder it runs with.

A :class:`CheckSpec` is known at collection time (it becomes one pytest item with a readable id).
A :class:`Probe` is the check's run: every exchange it made, every finding, how many attempts it
took. Retries live here, once, so that "passed only on retry" is always reported as flaky and
never silently green.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import email.utils
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sloguard.http import Answer
from sloguard.results import Exchange, Finding, Outcome, request_outcome
from sloguard.severity import Rule

if TYPE_CHECKING:
    from .context import RunContext

CheckKind = Literal["platform", "endpoint", "crud", "action", "security", "oauth", "health", "sync", "tls"]
# "default": the suite's token; None: no credentials; any other string: the Authorization header to send
Credential = Literal["default"] | str | None

STORIES: dict[str, str] = {
    "platform": "reachability",
    "endpoint": "endpoint sweep",
    "crud": "create → read → update → delete",
    "action": "side-effecting action",
    "security": "security probe",
    "oauth": "OAuth flow",
    "health": "integration health",
    "sync": "data sync",
    "tls": "TLS certificate",
}


@dataclass(frozen=True)
class CheckSpec:
    """One check, as pytest and Allure see it."""

    id: str
    kind: CheckKind
    integration: str
    group: str
    title: str
    rule: Rule  # what a failure of this check means (its severity)
    operation_id: str | None = None
    method: str | None = None
    path: str | None = None
    skip: str | None = None  # known before running: why it will not run

    @property
    def story(self) -> str:
        return STORIES[self.kind]


@dataclass(frozen=True)
class Sample:
    """A request that counts toward the SLOs, with how it counted."""

    exchange: Exchange
    outcome: Outcome


def retry_after_s(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())


def rate_limit_text(exchange: Exchange) -> str:
    """'rate limited (429): limit 100, 0 left, Retry-After 42 s' from the answer's headers."""
    headers = {k.lower(): v for k, v in exchange.response_headers.items()}
    parts = [f"{name} {headers[key]}" for name, key in (("limit", "x-ratelimit-limit"),
                                                         ("left", "x-ratelimit-remaining"),
                                                         ("Retry-After", "retry-after")) if key in headers]
    return "rate limited (429)" + (f": {', '.join(parts)}" + (" s" if "retry-after" in headers else "")
                                   if parts else "")


# The check whose task is running: the OAuth client's exchanges are attached to it.
current_probe: contextvars.ContextVar[Probe | None] = contextvars.ContextVar("sloguard_probe", default=None)


class TokenUnavailable(Exception):
    """The suite could not get an access token; checks that need one are skipped with the reason."""


@dataclass
class Probe:
    """The run of one check: exchanges, findings, attempts."""

    spec: CheckSpec
    ctx: RunContext = field(repr=False)
    exchanges: list[Exchange] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attempts: int = 0  # requests sent, all calls included
    retries: int = 0  # of those, repeats after a transient failure
    retried: bool = False
    skipped: str | None = None
    undecided: str | None = None  # ran, but the answers could not decide (inconclusive)
    errored: bool = False  # the check itself broke (a harness error, not a platform finding)
    slo: Mapping[str, Any] | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    samples: list[Sample] = field(default_factory=list)  # requests that count toward the SLOs
    throttled: Exchange | None = None  # the last 429 answer, if any
    network_samples: list[float] = field(default_factory=list)  # connect (+ TLS) times, network check only

    # ---------------------------------------------------------------- outcome
    def fail(self, message: str, rule: Rule | None = None, *, latency_only: bool = False) -> None:
        self.findings.append(Finding(rule or self.spec.rule, message, latency_only=latency_only))

    def warn(self, message: str, rule: Rule) -> None:
        self.findings.append(Finding(rule, message, warning=True))

    def skip(self, reason: str) -> None:
        self.skipped = reason

    def inconclusive(self, reason: str) -> None:
        """The check ran but what came back cannot decide it (a 503 or 429 to a probe)."""
        self.undecided = reason

    def harness_error(self, message: str) -> None:
        """The check could not run to a verdict: the suite's own failure, not the platform's."""
        self.errored = True
        self.findings.append(Finding(Rule.CHECK_ERROR, message))

    def note(self, text: str) -> None:
        self.notes.append(text)

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.warning]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.warning]

    @property
    def status(self) -> Literal["passed", "failed", "flaky", "skipped", "inconclusive", "error"]:
        if self.failures:
            return "error" if self.errored and all(f.rule is Rule.CHECK_ERROR for f in self.failures) else "failed"
        if self.skipped is not None:
            return "skipped"
        if self.undecided is not None:
            return "inconclusive"
        return "flaky" if self.retried else "passed"

    @property
    def rule(self) -> Rule | None:
        failures = self.failures
        if not failures:
            return None
        return min(failures, key=lambda f: f.severity.rank).rule

    # ---------------------------------------------------------------- requests
    async def credentials_for(self, auth: Credential) -> tuple[dict[str, str], dict[str, str]]:
        """(headers, query parameters) a request with ``auth`` carries."""
        if auth is None:
            return {}, {}
        if auth == "default":
            found = await self.ctx.auth_credentials()
            return dict(found.headers), dict(found.params)
        return {"Authorization": auth}, {}

    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: Collection[int],
        auth: Credential = "default",
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool = True,
        measure: bool = True,
    ) -> Answer | None:
        """One request, retried on a network error or an unexpected 5xx (``checks.retries`` times).

        An answer that only came right on a retry marks the check flaky. With ``measure``, every
        attempt counts toward the SLOs (a retried 5xx is an unavailable request, not forgiven).
        """
        try:
            auth_headers, auth_params = await self.credentials_for(auth)
            merged = {**auth_headers, **dict(headers or {})}
            if auth_params:  # an API key in the query string
                params = {**dict(params or {}), **auth_params}
        except TokenUnavailable as exc:  # "auth · login" carries the one finding; this check is skipped
            self.skip(str(exc))
            return None
        retries = self.ctx.retries if retry else 0
        response: Answer | None = None
        attempt = 0
        waited = False  # a 429's Retry-After is honoured once
        while True:
            async with self.ctx.limiter:
                response, exchange = await self.ctx.client.request(
                    method, self.ctx.url(path), headers=merged, params=params, json=json, data=data
                )
            self.attempts += 1
            self.exchanges.append(exchange)
            status = response.status_code if response is not None else None
            if measure:
                self.samples.append(Sample(exchange, request_outcome(status, expect)))
            if status == 429 and 429 not in expect and response is not None:
                self.throttled = exchange
                wait = retry_after_s(response.headers.get("retry-after"))
                if retry and not waited and wait is not None and wait <= self._patience():
                    waited = True
                    self.note(f"{method} {path}: rate limited (429), waited {wait:g} s (Retry-After) to try once more")
                    await asyncio.sleep(wait)
                    continue
                return response
            transient = status is None or (status >= 500 and status not in expect)
            if not transient:
                if attempt > 0:
                    self.retried = True
                    self.note(f"{method} {path} passed on attempt {attempt + 1}: {self.exchanges[-2].title()}")
                return response
            if attempt >= retries:
                return response
            attempt += 1
            self.retries += 1
            await asyncio.sleep(0.05 * attempt)

    def _patience(self) -> float:
        """How long a Retry-After may make this check wait: the check's budget, at most retry_after_max_s."""
        checks = self.ctx.config.checks
        left = checks.timeout_s - (time.time() - self.started)
        return max(0.0, min(checks.retry_after_max_s, left))

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None
