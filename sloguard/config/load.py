"""The `load:` section: load profiles (the built-in ones and a team's own), allowed hosts, resource triggers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import ConfigModel
from .values import Duration, as_pair


class LoadProfile(ConfigModel):
    users: int | None = Field(default=None, ge=1)
    steps: list[Annotated[int, Field(ge=1)]] | None = None
    hold: Duration | None = None
    duration: Duration | None = None
    spawn_rate: float | None = Field(default=None, gt=0)
    think_time_s: Annotated[tuple[float, float], BeforeValidator(as_pair)] = (1.0, 3.0)
    rps: float | None = Field(default=None, gt=0)

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
    "smoke": {"users": 10, "spawn_rate": 10, "duration": "30s", "think_time_s": [0.5, 1.0]},
    "capacity": {"steps": [1000, 2500, 5000, 10000], "hold": "5m", "spawn_rate": 100,
                 "think_time_s": [5, 15]},
    "soak": {"users": 1000, "spawn_rate": 50, "duration": "2h", "think_time_s": [5, 15]},
    "stress": {"steps": [1000, 2500, 5000, 10000, 15000, 20000], "hold": "2m", "spawn_rate": 200,
               "think_time_s": [1, 5]},
    "rate": {"users": 50, "rps": 200, "spawn_rate": 50, "duration": "2m", "think_time_s": [0, 0]},
}


class ResourceTriggers(ConfigModel):
    cpu_percent: float = Field(default=70.0, gt=0, le=100)
    memory_percent: float = Field(default=75.0, gt=0, le=100)


class LoadConfig(ConfigModel):
    allow_hosts: list[str] = Field(default_factory=list)
    triggers: ResourceTriggers = Field(default_factory=ResourceTriggers)
    profiles: dict[str, LoadProfile] = Field(default_factory=dict)

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
