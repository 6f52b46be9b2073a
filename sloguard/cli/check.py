"""`sloguard check ...` and `sloguard catalog`: the synthetic and contract suites from the command line."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sloguard.contracts.budget import parse_budget
from sloguard.errors import UsageError
from sloguard.reports.allure_writer import clean as clean_allure
from sloguard.severity import Severity

if TYPE_CHECKING:
    from sloguard.contracts.run import ContractOptions
    from sloguard.results import CheckResult
    from sloguard.summary import RunSummary
    from sloguard.target import Target

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
    dry_run: bool = False, err: bool = False, alerts: bool = True, runs: list[RunSummary] | None = None,
) -> tuple[int, dict[str, object] | None]:
    """Plan (exit 2 on bad input), then run the suite under pytest; returns (exit code, summary).

    ``alerts=False`` leaves delivery to the caller (`check all` delivers once for both suites);
    ``runs`` receives the run's `RunSummary`."""
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
            "-W", "ignore::DeprecationWarning", "-W", "ignore::pytest.PytestAssertRewriteWarning",
            # Its clean-up runs five full garbage collections over the run's evidence (~0.2 s); an
            # exception ignored in a destructor is no verdict on the platform.
            "-p", "no:unraisableexception"]
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
    if runs is not None and session.last_run is not None:
        runs.append(session.last_run)
    if alerts:
        deliver(session.config, session.last_run, suite="synthetics", dry_run=dry_run, err=err)
    return code, summary


def run_contract_suite(
    config: Path | None, target: str | None, read_only: bool, *, options: ContractOptions | None = None,
    fail_on: str | None = None, dry_run: bool = False, err: bool = False, after: RunSummary | None = None,
) -> tuple[int, dict[str, object]]:
    """The contract suite; with ``after`` (the synthetic run of `check all`), one summary for both."""
    from sloguard.contracts import run_contracts
    from sloguard.contracts.report import summarize, write_outputs

    if options is not None and options.started is None:
        options.started = time.monotonic()
    from sloguard.summary import human_summary
    from sloguard.target import Target, open_config

    severity = _severity(fail_on)
    platform = Target.open(open_config(config, target=target), read_only=read_only)
    check_alerting(platform.config)
    run = run_contracts(platform, options)
    if platform.config.checks.drift:
        from sloguard.contracts.drift import live_drift

        run.results.extend(live_drift(platform, "contracts"))
    write_outputs(platform, run.results, clean_allure=after is None)
    earlier = after.records.snapshot() if after is not None else []
    started = min(after.document.get("started_at", run.started_at.isoformat()), run.started_at.isoformat()) \
        if after is not None else run.started_at.isoformat()
    duration = run.duration_s + (float(after.document.get("duration_s", 0.0)) if after is not None else 0.0)
    coverage = run.coverage if after is None else _combined_coverage(platform, [*earlier, *run.results], after)
    summary = summarize(platform, [*earlier, *run.results], suite="all" if after is not None else "contracts",
                        started_at=datetime.fromisoformat(str(started)), duration_s=duration,
                        coverage=coverage, fail_on=severity, extra=run.extra)
    for line in human_summary(summary.document):
        typer.echo(line.plain, err=err)
    contracts = run.extra.get("contracts", {})
    typer.echo(f"contracts: seed {contracts.get('seed')} (replay: sloguard check contracts --seed "
               f"{contracts.get('seed')}) · reports in {platform.config.reports.dir}/", err=err)
    deliver(platform.config, summary, suite="all" if after is not None else "contracts", dry_run=dry_run, err=err)
    return summary.exit_code, dict(summary.document)


def _combined_coverage(platform: Target, results: list[CheckResult], synthetic: RunSummary) -> dict[str, object]:
    """Operations of the catalog that either suite checked; the synthetic run's reasons for the rest."""
    from sloguard.results import Status

    catalog = platform.catalog
    if catalog is None:
        return dict(synthetic.document.get("coverage") or {})
    known = {e.operation_id for e in catalog.all_entries}
    checked = {r.operation for r in results if r.operation in known
               and r.status not in (Status.SKIPPED, Status.INCONCLUSIVE)}
    reasons = dict((synthetic.document.get("coverage") or {}).get("reasons") or {})
    return {"checked": len(checked), "total": len(known), "reasons": reasons if len(checked) < len(known) else {}}


def check(
    suite: Annotated[str, typer.Argument(help="synthetics | contracts | all")],
    config: ConfigOpt = None,
    target: TargetOpt = None,
    read_only: ReadOnlyOpt = False,
    keyword: Annotated[str | None, typer.Option(
        "-k", help="Synthetics: a pytest -k expression; contracts: operations whose 'METHOD /path' or "
                   "operationId contains this.")] = None,
    suite_dir: Annotated[Path | None, typer.Option("--suite", help="The suite folder to run.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json instead of the human summary.")] = False,
    fail_on: FailOnOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the alerts that would be sent; send none.")] = False,
    budget: Annotated[str | None, typer.Option(
        "--budget", help="Contracts: wall-clock budget such as 2m or 90s; every operation is reached once "
                         "before any gets a second round.")] = None,
    max_examples: Annotated[int | None, typer.Option(
        "--max-examples", min=1, help="Contracts: generated cases per operation and phase (contracts.max_examples).")
    ] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, max=16, help="Contracts: concurrent engine workers (contracts.workers, 1).")] = None,
    seed: Annotated[int | None, typer.Option(
        "--seed", min=0, help="Contracts: fixed seed; the same seed replays the same cases.")] = None,
    phases: Annotated[str | None, typer.Option(
        "--phases", help="Contracts: comma-separated phases (examples,coverage,fuzzing,stateful).")] = None,
) -> None:
    """Run checks against the target.

    Exit 0: every SLO met and no failure at or above --fail-on (checks.fail_on, P1 by default: P0/P1
    fail a release, P2/P3 are reported); 1: a check or an SLO failed; 2: bad input (usage, config, spec).
    """
    started = time.monotonic()
    if suite not in SUITES:
        raise UsageError(f"unknown suite {suite!r}; use one of {', '.join(SUITES)}")
    _severity(fail_on)
    budget_s, chosen_phases = parse_budget(budget), _phases(phases)  # bad input is refused for any suite
    with _fewer_collections(), contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        if suite == "synthetics":  # without importing the contract engine (Schemathesis, Hypothesis)
            code, summary = run_synthetics(config, target, read_only, suite=suite_dir, keyword=keyword,
                                           fail_on=fail_on, dry_run=dry_run, err=as_json)
        elif suite == "contracts":
            options = _contract_options(max_examples, workers, seed, budget_s, chosen_phases, keyword, suite_dir,
                                        started)
            code, summary = run_contract_suite(config, target, read_only, options=options, fail_on=fail_on,
                                               dry_run=dry_run, err=as_json)
        else:
            options = _contract_options(max_examples, workers, seed, budget_s, chosen_phases, None, None, None)
            runs: list[RunSummary] = []
            run_synthetics(config, target, read_only, suite=suite_dir, keyword=keyword, fail_on=fail_on,
                           dry_run=dry_run, err=as_json, alerts=False, runs=runs)
            code, summary = run_contract_suite(config, target, read_only, options=options, fail_on=fail_on,
                                               dry_run=dry_run, err=as_json, after=runs[0] if runs else None)
    if as_json:  # the human output went to stderr, so stdout is only the machine summary
        typer.echo(json.dumps(summary or {}, indent=2))
    raise typer.Exit(code)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A run keeps nearly everything it makes (evidence, results) until its summary is written, so the
    collector's default pace (a pass every 700 new objects, a full one over the growing heap every
    ~70,000) found little to free and cost ~0.4 s of a sweep; 14 times fewer passes, same memory."""
    saved = gc.get_threshold()
    gc.set_threshold(10_000, *saved[1:])
    try:
        yield
    finally:
        gc.set_threshold(*saved)


def _contract_options(max_examples: int | None, workers: int | None, seed: int | None, budget_s: float | None,
                      phases: list[str] | None, keyword: str | None, suite_dir: Path | None,
                      started: float | None) -> ContractOptions:
    from sloguard.contracts.run import ContractOptions

    return ContractOptions(max_examples=max_examples, workers=workers, seed=seed, budget_s=budget_s, phases=phases,
                           keyword=keyword, suite_dir=suite_dir, started=started)


def _phases(value: str | None) -> list[str] | None:
    if value is None:
        return None
    from sloguard.config.contracts import PHASES

    names = [p.strip() for p in value.split(",") if p.strip()]
    unknown = [p for p in names if p not in PHASES]
    if unknown or not names:
        raise UsageError(f"--phases: unknown phase {(unknown or [value])[0]!r}; use any of {', '.join(PHASES)}")
    return names


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
