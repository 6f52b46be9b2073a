"""What a load run will do: a profile from config, resolved into steps, plus the safety rules.

A plan is plain data (JSON-serialisable), so the controller, each local worker process and the
report all read the same steps. ``--scale`` multiplies every user count (and the plan's targets)
so a capacity run can be rehearsed on a small machine.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from sloguard.config import Config
from sloguard.errors import UsageError

PROFILES = ("smoke", "capacity", "soak", "stress", "rate")
Mode = Literal["closed", "open"]
Login = Literal["password", "client_credentials", "none"]
DEFAULT_RAMP_S = 60.0  # single-step profiles without a spawn rate ramp over at most this long
WRITE_ENVIRONMENTS = ("reference", "sandbox")


@dataclass(frozen=True)
class StepPlan:
    """One step: hold ``users`` (closed model) or an arrival rate with a pool of users (open model)."""

    index: int
    users: int
    hold_s: float
    rps: float | None = None
    in_target_range: bool = True

    @property
    def label(self) -> str:
        return f"{self.rps:g} req/s" if self.rps is not None else f"{self.users:,} users"


@dataclass(frozen=True)
class CapacityTarget:
    users: int
    action: str


@dataclass(frozen=True)
class LoadPlan:
    profile: str
    mode: Mode
    steps: tuple[StepPlan, ...]
    spawn_rate: float
    think_time_s: tuple[float, float]
    login: Login
    base_url: str
    scale: float = 1.0
    workers: int = 0
    stop_at_break: bool = False
    writes: bool = False
    targets: tuple[CapacityTarget, ...] = ()
    target_range_users: int = 0  # steps above this many users are beyond the plan (stress)
    notes: tuple[str, ...] = field(default=())

    @property
    def soak(self) -> bool:
        return self.profile == "soak"

    def ramp_s(self, index: int) -> float:
        """Seconds to go from the previous step's users to this step's at the spawn rate."""
        before = self.steps[index - 1].users if index > 0 else 0
        return abs(self.steps[index].users - before) / self.spawn_rate

    @property
    def settle_s(self) -> float:
        """After a step's users run, how long before its hold starts (each user has done an iteration)."""
        return min(max(self.think_time_s[1], 1.0), 30.0) if self.mode == "closed" else 1.0

    def expected_s(self) -> float:
        """How long the run should take if nothing aborts it."""
        return sum(self.ramp_s(i) + self.settle_s + s.hold_s for i, s in enumerate(self.steps))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadPlan:
        values = dict(data)
        values["steps"] = tuple(StepPlan(**s) for s in values["steps"])
        values["targets"] = tuple(CapacityTarget(**t) for t in values.get("targets", ()))
        values["think_time_s"] = tuple(values["think_time_s"])
        values["notes"] = tuple(values.get("notes", ()))
        return cls(**values)


def check_allowed(config: Config) -> None:
    """Refuse to load a target that is not ours to load (exit 2 with the fix in the message)."""
    base = config.target.base_url
    host = urlsplit(base).hostname or base
    where = f" in {config.source}" if config.source else " in sloguard.yaml"
    if not config.allows_load:
        raise UsageError(
            f"refusing to load {base}: load runs only against loopback or a host listed in load.allow_hosts; "
            f"add {host!r} to load.allow_hosts{where} if this target is yours to load"
        )
    if config.target.environment == "production" and not config.load.allow_production:
        raise UsageError(
            f"refusing to load {base}: target.environment is production; load a staging or sandbox target, "
            f"or set load.allow_production: true{where} if a production load test is planned"
        )


def writes_allowed(config: Config) -> bool:
    """Load creates, changes and deletes data only on the reference platform or a sandbox."""
    return config.allows_side_effects and config.target.environment in WRITE_ENVIRONMENTS


def resolve(
    config: Config,
    profile: str,
    *,
    users: int | None = None,
    duration_s: float | None = None,
    scale: float = 1.0,
    workers: int = 0,
    rps: float | None = None,
) -> LoadPlan:
    """The steps of ``profile`` with the command line's overrides applied."""
    profiles = config.load.profiles
    if profile not in profiles:
        raise UsageError(f"unknown load profile {profile!r}; use one of {', '.join(sorted(profiles))}")
    if not (0 < scale <= 100) or not math.isfinite(scale):
        raise UsageError(f"--scale must be a factor in (0, 100], such as 0.1 for a small machine, got {scale}")
    if users is not None and users < 1:
        raise UsageError(f"--users must be 1 or more, got {users}")
    if duration_s is not None and duration_s <= 0:
        raise UsageError(f"--duration must be a positive number of seconds, got {duration_s}")
    if workers < 0:
        raise UsageError(f"--workers must be 0 (this process generates the load) or more, got {workers}")
    p = profiles[profile]
    rate = rps if rps is not None else p.rps
    mode: Mode = "open" if rate is not None else "closed"
    if users is not None:
        counts = [users]
    elif p.steps:
        counts = [max(1, round(n * scale)) for n in p.steps]
    else:
        assert p.users is not None  # the profile model requires users or steps
        counts = [max(1, round(p.users * scale))]
    hold = duration_s if duration_s is not None else (p.hold if p.steps and users is None else p.duration)
    if hold is None:
        hold = p.hold or 60.0
    spawn = p.spawn_rate or max(1.0, counts[0] / DEFAULT_RAMP_S)
    spawn = max(1.0, spawn * scale) if users is None else spawn
    targets = tuple(CapacityTarget(max(1, round(t.users * scale)), t.action) for t in config.load.targets)
    in_range = max((t.users for t in targets), default=max(counts))
    steps = tuple(
        StepPlan(i, n, float(hold), rate if mode == "open" else None, n <= in_range or mode == "open")
        for i, n in enumerate(counts)
    )
    login: Login = p.login or ("password" if config.auth.user is not None else "client_credentials")
    if login == "password" and config.auth.user is None:
        raise UsageError(f"profile {profile!r} logs in with the password grant but auth.user is not set; "
                         "set auth.user or the profile's login: client_credentials")
    if login != "none" and not config.auth.client_id:
        raise UsageError(f"profile {profile!r} logs in but auth.client_id is not set; set it or login: none")
    notes: list[str] = []
    if scale != 1.0:
        notes.append(f"scaled by {scale:g}: steps and the plan's targets are {scale:g}× the configured users")
    return LoadPlan(
        profile=profile, mode=mode, steps=steps, spawn_rate=float(spawn),
        think_time_s=(float(p.think_time_s[0]), float(p.think_time_s[1])),
        login=login, base_url=config.target.base_url, scale=scale, workers=workers,
        stop_at_break=p.stop_at_break, writes=writes_allowed(config), targets=targets,
        target_range_users=in_range, notes=tuple(notes),
    )
