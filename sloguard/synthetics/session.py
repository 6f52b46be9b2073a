"""One synthetic run's inputs: config, catalog and plan; and what it leaves: summary.json.

Shared by the pytest plugin and `sloguard check synthetics` / `sloguard catalog`, so the command
line and pytest can never plan or judge differently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from sloguard.catalog import Catalog, build_catalog
from sloguard.config import Config, load_config
from sloguard.errors import UsageError
from sloguard.spec import SpecError, load_spec

from . import report
from .plan import Plan, build_plan
from .runner import RunOutcome, run_plan


@dataclass
class SyntheticSession:
    config: Config
    catalog: Catalog | None
    plan: Plan
    read_only: bool
    reports_dir: Path
    unreachable: str | None = None

    def run(self, selected: Collection[str] | None = None) -> RunOutcome:
        return asyncio.run(run_plan(self.config, self.catalog, self.plan, selected=selected,
                                    read_only=self.read_only))

    def write_summary(self, outcome: RunOutcome) -> dict[str, Any]:
        return report.write_summary(self, outcome)


def target_reachable(base_url: str, *, verify: bool, timeout_s: float) -> str | None:
    """None when anything answers at the target; else why not (connection refused, timeout, ...)."""
    try:
        httpx.get(base_url.rstrip("/") + "/", timeout=min(timeout_s, 10.0), verify=verify)
        return None
    except httpx.ConnectError as exc:
        return f"cannot connect ({exc})"
    except httpx.TimeoutException:
        return "timed out"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"


def load_catalog(config: Config) -> Catalog:
    location = config.spec_location()
    source = location.url if location.kind == "url" else location.path
    assert source is not None
    spec = load_spec(str(source), headers=config.target.headers, verify=config.target.verify_tls,
                     timeout=config.target.timeout_s)
    cat = config.catalog
    overrides: dict[str, dict[str, Any]] = {}
    for key, override in cat.overrides.items():
        if override.safe is not None:
            overrides[key] = {"side_effects": not override.safe}
    return build_catalog(spec, integration_from=cat.integration_from, path_pattern=cat.path_pattern,
                         aliases=cat.aliases, include=cat.include, exclude=cat.exclude, overrides=overrides)


def open_session(
    config_path: str | Path | None, *, target: str | None = None, read_only: bool = False,
    reports_dir: str | Path | None = None,
) -> SyntheticSession:
    """Load config and catalog and plan the checks. Raises UsageError (exit 2) for bad input.

    An unreachable target is not a usage error: the plan is then the single "target reachable"
    check, which fails as P0 (platform down).
    """
    overrides: dict[str, Any] = {"target": {"base_url": target}} if target else {}
    config = load_config(config_path, overrides=overrides or None)
    read_only = read_only or not config.allows_side_effects
    location = config.spec_location()
    unreachable = None
    catalog: Catalog | None = None
    spec_on_target = location.kind == "url" and urlsplit(location.url or "").netloc == urlsplit(
        config.target.base_url).netloc
    if spec_on_target:
        unreachable = target_reachable(config.target.base_url, verify=config.target.verify_tls,
                                       timeout_s=config.target.timeout_s)
    if unreachable is None:
        try:
            catalog = load_catalog(config)
        except SpecError as exc:
            raise UsageError(str(exc)) from None
    https = config.target.base_url.startswith("https://")
    plan = build_plan(config, catalog, read_only=read_only, https=https)
    return SyntheticSession(config, catalog, plan, read_only, Path(reports_dir or config.reports.dir), unreachable)
