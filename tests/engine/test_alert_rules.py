"""Alert rules: one root cause is one alert, scopes follow the rule, fingerprints are stable."""

from __future__ import annotations

from sloguard.alerts import Alert, AlertState, build_alerts, fingerprint, scope_for
from sloguard.results import CheckResult, Finding
from sloguard.severity import Rule, Severity
from sloguard.slo import SLOResult

TARGET = "https://atom.example.com/"


def failed(check_id: str, rule: Rule, *, integration: str | None = None, warning: bool = False,
           suite: str = "synthetics") -> CheckResult:
    status = "passed" if warning else "failed"
    return CheckResult(check_id, status, suite=suite, integration=integration,  # type: ignore[arg-type]
                       findings=(Finding(rule, f"{check_id} went wrong", warning=warning),))


def alerts(*results: CheckResult, slos: tuple[SLOResult, ...] = (), run_id: str = "r1") -> list[Alert]:
    return build_alerts(list(results), slos, target=TARGET, run_id=run_id, suite="synthetics")


def test_findings_of_one_integration_are_one_alert_listing_them() -> None:
    out = alerts(*(failed(f"slack {i}", Rule.INTEGRATION_DEGRADED, integration="slack") for i in range(20)),
                 failed("jira 1", Rule.INTEGRATION_DEGRADED, integration="jira"))
    assert [(a.scope, a.count) for a in out] == [("integration:slack", 20), ("integration:jira", 1)]
    slack = out[0]
    assert slack.summary.startswith("slack: 20 failures (INTEGRATION_DEGRADED), first: [slack] slack 0")
    assert len(slack.details) == 20 and len(slack.check_ids) == 20 and slack.integration == "slack"


def test_platform_rules_are_one_alert_whatever_the_integration() -> None:
    out = alerts(failed("a", Rule.AUTH_FAILURE, integration="auth"), failed("b", Rule.AUTH_FAILURE),
                 failed("c", Rule.PLATFORM_DOWN, integration="platform"))
    assert sorted((a.rule.name, a.scope, a.count) for a in out) == [
        ("AUTH_FAILURE", "platform", 2), ("PLATFORM_DOWN", "platform", 1)]
    assert scope_for(Rule.DATA_LOSS, failed("jira → slack", Rule.DATA_LOSS, integration="jira")) == (
        "check:jira → slack", "jira")


def test_most_severe_first_and_warnings_last() -> None:
    out = alerts(failed("near", Rule.RATE_LIMIT_NEAR, integration="zoom", warning=True),
                 failed("tls", Rule.TLS_EXPIRY), failed("open", Rule.SECURITY_BREACH, integration="github"))
    assert [(a.rule.name, a.warning) for a in out] == [
        ("SECURITY_BREACH", False), ("TLS_EXPIRY", False), ("RATE_LIMIT_NEAR", True)]


def test_missed_slos_are_alerts_of_their_own_scope() -> None:
    missed = SLOResult("error_rate", 0.01, 0.2, False, 100, scope="stripe")
    met = SLOResult("availability", 0.999, 1.0, True, 100)
    unknown = SLOResult("network_ms", 100, None, None, 0)
    (alert,) = alerts(slos=(missed, met, unknown))
    assert (alert.rule, alert.scope, alert.integration, alert.severity) == (
        Rule.SLO_MISSED, "slo:stripe:error_rate", "stripe", Severity.P1)


def test_fingerprints_are_stable_across_runs_and_messages_but_not_targets() -> None:
    first = alerts(failed("a", Rule.INTEGRATION_DEGRADED, integration="slack"), run_id="r1")[0]
    again = alerts(failed("b", Rule.INTEGRATION_DEGRADED, integration="slack"),
                   failed("c", Rule.INTEGRATION_DEGRADED, integration="slack"), run_id="r2")[0]
    assert first.fingerprint == again.fingerprint and first.run_id != again.run_id
    assert first.fingerprint == fingerprint("https://ATOM.example.com", Rule.INTEGRATION_DEGRADED, "integration:slack")
    staging = build_alerts([failed("a", Rule.INTEGRATION_DEGRADED, integration="slack")], target="https://staging",
                           run_id="r1")[0]
    assert staging.fingerprint != first.fingerprint
    other_rule = alerts(failed("a", Rule.SLOW_OPERATION, integration="slack"))[0]
    assert other_rule.fingerprint != first.fingerprint


def test_an_alert_resolves_and_round_trips() -> None:
    alert = alerts(failed("a", Rule.SECURITY_BREACH, integration="github"))[0]
    done = alert.resolve("r9")
    assert done.state is AlertState.RESOLVED and not done.firing and done.fingerprint == alert.fingerprint
    assert done.run_id == "r9" and done.ended_at is not None
    assert Alert.from_dict(done.to_dict()) == done
