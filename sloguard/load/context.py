"""Everything one load process shares: the plan, the mix, the login settings and the recorders."""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sloguard.config import Config
from sloguard.datagen import resource_of

from .generator import UsageMeter
from .login import LoginSettings
from .mix import AUTH_OPERATION, AUTH_RENEWAL, Mix, Operation, build_mix, load_target_catalog
from .plan import LoadPlan
from .recorder import Recorder, ScopeInfo

if TYPE_CHECKING:
    from sloguard.catalog import Catalog

    from .arrival import ArrivalScheduler

log = logging.getLogger("sloguard.load")


@dataclass
class LoadContext:
    config: Config
    plan: LoadPlan
    mix: Mix
    login: LoginSettings
    meter: UsageMeter
    recorder: Recorder
    scheduler: ArrivalScheduler | None = None
    catalog: Catalog | None = None
    _creators: dict[tuple[str, str], Operation] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, config: Config, plan: LoadPlan) -> LoadContext:
        catalog = load_target_catalog(config)
        mix = build_mix(config, catalog, writes=plan.writes)
        if not mix.operations:
            from sloguard.errors import UsageError

            reasons = sorted(set(mix.excluded.values()))[:3]
            raise UsageError(f"no operation of {config.target.base_url} can be load-tested ({'; '.join(reasons)}); "
                             "adjust load.mix or catalog.overrides")
        scopes = {op.name: ScopeInfo(op.key, op.name, op.integration, op.expected) for op in mix.operations}
        for name in (AUTH_OPERATION, AUTH_RENEWAL):
            scopes[name] = ScopeInfo(name, name, "auth", frozenset({200}))
        meter = UsageMeter()
        login = LoginSettings.from_config(config, plan.login, catalog)
        ctx = cls(config, plan, mix, login, meter, Recorder(scopes, meter), catalog=catalog)
        for op in mix.operations:
            if op.kind == "create" and op.entry is not None:
                ctx._creators.setdefault((op.integration, resource_of(op.entry.path)), op)
        # The catalog, the description and the libraries are set up for good: move them out of the
        # cyclic garbage collector's sight, or every collection rescans them during the run.
        gc.collect()
        gc.freeze()
        return ctx

    def fallback(self, op: Operation) -> Operation | None:
        """What to call instead when the user has no id for ``op``: the list (or, to delete, the create)
        that gives one."""
        if not op.id_params:
            return None
        key = (op.integration, op.id_params[-1][1])
        if op.kind == "delete":
            return self._creators.get(key)
        return self.mix.by_key.get(op.provider) if op.provider else self._creators.get(key)

    def replan(self, plan: LoadPlan) -> bool:
        """Run the controller's plan (think time, login, model) instead of our own; never another target."""
        if plan.base_url != self.plan.base_url:
            self.log_refusal(plan.base_url)
            return False
        if plan.login != self.plan.login:
            self.login = LoginSettings.from_config(self.config, plan.login, self.catalog)
        self.plan = plan
        return True

    def log_refusal(self, host: str) -> None:
        if host not in self.refused:
            self.refused.append(host)
            log.error("refusing to load %s: this generator's config targets %s", host, self.plan.base_url)

    def describe(self) -> dict[str, Any]:
        return {"operations": len(self.mix.operations), "excluded": len(self.mix.excluded)}
