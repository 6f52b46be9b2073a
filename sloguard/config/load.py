"""The `load:` section: load profiles (the built-in ones and a team's own), allowed hosts, resource triggers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import ConfigModel
from .values import Duration, as_pair

LoginStyle = Literal["password", "client_credentials", "none"]


class LoadProfile(ConfigModel):
    users: int | None = Field(default=None, ge=1)
    steps: list[Annotated[int, Field(ge=1)]] | None = None
    hold: Duration | None = None
    duration: Duration | None = None
    spawn_rate: float | None = Field(default=None, gt=0)
    think_time_s: Annotated[tuple[float, float], BeforeValidator(as_pair)] = (1.0, 3.0)
    rps: float | None = Field(default=None, gt=0)
    # How each virtual user gets its token. None: the password grant when auth.user is set, else
    # client credentials. The built-in capacity profiles use client credentials: a password login
    # runs the server's slow password hash, and 10,000 of them would measure the hash, not the API.
    login: LoginStyle | None = None
    # Stop after the first step that misses the SLO (stress: find the break, then stop).
    stop_at_break: bool = False

    @model_validator(mode="after")
    def _shape(self) -> LoadProfile:
        if self.users is None and not self.steps:
            raise ValueError("a load profile needs users: N or steps: [N, ...]")
        if self.steps and self.steps != sorted(self.steps):
            raise ValueError(f"steps must go up, got {self.steps}")
        if self.steps and self.hold is None:
            raise ValueError("a stepped profile needs hold: how long each step lasts, such as 5m")
        low, high = self.think_time_s
        if low < 0 or high < low:
            raise ValueError(f"think_time_s must be [min, max] with 0 <= min <= max, got [{low}, {high}]")
        return self


DEFAULT_PROFILES: dict[str, dict[str, Any]] = {
    "smoke": {"users": 10, "spawn_rate": 10, "duration": "30s", "think_time_s": [0.5, 1.0], "login": "password"},
    "capacity": {"steps": [1000, 2500, 5000, 10000], "hold": "5m", "spawn_rate": 100,
                 "think_time_s": [5, 15], "login": "client_credentials"},
    "soak": {"users": 1000, "spawn_rate": 50, "duration": "2h", "think_time_s": [5, 15],
             "login": "client_credentials"},
    "stress": {"steps": [10000, 12500, 15000, 20000, 25000, 30000], "hold": "2m", "spawn_rate": 200,
               "think_time_s": [5, 15], "login": "client_credentials", "stop_at_break": True},
    "rate": {"users": 50, "rps": 200, "spawn_rate": 50, "duration": "2m", "think_time_s": [0, 0],
             "login": "client_credentials"},
}


class ResourceTriggers(ConfigModel):
    cpu_percent: float = Field(default=70.0, gt=0, le=100)
    memory_percent: float = Field(default=75.0, gt=0, le=100)


class CapacityTarget(ConfigModel):
    """One of the plan's scaling targets: hold ``users`` inside the SLO, else do ``action``."""

    users: int = Field(ge=1)
    action: str = Field(min_length=1)


DEFAULT_TARGETS: list[dict[str, Any]] = [
    {"users": 1000, "action": "current capacity"},
    {"users": 2500, "action": "add application instances"},
    {"users": 5000, "action": "add database read replicas"},
    {"users": 10000, "action": "go multi-region"},
]

# Read-heavy by default: what users of an integration platform mostly do. Health checks and actions
# (syncs, OAuth connects) are not user traffic: weight them here or per operation to mix them in.
DEFAULT_KIND_WEIGHTS: dict[str, float] = {
    "list": 30.0, "get": 30.0, "search": 15.0, "create": 5.0, "update": 3.0, "delete": 1.0,
    "health": 0.0, "action": 0.0,
}


class LoadMix(ConfigModel):
    """Weights of the request mix: an integration's share, then each operation's share within it."""

    integrations: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    operations: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    kinds: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHTS))

    @field_validator("kinds")
    @classmethod
    def _kinds(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_KIND_WEIGHTS))
        if unknown:
            raise ValueError(f"unknown operation kind {', '.join(unknown)}: use {', '.join(DEFAULT_KIND_WEIGHTS)}")
        return {**DEFAULT_KIND_WEIGHTS, **value}


class AbortConfig(ConfigModel):
    """Stop a run early when the error rate stays above ``error_rate`` for ``sustained`` (P0)."""

    error_rate: float = Field(default=0.05, gt=0, le=1)
    sustained: Duration = 300.0


class GeneratorLimits(ConfigModel):
    """When the load generator itself is the bottleneck, a step is invalid (neither passed nor failed)."""

    max_cpu_percent: float = Field(default=90.0, gt=0, le=100)
    max_loop_lag_ms: float = Field(default=50.0, gt=0)
    max_schedule_lag_ms: float = Field(default=100.0, gt=0)
    max_dropped_ratio: float = Field(default=0.001, ge=0, le=1)
    # What a worker should stay under; used to say how many workers would make an invalid step valid.
    target_cpu_percent: float = Field(default=70.0, gt=0, le=100)


class TargetMetrics(ConfigModel):
    """The target's Prometheus metrics (process CPU and memory), scraped during a run."""

    path: str | None = "/metrics"
    interval_s: float = Field(default=15.0, gt=0)  # a scrape costs the target too: Prometheus' usual interval
    cpu_cores: float = Field(default=1.0, gt=0)  # 100% CPU = this many cores busy
    memory_limit_mb: float | None = Field(default=None, gt=0)  # None: the host's memory, for a loopback target


class SoakConfig(ConfigModel):
    """Growth over a soak's hold that is a finding (P1 SOAK_GROWTH)."""

    memory_growth_percent: float = Field(default=20.0, gt=0)
    latency_growth_percent: float = Field(default=50.0, gt=0)
    windows: int = Field(default=6, ge=3, le=100)
    min_r2: float = Field(default=0.6, ge=0, le=1)


class LoadConfig(ConfigModel):
    allow_hosts: list[str] = Field(default_factory=list)
    # A target with environment: production is refused unless this is true (and its host allowed).
    allow_production: bool = False
    triggers: ResourceTriggers = Field(default_factory=ResourceTriggers)
    targets: list[CapacityTarget] = Field(default_factory=lambda: [CapacityTarget(**t) for t in DEFAULT_TARGETS])
    profiles: dict[str, LoadProfile] = Field(default_factory=dict)
    mix: LoadMix = Field(default_factory=LoadMix)
    # A step's scope (overall, one integration, one operation) needs this many samples for a verdict.
    min_samples: int = Field(default=100, ge=1)
    abort: AbortConfig = Field(default_factory=AbortConfig)
    generator: GeneratorLimits = Field(default_factory=GeneratorLimits)
    metrics: TargetMetrics = Field(default_factory=TargetMetrics)
    soak: SoakConfig = Field(default_factory=SoakConfig)

    @field_validator("targets")
    @classmethod
    def _targets_up(cls, value: list[CapacityTarget]) -> list[CapacityTarget]:
        users = [t.users for t in value]
        if users != sorted(set(users)):
            raise ValueError(f"targets must go up in users, each once, got {users}")
        return value

    @field_validator("profiles", mode="before")
    @classmethod
    def _with_defaults(cls, value: Any) -> Any:
        # A profile named in the file replaces the keys it names; the other built-ins stay.
        if not isinstance(value, dict):
            return value
        merged: dict[str, Any] = {k: dict(v) for k, v in DEFAULT_PROFILES.items()}
        for name, profile in value.items():
            if isinstance(profile, dict) and name in merged:
                base = merged[name]
                if "users" in profile or "steps" in profile:  # users and steps are exclusive shapes
                    base.pop("users", None)
                    base.pop("steps", None)
                merged[name] = {**base, **profile}
            else:
                merged[name] = profile
        return merged
