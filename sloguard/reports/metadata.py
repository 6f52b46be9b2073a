"""What a results folder needs beside the results for a useful Allure report.

`write_allure_metadata` is the one call a runner makes after writing its results (and that
`sloguard report` makes for results that lack it): ``environment.properties`` (target, platform
version, sloguard version, commit), ``executor.json`` (the CI build) and ``categories.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sloguard.results import write_atomic

from . import categories as categories_mod
from . import environment as environment_mod
from .executor import FILENAME as EXECUTOR_FILE
from .executor import Executor, detect_executor


@dataclass
class AllureMetadata:
    """What was written (or found already written) in the results folder."""

    environment: dict[str, str]
    executor: Executor | None
    categories: list[dict[str, Any]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


def write_allure_metadata(
    alluredir: str | Path,
    *,
    target: str,
    reports_dir: str | Path | None = None,
    platform_version: str | None = None,
    openapi: str | Path = "/api/v1/openapi.json",
    headers: Mapping[str, str] | None = None,
    verify_tls: bool = True,
    extra: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    overwrite: bool = True,
) -> AllureMetadata:
    """Write environment, executor and categories into ``alluredir``.

    ``platform_version`` skips asking the target (a runner that has the catalog knows it); otherwise
    the target's OpenAPI ``info.version`` or ``/health`` is read, and an unreachable target only makes
    the version "unknown". ``extra`` adds environment lines (suite, environment name, …).
    Categories come from ``<reports_dir>/categories.json`` when the team has one, else the defaults.
    With ``overwrite=False`` files already in the folder (a runner's own) are kept.
    """
    folder = Path(alluredir)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    env_path = folder / environment_mod.FILENAME
    if overwrite or not env_path.is_file():
        version = platform_version or environment_mod.platform_version(
            target, openapi, headers=headers, verify_tls=verify_tls)
        values = environment_mod.environment(
            target, platform=version, commit=environment_mod.git_commit(env=env), extra=extra)
        written.append(write_atomic(env_path, environment_mod.properties_text(values)))
    else:
        values = {}

    executor: Executor | None = None
    executor_path = folder / EXECUTOR_FILE
    if overwrite or not executor_path.is_file():
        executor = detect_executor(env)
        written.append(write_atomic(executor_path, json.dumps(executor.to_allure(), indent=2) + "\n"))

    categories = categories_mod.load_categories(Path(reports_dir) if reports_dir is not None else None)
    written.append(categories_mod.write_categories(folder, categories))
    return AllureMetadata(environment=values, executor=executor, categories=categories, written=written)
