"""From catalog and config to the list of checks and the tasks that run them.

Each :class:`CheckSpec` becomes one pytest item; each task is a coroutine that fills the probes of
one or more specs (a CRUD chain fills four). Planning is pure: nothing is sent until the runner runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sloguard.catalog import Catalog, Entry
from sloguard.config import Config
from sloguard.datagen import resource_of
from sloguard.severity import Rule

from .probe import CheckKind, CheckSpec

if TYPE_CHECKING:
    from .context import RunContext

Task = Callable[["RunContext"], Awaitable[None]]

PREFLIGHT_ID = "platform · target reachable"
LOGIN_ID = "auth · login"


@dataclass
class Plan:
    specs: list[CheckSpec] = field(default_factory=list)
    tasks: list[tuple[frozenset[str], Task]] = field(default_factory=list)
    quiet: list[tuple[frozenset[str], Task]] = field(default_factory=list)  # run alone, before the rest
    covered: dict[str, str] = field(default_factory=dict)  # operationId -> spec id that checks it
    reasons: dict[str, str] = field(default_factory=dict)  # operationId -> why it is not checked

    def add(self, spec: CheckSpec) -> CheckSpec:
        self.specs.append(spec)
        if spec.operation_id and spec.skip is None and spec.kind not in ("security",):
            self.covered.setdefault(spec.operation_id, spec.id)
        elif spec.operation_id and spec.skip is not None:
            self.reasons.setdefault(spec.operation_id, spec.skip)
        return spec

    def task(self, specs: list[CheckSpec], run: Task, *, quiet: bool = False) -> None:
        """Schedule ``run`` for ``specs``; a quiet task runs before the concurrent batch, because it
        measures something (connect time) that the batch's own load would distort."""
        (self.quiet if quiet else self.tasks).append((frozenset(s.id for s in specs), run))

    def by_id(self) -> dict[str, CheckSpec]:
        return {s.id: s for s in self.specs}


def missing_scopes(config: Config, entry: Entry) -> list[str]:
    """Scopes the operation needs that the suite's client is not asked to get (a 403 would be right)."""
    if not entry.auth.required:
        return []
    return sorted(set(entry.auth.scopes) - set((config.auth.scope or "").split()))


def spec_for(entry: Entry, kind: CheckKind, rule: Rule, *, suffix: str = "", skip: str | None = None) -> CheckSpec:
    label = f"{entry.integration} · {entry.method} {entry.path}" + (f" · {suffix}" if suffix else "")
    return CheckSpec(
        id=label, kind=kind, integration=entry.integration, group=resource_of(entry.path) or entry.group,
        title=entry.summary or f"{entry.method} {entry.path}", rule=rule, operation_id=entry.operation_id,
        method=entry.method, path=entry.path, skip=skip,
    )


def build_plan(config: Config, catalog: Catalog | None, *, read_only: bool, https: bool) -> Plan:
    from .checks import endpoints, health

    plan = Plan()
    plan.add(CheckSpec(PREFLIGHT_ID, "platform", "platform", "reachability", "the target answers",
                       Rule.PLATFORM_DOWN))
    if catalog is None:
        return plan

    side_effect_reason = (
        "side effects are off: the target is read-only (--read-only or environment: production without a "
        "sandbox tenant)"
    )
    chains = catalog.crud_chains() if not read_only else ()
    in_chain = {op for chain in chains for op in (chain.create, chain.get, chain.update, chain.delete) if op}
    health_specs: list[CheckSpec] = []
    login_ops = _login_operations(config, catalog)

    for entry in catalog:
        if entry.operation_id in login_ops:  # a login: never swept with made-up credentials
            covered_by = login_ops[entry.operation_id]
            if covered_by == LOGIN_ID:
                plan.covered.setdefault(entry.operation_id, LOGIN_ID)
            else:
                plan.reasons.setdefault(entry.operation_id, covered_by)
            continue
        override = config.catalog.override_for(entry.operation_id, entry.method, entry.path)
        if override is not None and override.skip:
            plan.add(spec_for(entry, "endpoint", Rule.OPERATION_FAILED, skip=override.reason or "skipped by config"))
            continue
        lacking = missing_scopes(config, entry)
        if lacking:
            plan.add(spec_for(entry, "endpoint", Rule.OPERATION_FAILED,
                              skip=f"needs scope {' '.join(lacking)}, which the suite's client is not given "
                                   "(auth.scope)"))
            continue
        if entry.kind == "health":
            spec = plan.add(spec_for(entry, "health", Rule.INTEGRATION_DEGRADED))
            if entry.integration != "platform":
                health_specs.append(spec)
            plan.task([spec], partial(health.health, spec=spec, entry=entry))
            continue
        if entry.side_effects:
            if read_only:
                plan.add(spec_for(entry, "action", Rule.OPERATION_FAILED, skip=side_effect_reason))
            elif entry.operation_id in in_chain:
                continue  # planned with its chain below
            else:
                spec = plan.add(spec_for(entry, "action", Rule.OPERATION_FAILED))
                plan.task([spec], partial(endpoints.run_action, spec=spec, entry=entry))
            continue
        spec = plan.add(spec_for(entry, "endpoint", Rule.OPERATION_FAILED))
        plan.task([spec], partial(endpoints.sweep_read, spec=spec, entry=entry))

    for chain in chains:
        specs = {op: plan.add(spec_for(catalog[op], "crud", Rule.OPERATION_FAILED,
                                       suffix="read back" if op == chain.get else ""))
                 for op in (chain.create, chain.get, chain.update, chain.delete) if op}
        plan.task(list(specs.values()), partial(endpoints.run_chain, chain=chain, specs=specs))

    if health_specs:
        spec = plan.add(CheckSpec("platform · fewer than 3 integrations down", "health", "platform", "integrations",
                                  "integrations down at once", Rule.INTEGRATIONS_DOWN))
        plan.task([spec], partial(health.integrations_down, spec=spec, health_specs=health_specs))

    _plan_oauth(plan, config, catalog)
    _plan_security(plan, config, catalog, read_only=read_only)
    _plan_sync(plan, config, catalog, read_only=read_only)
    spec = plan.add(CheckSpec("platform · network time (connect + TLS)", "health", "platform", "network",
                              "connect and TLS handshake within the network objective", Rule.INTEGRATION_DEGRADED))
    plan.task([spec], partial(health.network, spec=spec), quiet=True)
    if https:
        spec = plan.add(CheckSpec("platform · TLS certificate", "tls", "platform", "tls",
                                  "TLS certificate valid and not expiring", Rule.TLS_EXPIRY))
        plan.task([spec], partial(health.tls, spec=spec))
    for entry in catalog.all_entries:
        if entry.operation_id not in plan.covered and entry.operation_id not in plan.reasons:
            plan.reasons[entry.operation_id] = catalog.excluded.get(entry.operation_id, "no check applies")
    return plan


def _login_operations(config: Config, catalog: Catalog) -> dict[str, str]:
    """Login operations of the description (the suite's own JSON login, and the operations at the
    security schemes' token URLs) -> the check that covers them, or why they are not swept."""
    from sloguard.auth import JSONLogin, resolve_login
    from sloguard.auth.resolve import security_schemes

    login = resolve_login(config, catalog)
    urls: dict[str, str] = {}
    for scheme in security_schemes(catalog):
        flows = scheme.raw.get("flows")
        for flow in flows.values() if isinstance(flows, dict) else ():
            for key in ("tokenUrl", "refreshUrl"):
                if isinstance(flow, dict) and isinstance(flow.get(key), str):
                    urls[flow[key]] = (f"a login operation (the {scheme.name} scheme's {key}): not swept with "
                                       "made-up credentials")
    if isinstance(login, JSONLogin):
        urls.update({url: LOGIN_ID for url in (login.url, login.refresh_url) if url})
    found: dict[str, str] = {}
    for url, covered_by in urls.items():
        path = urlsplit(url).path.rstrip("/")
        for entry in catalog.all_entries:
            if path and entry.method == "POST" and path.endswith(entry.path.rstrip("/")):
                found[entry.operation_id] = covered_by
    return found


def _plan_oauth(plan: Plan, config: Config, catalog: Catalog) -> None:
    """One "auth · login" check whenever the suite logs in (it carries the P0 when the login fails:
    one root cause, one finding), then the OAuth checks, which skip what the target does not offer."""
    from sloguard.auth import NoAuth, NoCredentials, resolve_login

    from .checks import oauth

    login = resolve_login(config, catalog)
    if login.needs_token:
        skip = login.reason if isinstance(login, NoCredentials) and not login.fatal else None
        spec = plan.add(CheckSpec(LOGIN_ID, "oauth", "auth", "login", f"the suite logs in: {login.describe()}",
                                  Rule.AUTH_FAILURE, skip=skip))
        if skip is None:
            # First of the batch: it takes the session's lock before any other check asks for a token,
            # so the login is sent (and recorded) once, by this check, while the others wait for it.
            plan.tasks.insert(0, (frozenset({spec.id}), partial(oauth.login, spec=spec)))
    public = login.source if isinstance(login, NoAuth) else None
    for name, (title, rule, _) in oauth.CHECKS.items():
        spec = plan.add(CheckSpec(f"auth · oauth · {title}", "oauth", "auth", "oauth", title, rule,
                                  skip=public))
        if public is None:
            plan.task([spec], partial(oauth.run, spec=spec, name=name))


def _plan_security(plan: Plan, config: Config, catalog: Catalog, *, read_only: bool) -> None:
    from .checks import security

    # One forged token for every probe: a well-formed RS256 JWT for this issuer and audience, signed
    # by a key the platform has never seen.
    forged = security.forged_token(config.issuer, config.auth.audience, None)

    for entry in catalog:
        if not entry.auth.required:
            continue
        spec = plan.add(spec_for(entry, "security", Rule.SECURITY_BREACH, suffix="auth enforced"))

        plan.task([spec], partial(security.probe_access, spec=spec, entry=entry, forged=forged))

    tenants = 0
    for chain in catalog.crud_chains():
        if tenants >= 3 or not chain.list or not chain.get:
            continue
        tenants += 1
        list_entry, get_entry = catalog[chain.list], catalog[chain.get]
        create = catalog[chain.create] if not read_only else None
        spec = plan.add(CheckSpec(f"{chain.integration} · {chain.resource} · cross-tenant access denied", "security",
                                  chain.integration, chain.resource, "another tenant cannot read or write",
                                  Rule.SECURITY_BREACH))
        plan.task([spec], partial(security.cross_tenant, spec=spec, list_entry=list_entry, get_entry=get_entry,
                          create_entry=create))
    # The probe sends failed logins: on production only when asked (checks.login_throttling: true).
    throttling = config.checks.login_throttling
    if throttling is None:
        throttling = config.target.environment != "production" or config.target.sandbox_tenant is not None
    spec = plan.add(CheckSpec("auth · failed logins are throttled", "security", "auth", "login",
                              "repeated failed logins get 429", Rule.SECURITY_BREACH,
                              skip=None if throttling else "off on production targets: it sends failed logins "
                              "(set checks.login_throttling: true to run it)"))
    if throttling:
        plan.task([spec], partial(security.login_throttling, spec=spec))


def _plan_sync(plan: Plan, config: Config, catalog: Catalog, *, read_only: bool) -> None:
    from .checks import health

    for pair in config.checks.sync:
        source = _create_of(catalog, pair.source)
        target_list = _list_of(catalog, pair.target)
        title = f"{pair.source} → {pair.target} · data sync"
        if source is None or target_list is None:
            plan.add(CheckSpec(f"{pair.source} · {title}", "sync", pair.source, "sync", title, Rule.DATA_LOSS,
                               skip=f"no create operation in {pair.source} or list in {pair.target}"))
            continue
        skip = "side effects are off: the sync check creates a record" if read_only else None
        spec = plan.add(CheckSpec(f"{pair.source} · {title}", "sync", pair.source, "sync", title, Rule.DATA_LOSS,
                                  skip=skip))
        if skip is None:
            plan.task([spec], partial(health.data_sync, spec=spec, source=source, target_list=target_list,
                                              target=pair.target))


def _create_of(catalog: Catalog, integration: str) -> Entry | None:
    for entry in catalog:
        body = entry.request_body
        if (entry.integration == integration and entry.kind == "create" and body is not None
                and "sync_to" in (catalog.resolve(body.schema).get("properties") or {})):
            return entry
    return None


def _list_of(catalog: Catalog, integration: str) -> Entry | None:
    for entry in catalog:
        if entry.integration == integration and entry.kind == "list" and any(
                p.name == "source_id" for p in entry.parameters):
            return entry
    return None
