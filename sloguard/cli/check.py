"""`sloguard check ...` and `sloguard catalog`: the synthetic suite from the command line."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from sloguard.errors import UsageError
from sloguard.reports.allure_writer import clean as clean_allure
from sloguard.severity import Severity

from .runs import check_alerting, deliver

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="sloguard.yaml (default: ./sloguard.yaml)")]
TargetOpt = Annotated[str | None, typer.Option("--target", help="Base URL of the platform (overrides the config).")]
ReadOnlyOpt = Annotated[bool, typer.Option("--read-only", help="Never create, change or delete data.")]
FailOnOpt = Annotated[str | None, typer.Option(
    "--fail-on", help="The least severe failure that fails the run: P0, P1, P2 or P3 (default: checks.fail_on, P1).")]

SUITES = ("synthetics", "contracts", "all")
AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def find_suite(name: str, given: Path | None) -> Path:
    """The suite folder: --suite, else ./<name> (a team's editable copy), else the one that ships
    inside the package, so an installed sloguard runs from any folder."""
    import sloguard

    if given is not None:
        if (given / "conftest.py").is_file():
            return given
        raise UsageError(f"no {name} suite at {given} (no conftest.py there): pass the suite's folder to --suite")
    for path in (Path.cwd() / name, Path(sloguard.__file__).resolve().parent / name / "suite"):
        if (path / "conftest.py").is_file():
            return path
    raise UsageError(f"the {name} suite that ships with sloguard is missing: reinstall sloguard")


def run_synthetics(
    config: Path | None, target: str | None, read_only: bool, *, suite: Path | None = None,
    keyword: str | None = None, quiet: bool = True, extra: list[str] | None = None, fail_on: str | None = None,
    dry_run: bool = False, err: bool = False,
) -> tuple[int, dict[str, object] | None]:
    """Plan (exit 2 on bad input), then run the suite under pytest; returns (exit code, summary)."""
    import pytest

    from sloguard.synthetics import plugin
    from sloguard.synthetics.session import open_session

    session = open_session(config, target=target, read_only=read_only, fail_on=_severity(fail_on))
    check_alerting(session.config)
    suite_dir = find_suite("synthetics", suite)
    reports = session.reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    remover = clean_allure(reports / "allure-results")
    args = [str(suite_dir), "-p", "no:cacheprovider", "--rootdir", str(suite_dir),
            "--alluredir", str(reports / "allure-results"),
            "--junitxml", str(reports / "junit.xml"), "-o", "junit_family=xunit2", "--no-header",
            "-W", "ignore::DeprecationWarning", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args += ["-q"] if quiet else []
    args += ["-k", keyword] if keyword else []
    args += extra or []
    # Only the plugins the suite needs: autoloading every installed one (Locust's pulls in gevent,
    # Schemathesis' hypothesis) costs ~2 s per run; Allure results are written from the results model
    # (one writer for every suite). `pytest synthetics` keeps the usual autoload and allure-pytest.
    saved = os.environ.get(AUTOLOAD)
    os.environ[AUTOLOAD] = "1"
    plugin.PRESET_SESSION = session
    try:
        code = int(pytest.main(args))
    finally:
        plugin.PRESET_SESSION = None
        if saved is None:
            os.environ.pop(AUTOLOAD, None)
        else:
            os.environ[AUTOLOAD] = saved
    if remover is not None:
        remover.join(timeout=60)
    summary_path = reports / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    if code == 5:
        raise UsageError(f"no check matched{f' -k {keyword!r}' if keyword else ''}; see `sloguard catalog`")
    if code not in (0, 1):
        raise UsageError(f"pytest stopped with exit code {code} (interrupted or a usage error above)")
    deliver(session.config, session.last_run, suite="synthetics", dry_run=dry_run, err=err)
    return code, summary


def check(
    suite: Annotated[str, typer.Argument(help="synthetics | contracts | all")],
    config: ConfigOpt = None,
    target: TargetOpt = None,
    read_only: ReadOnlyOpt = False,
    keyword: Annotated[str | None, typer.Option("-k", help="Only checks matching this pytest -k expression.")] = None,
    suite_dir: Annotated[Path | None, typer.Option("--suite", help="The suite folder to run.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json instead of the human summary.")] = False,
    fail_on: FailOnOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the alerts that would be sent; send none.")] = False,
) -> None:
    """Run checks against the target.

    Exit 0: every SLO met and no failure at or above --fail-on (checks.fail_on, P1 by default: P0/P1
    fail a release, P2/P3 are reported); 1: a check or an SLO failed; 2: bad input (usage, config, spec).
    """
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    if suite == "contracts":
        raise UsageError("the contract suite is not built yet; run `sloguard check synthetics`")
    _severity(fail_on)
    if as_json:  # the human output goes to stderr, so stdout is only the machine summary
        with contextlib.redirect_stdout(sys.stderr):
            code, summary = run_synthetics(config, target, read_only, suite=suite_dir, keyword=keyword,
                                           fail_on=fail_on, dry_run=dry_run, err=True)
        typer.echo(json.dumps(summary or {}, indent=2))
    else:
        code, summary = run_synthetics(config, target, read_only, suite=suite_dir, keyword=keyword, fail_on=fail_on,
                                       dry_run=dry_run)
    raise typer.Exit(code)


def _severity(value: str | None) -> Severity | None:
    if value is None:
        return None
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise UsageError(f"--fail-on: {exc}") from None


def catalog(
    config: ConfigOpt = None,
    target: TargetOpt = None,
    read_only: ReadOnlyOpt = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalog.")] = False,
) -> None:
    """Print the catalog grouped by integration, with what will be checked and why the rest is not."""
    from sloguard.synthetics.plan import build_plan
    from sloguard.target import Target, open_config

    from .render import print_catalog

    platform = Target.open(open_config(config, target=target), read_only=read_only)
    if platform.catalog is None:
        raise UsageError(f"target unreachable: {platform.base_url} ({platform.unreachable})")
    plan = build_plan(platform.config, platform.catalog, read_only=platform.read_only, https=platform.https)
    kinds = [s.kind for s in plan.specs]
    extra = (f"plus {kinds.count('security')} security probes and {kinds.count('oauth')} OAuth flow checks"
             + (" (read-only: side-effecting checks skipped)" if platform.read_only else ""))
    print_catalog(platform, set(plan.covered), plan.reasons, extra, as_json=as_json)
