"""sloguard.yaml: defaults for the reference platform, env interpolation, one-line errors, redaction."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sloguard.config import ConfigError, load_config, parse_duration
from sloguard.errors import UsageError
from sloguard.redact import MASK, redact_text
from sloguard.severity import Severity

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

PRODUCTION_ENV = {
    "ATOM_BASE_URL": "https://atom.example.com",
    "ATOM_CLIENT_ID": "prod-client",
    "ATOM_CLIENT_SECRET": "prod-client-secret-1234",
    "ATOM_TEST_USER": "synthetic@example.com",
    "ATOM_TEST_PASSWORD": "user-password-5678",
    "ATOM_READONLY_CLIENT_ID": "prod-readonly",
    "ATOM_READONLY_CLIENT_SECRET": "readonly-secret-9012",
    "PD_ROUTING_KEY": "pd-routing-key-3456",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/slacktoken7890",
    "SMTP_PASSWORD": "smtp-password-1111",
}


def write(tmp_path: Path, text: str, name: str = "sloguard.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path, env: dict[str, str] | None = None, overrides: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {}, overrides=overrides)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


# ------------------------------------------------------------------ defaults and discovery


def test_no_file_targets_the_reference_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert config.source is None
    assert config.target.base_url == "http://127.0.0.1:8400"
    assert config.target.openapi == "/api/v1/openapi.json"
    assert config.target.environment == "reference"
    assert config.spec_location().url == "http://127.0.0.1:8400/api/v1/openapi.json"
    auth = config.auth
    assert auth.client_id == "sloguard-ci"
    assert auth.client_secret is not None and auth.client_secret.get_secret_value() == "sloguard-ci-secret"
    assert auth.user is not None and auth.user.username == "alice@acme.test"
    assert auth.user.password.get_secret_value() == "alice-password"
    assert auth.pkce is not None and auth.pkce.client_id == "sloguard-spa"
    assert auth.pkce.redirect_uri == "http://127.0.0.1:8765/callback"
    assert auth.readonly_client is not None and auth.readonly_client.client_id == "sloguard-readonly"
    assert auth.short_lived_client is not None and auth.short_lived_client.client_id == "sloguard-short"
    assert auth.other_tenant_client is not None and auth.other_tenant_client.client_id == "sloguard-globex"
    assert auth.audience == "atom-api"
    assert config.issuer == "http://127.0.0.1:8400"
    slo = config.slos.default
    assert (slo.latency_p95_ms, slo.error_rate, slo.availability, slo.network_ms) == (500, 0.01, 0.999, 100)
    assert (config.checks.retries, config.checks.concurrency, config.checks.rate_limit_warn) == (1, 64, 0.8)
    assert config.checks.tls_expiry_warn_days == 30
    assert config.allows_side_effects and config.allows_load
    assert config.reports.dir == Path("reports")
    assert config.reports.summary_path == Path("reports/summary.json")
    assert set(config.load.profiles) == {"smoke", "capacity", "soak", "stress", "rate"}
    assert config.load.profiles["capacity"].steps == [1000, 2500, 5000, 10000]
    assert config.schedules.health is not None and config.schedules.health.every_s == 900
    assert config.schedules.contracts is not None and config.schedules.contracts.cron == "0 3 * * *"


def test_sloguard_yaml_in_the_working_directory_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "checks: {retries: 3}\n")
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={})
    assert config.checks.retries == 3
    assert config.source == (tmp_path / "sloguard.yaml").resolve()


def test_explicit_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing, env={})
    assert str(missing) in str(caught.value) and "not found" in str(caught.value)
    assert isinstance(caught.value, UsageError)


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "# nothing yet\n"), env={})
    assert config.target.environment == "reference" and config.auth.client_id == "sloguard-ci"


def test_reference_example_is_exactly_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(EXAMPLES / "reference.yaml", env={}).redacted() == load_config(None, env={}).redacted()


def test_production_example_needs_its_env_vars_then_loads_read_only() -> None:
    message = error_of(EXAMPLES / "atom-production.yaml")
    assert "atom-production.yaml:16: target.base_url: environment variable ATOM_BASE_URL" in message

    config = load_config(EXAMPLES / "atom-production.yaml", env=PRODUCTION_ENV)
    assert config.target.environment == "production"
    assert not config.allows_side_effects
    assert not config.allows_load
    # only a user: the login comes from the description (the real ATOM's JSON login, docs/auth.md)
    assert config.auth.client_id is None and config.auth.user is not None
    from sloguard.auth import JSONLogin, resolve_login
    from tests.engine.test_login import ATOM, catalog_of

    login = resolve_login(config, catalog_of(ATOM))
    assert isinstance(login, JSONLogin) and login.url == "https://atom.example.com/api/auth/login"
    # the reference platform's test clients are never filled in for a real deployment
    assert config.auth.pkce is None and config.auth.short_lived_client is None
    assert config.auth.other_tenant_client is None
    assert config.alerts.channels_for("P0") == ["oncall", "team", "am"]
    assert config.alerts.channels_for("P3") == ["mail"]
    assert config.slo_for("Stripe").latency_p95_ms == 800
    assert config.maintenance[0].duration == 7200
    for secret in ("prod-client-secret", "user-password", "readonly-secret", "pd-routing-key", "slacktoken",
                   "smtp-password"):
        assert secret not in repr(config) and secret not in str(config.redacted())


# ------------------------------------------------------------------ interpolation


def test_env_interpolation_substitutes_values_after_yaml_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, """
        target:
          base_url: ${BASE:-http://127.0.0.1:9000}
          headers: {X-Team: "team-${TEAM}"}
        auth:
          client_id: ${CID}
          client_secret: ${SECRET}
        alerts:
          channels:
            mail: {type: email, smtp_host: localhost, smtp_port: "${SMTP_PORT}", sender: a@b.c, to: x@y.z}
        reports:
          dir: "$${NOT_A_VAR}"
        """)
    # characters that would be YAML syntax if the secret were pasted into the file unquoted
    tricky = "p#ss: [x] {y} &z *w\n- item"
    env = {"CID": "my-client", "SECRET": tricky, "TEAM": "sre", "SMTP_PORT": "2525", "BASE": ""}
    config = load_config(path, env=env)
    assert config.target.base_url == "http://127.0.0.1:9000"  # empty counts as unset: default used
    assert config.target.headers == {"X-Team": "team-sre"}
    assert config.auth.client_secret is not None and config.auth.client_secret.get_secret_value() == tricky
    assert config.alerts.channels["mail"].smtp_port == 2525  # type: ignore[union-attr]
    assert config.reports.dir == Path("${NOT_A_VAR}")


def test_missing_env_var_names_the_variable_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, """
        target:
          base_url: http://127.0.0.1:8400
        auth:
          client_id: ci
          client_secret: ${ATOM_CLIENT_SECRET}
        """)
    message = error_of(path, env={"OTHER": "x"})
    expected = f"{path}:5: auth.client_secret: environment variable ATOM_CLIENT_SECRET is not set"
    assert message.startswith(expected)
    assert "${ATOM_CLIENT_SECRET:-default}" in message


def test_malformed_env_reference_is_an_error(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "auth:\n  client_id: ${CLIENT_ID\n"))
    assert ":2: auth.client_id: malformed ${...} reference" in message


# ------------------------------------------------------------------ broken files


BROKEN = [
    pytest.param(
        "target:\n  base_url: \"http://x\n  timeout_s: 3\n",
        ":4:1: YAML syntax error", "quoted scalar that starts at line 2", id="yaml-syntax",
    ),
    pytest.param(
        "alerts:\n  channels:\n    oncall: {type: pagerduty, routing_key: ${PD_KEY}}\n",
        ":3:", 'put ${...} in quotes: "${VAR}"', id="unquoted-env-in-flow-mapping",
    ),
    pytest.param(
        "target:\n  base_url: http://127.0.0.1:8400\nslo:\n  default: {latency_p95_ms: 300}\n",
        ":3: slo: unknown key 'slo' at the top level", "did you mean 'slos'?", id="unknown-top-level-key",
    ),
    pytest.param(
        "slos:\n  default:\n    latency_p95: 300\n",
        ":3: slos.default.latency_p95: unknown key 'latency_p95' in slos.default",
        "did you mean 'latency_p95_ms'?", id="unknown-nested-key",
    ),
    pytest.param(
        "slos:\n  default:\n    error_rate: 0.02\n    latency_p95_ms: fast\n",
        ":4: slos.default.latency_p95_ms: expected a valid number", "given 'fast'", id="wrong-type",
    ),
    pytest.param(
        "slos:\n  integrations:\n    stripe: {error_rate: 2}\n",
        ":3: slos.integrations.stripe.error_rate: expected less than or equal to 1", "given 2",
        id="out-of-range",
    ),
    pytest.param(
        "target:\n  environment: prod\n",
        ":2: target.environment: expected 'reference', 'sandbox', 'staging' or 'production'",
        "did you mean 'production'?", id="bad-literal",
    ),
    pytest.param(
        "alerts:\n  channels:\n    team: {type: slack, webhook_url: 'https://hooks.example/x'}\n"
        "  routes:\n    - {severity: [P0], to: [team]}\n"
        "    - severity: [P1]\n      to:\n        - team\n        - oncall\n",
        ":9: alerts.routes[1].to[1]: route sends to unknown channel 'oncall' (channels: team)",
        "define it under alerts.channels", id="route-unknown-channel",
    ),
    pytest.param(
        "alerts:\n  channels:\n    team: {type: slak, webhook_url: 'https://hooks.example/x'}\n",
        ":3: alerts.channels.team: unknown type 'slak'", "did you mean 'slack'?", id="bad-channel-type",
    ),
    pytest.param(
        "alerts:\n  channels:\n    oncall:\n      type: pagerduty\n",
        ":3: alerts.channels.oncall.routing_key: missing required key 'routing_key'", "", id="missing-key",
    ),
    pytest.param(
        "catalog:\n  integration_from: path\n  path_pattern: '^/api/(?P<integration>[a-z]+'\n",
        ":3: catalog.path_pattern: not a valid regular expression", "missing )", id="bad-regex",
    ),
    pytest.param(
        "catalog:\n  path_pattern: '^/api/([a-z]+)/'\n",
        ":2: catalog.path_pattern: the regular expression needs a named group", "(?P<integration>",
        id="regex-without-group",
    ),
    pytest.param(
        "auth:\n  client_id: a\n  scope: read\n  client_id: b\n",
        ":4: duplicate key 'client_id' in auth", "remove one", id="duplicate-key",
    ),
    pytest.param(
        "- target\n- auth\n", ":1: the top level must be a mapping", "got a list", id="top-level-list"
    ),
    pytest.param(
        "load:\n  profiles:\n    capacity:\n      steps: [1000, 2500]\n      hold: 5 minutes\n",
        ":5: load.profiles.capacity.hold: '5 minutes' is not a duration", "'5m'", id="bad-duration",
    ),
    pytest.param(
        "load:\n  profiles:\n    capacity: {steps: [5000, 1000]}\n",
        ":3: load.profiles.capacity: steps must go up", "[5000, 1000]", id="steps-down",
    ),
    pytest.param(
        "maintenance:\n  - {cron: '0 2 * * SUN', duration: 2h}\n  - {cron: '0 25 * *', duration: 1h}\n",
        ":3: maintenance[1].cron: '0 25 * *' is not a cron expression", "5 fields", id="bad-cron",
    ),
    pytest.param(
        "catalog:\n  overrides:\n    slack_delete_message: {skip: true}\n",
        ":3: catalog.overrides.slack_delete_message: skip: true needs a reason", "", id="skip-without-reason",
    ),
    pytest.param(
        "target:\n  base_url: atom.example.com\n",
        ":2: target.base_url: expected an http:// or https:// base URL", "given 'atom.example.com'",
        id="bad-url",
    ),
    pytest.param(
        "alerts:\n  channels:\n    team: {type: slack, webhook_url: 'https://hooks.example/x'}\n"
        "  routes:\n    - {severity: [P1, P5], to: [team]}\n",
        ":5: alerts.routes[0].severity[1]: unknown severity 'P5'", "use one of P0, P1, P2, P3",
        id="bad-severity",
    ),
    pytest.param(
        "checks:\n  fail_on: critical\n", ":2: checks.fail_on: unknown severity 'critical'",
        "use one of P0, P1, P2, P3", id="bad-fail-on",
    ),
]


def test_severities_are_the_severity_type_in_any_case(tmp_path: Path) -> None:
    path = write(tmp_path, """
        alerts:
          channels:
            team: {type: slack, webhook_url: "https://hooks.example/x"}
          routes: [{severity: [p0, P1], to: [team]}]
        checks:
          fail_on: p1
        """)
    config = load_config(path, env={})
    assert config.alerts.routes[0].severity == [Severity.P0, Severity.P1]
    assert all(type(s) is Severity for s in config.alerts.routes[0].severity)
    assert type(config.checks.fail_on) is Severity and config.checks.fail_on is Severity.P1
    assert config.alerts.channels_for(Severity.P1) == ["team"] and config.alerts.channels_for("P2") == []
    # the dump stays plain data
    assert config.redacted()["checks"]["fail_on"] == "P1"
    assert type(config.redacted()["alerts"]["routes"][0]["severity"][0]) is str
    assert load_config(None, env={}).checks.fail_on is Severity.P1


@pytest.mark.parametrize(("text", "expected", "also"), BROKEN)
def test_broken_file_gets_one_line_naming_file_line_key_and_fix(
    tmp_path: Path, text: str, expected: str, also: str
) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    assert message.startswith(f"{path}:"), message
    assert expected in message, message
    assert also in message, message


def test_several_problems_report_the_first_and_count_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, "checks:\n  retries: many\n  concurrency: 0\n  timeout_s: -1\n")
    message = error_of(path)
    assert message.startswith(f"{path}:2: checks.retries:") and message.endswith("(and 2 more problems)")


def test_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "sloguard.yaml"
    path.write_bytes(b"target:\n  base_url: \xff\xfe\n")
    assert "not UTF-8" in error_of(path)


def test_errors_never_echo_a_secret(tmp_path: Path) -> None:
    path = write(tmp_path, """
        alerts:
          channels:
            team: {type: slack, webhook_url: hooks.slack.com/services/T/B/leaked-token}
        """)
    message = error_of(path)
    assert message.startswith(f"{path}:3: alerts.channels.team.webhook_url: expected an http:// or https://")
    assert "leaked-token" not in message
    path = write(tmp_path, "auth:\n  client_secret: {x: hunter2-secret}\n")
    message = error_of(path)
    assert "hunter2" not in message and "auth.client_secret" in message


# ------------------------------------------------------------------ overrides (command-line options)


def test_target_override_on_a_remote_host_is_read_only_without_reference_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, env={}, overrides={"target": {"base_url": "https://atom.example.com/"}})
    assert config.target.base_url == "https://atom.example.com"
    assert config.target.environment == "production"
    assert not config.allows_side_effects and not config.allows_load
    assert config.auth.client_id is None and config.auth.user is None and config.auth.pkce is None


def test_override_errors_name_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "checks: {retries: 2}\n")
    message = error_of(path, overrides={"target": {"base_url": "not-a-url"}})
    assert message.startswith("command-line option: target.base_url:")
    config = load_config(path, env={}, overrides={"checks": {"read_only": True}})
    assert config.checks.retries == 2 and config.checks.read_only and not config.allows_side_effects


# ------------------------------------------------------------------ behaviour of the model


@pytest.mark.parametrize(
    ("target", "allowed"),
    [
        ({"environment": "reference"}, True),
        ({"environment": "sandbox", "base_url": "https://sandbox.example.com"}, True),
        ({"environment": "staging", "base_url": "https://staging.example.com"}, True),
        ({"environment": "production", "base_url": "https://atom.example.com"}, False),
        ({"environment": "production", "base_url": "https://atom.example.com", "sandbox_tenant": "t9"}, True),
    ],
)
def test_side_effects_policy(tmp_path: Path, target: dict, allowed: bool) -> None:
    config = load_config(None, env={}, overrides={"target": target})
    assert config.allows_side_effects is allowed
    read_only = load_config(None, env={}, overrides={"target": target, "checks": {"read_only": True}})
    assert read_only.allows_side_effects is False


def test_load_only_on_loopback_or_allowed_hosts(tmp_path: Path) -> None:
    path = write(tmp_path, """
        target: {base_url: "https://atom-staging.example.com", environment: staging}
        load:
          allow_hosts: ["*.example.com"]
        """)
    assert load_config(path, env={}).allows_load
    other = load_config(path, env={}, overrides={"target": {"base_url": "https://atom.other.org"}})
    assert not other.allows_load


def test_slo_for_merges_integration_overrides_on_the_default(tmp_path: Path) -> None:
    path = write(tmp_path, """
        slos:
          default: {latency_p95_ms: 400}
          integrations:
            Microsoft Teams: {latency_p95_ms: 900}
            stripe: {error_rate: 0.05}
        """)
    config = load_config(path, env={})
    teams = config.slo_for("microsoft-teams")
    assert (teams.latency_p95_ms, teams.error_rate, teams.availability) == (900, 0.01, 0.999)
    stripe = config.slos.slo_for("Stripe")
    assert (stripe.latency_p95_ms, stripe.error_rate) == (400, 0.05)
    assert config.slo_for("slack").latency_p95_ms == 400 and config.slo_for(None).latency_p95_ms == 400


def test_catalog_selection_overrides_and_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, """
        catalog:
          integration_from: path
          aliases: {MS Teams: microsoft-teams, hubspot_marketing: hubspot}
          include: ["slack_*", "GET /api/jira/*"]
          exclude: ["*_delete_*"]
          overrides:
            slack_get_message: {path_params: {id: 42}, expected_status: 200}
            "POST /api/slack/sync": {expected_status: [202, 409]}
            "*_oauth_callback": {skip: true, reason: needs a provider redirect}
        """)
    catalog = load_config(path, env={}).catalog
    assert catalog.selects("slack_list_messages", "GET", "/api/slack/messages")
    assert catalog.selects(None, "get", "/api/jira/issues")
    assert not catalog.selects("slack_delete_message", "DELETE", "/api/slack/messages/{id}")
    assert not catalog.selects("stripe_list_charges", "GET", "/api/stripe/charges")
    got = catalog.override_for("slack_get_message", "GET", "/api/slack/messages/{id}")
    assert got is not None and got.path_params == {"id": 42} and got.expected_status == [200]
    sync = catalog.override_for("slack_trigger_sync", "POST", "/api/slack/sync")
    assert sync is not None and sync.expected_status == [202, 409]
    callback = catalog.override_for("jira_oauth_callback", "GET", "/api/auth/jira/callback")
    assert callback is not None and callback.skip and callback.reason
    assert catalog.override_for("jira_list_issues", "GET", "/api/jira/issues") is None
    assert catalog.integration_name("MS Teams") == "microsoft-teams"
    assert catalog.integration_from_path("/api/hubspot_marketing/contacts") == "hubspot"
    assert catalog.integration_from_path("/metrics") is None


def test_openapi_location_kinds(tmp_path: Path) -> None:
    spec_file = write(tmp_path, "target: {openapi: specs/atom.json}\n")
    location = load_config(spec_file, env={}).spec_location()
    assert location.kind == "file" and location.path == tmp_path.resolve() / "specs/atom.json"
    url = load_config(None, env={}, overrides={"target": {"openapi": "https://cdn.example.com/atom.json"}})
    assert url.spec_location().url == "https://cdn.example.com/atom.json"
    absolute = load_config(None, env={}, overrides={"target": {"openapi": f"file:{tmp_path}/a.yaml"}})
    assert absolute.spec_location().path == tmp_path / "a.yaml"


def test_load_profiles_merge_with_the_built_ins(tmp_path: Path) -> None:
    path = write(tmp_path, """
        load:
          profiles:
            capacity: {steps: [100, 200]}
            soak: {users: 50, duration: 10m}
            spike: {users: 500, duration: 1m, think_time_s: 2}
        """)
    profiles = load_config(path, env={}).load.profiles
    assert profiles["capacity"].steps == [100, 200] and profiles["capacity"].hold == 300
    assert profiles["soak"].users == 50 and profiles["soak"].duration == 600
    assert profiles["spike"].think_time_s == (2.0, 2.0)
    assert profiles["smoke"].users == 10


def test_durations() -> None:
    assert parse_duration("90s") == 90 and parse_duration("1h30m") == 5400 and parse_duration(5) == 5
    assert parse_duration("250ms") == 0.25 and parse_duration("1d") == 86400
    for bad in ("5 minutes", "", "-3", "m5", True):
        with pytest.raises(ValueError):
            parse_duration(bad)


# ------------------------------------------------------------------ redaction


def test_repr_and_redacted_hide_every_secret(tmp_path: Path) -> None:
    path = write(tmp_path, """
        target:
          headers: {Authorization: "Bearer tok-AAAA", X-Request-Source: sloguard}
        auth:
          client_id: ci
          client_secret: cs-BBBB
          user: {username: alice@acme.test, password: pw-CCCC}
          readonly_client: {client_id: ro, client_secret: ro-DDDD}
        alerts:
          channels:
            oncall: {type: pagerduty, routing_key: rk-EEEE}
            team: {type: slack, webhook_url: "https://hooks.slack.com/services/T1/B2/wh-FFFF"}
            hook: {type: webhook, url: "https://hooks.example.com/in?token=wt-GGGG", secret: hm-HHHH,
                   headers: {X-Api-Key: ak-IIII}}
            mail: {type: email, smtp_host: smtp.example.com, username: bot, password: sp-JJJJ,
                   sender: bot@example.com, to: [sre@example.com]}
            am: {type: alertmanager, url: "https://user:am-KKKK@alertmanager.example.com:9093"}
          routes: [{severity: P0, to: [oncall, team, hook, mail, am]}]
        """)
    config = load_config(path, env={})
    shown = [repr(config), str(config), str(config.redacted()), repr(config.auth), repr(config.alerts)]
    for text in shown:
        for secret in ("AAAA", "BBBB", "CCCC", "DDDD", "EEEE", "FFFF", "GGGG", "HHHH", "IIII", "JJJJ",
                       "KKKK"):
            assert secret not in text, (secret, text)
    dump = config.redacted()
    assert dump["auth"]["client_secret"] == MASK and dump["auth"]["user"]["password"] == MASK
    assert dump["target"]["headers"] == {"Authorization": MASK, "X-Request-Source": "sloguard"}
    channels = dump["alerts"]["channels"]
    assert channels["oncall"]["routing_key"] == MASK
    assert channels["team"]["webhook_url"] == f"https://hooks.slack.com/{MASK}"
    assert channels["hook"]["url"] == f"https://hooks.example.com/{MASK}" and channels["hook"]["secret"] == MASK
    assert channels["hook"]["headers"] == {"X-Api-Key": MASK}
    assert channels["mail"]["password"] == MASK
    assert channels["am"]["url"] == f"https://user:{MASK}@alertmanager.example.com:9093"
    # the real values stay available to the code that needs them
    assert config.auth.client_secret is not None and config.auth.client_secret.get_secret_value() == "cs-BBBB"
    # and every secret is registered with the shared redactor, so logs and reports mask it too
    assert "cs-BBBB" in config.secret_values() and "Bearer tok-AAAA" in config.secret_values()
    line = "sent cs-BBBB pd=rk-EEEE to https://hooks.example.com/in?token=wt-GGGG with sp-JJJJ"
    masked = redact_text(line)
    for secret in ("BBBB", "EEEE", "GGGG", "JJJJ"):
        assert secret not in masked, masked
