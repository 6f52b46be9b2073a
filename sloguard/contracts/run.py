"""A contract run: select and order the operations, log in, drive the engine in rounds, make results.

Selection: the contract exclusions (``contracts.exclude``; the reference profile excludes the Admin
tag, whose operations inject faults), the catalog's include/exclude, and read-only mode (production
without a sandbox tenant, ``--read-only``): only safe methods, and no undeclared-method probes.

Without a budget there is one engine run with every configured phase (the speed the benchmark
measures). With ``--budget`` round 1 reaches every operation (examples and one generated case each),
in criticality order; round 2 gives coverage, fuzzing and stateful to as many as fit, in the same
order, and stops at the deadline.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sloguard import redact
from sloguard.config.contracts import CHECKS
from sloguard.errors import UsageError
from sloguard.results import CheckResult, Finding, Status
from sloguard.severity import Rule
from sloguard.spec import MAX_SPEC_BYTES, SpecError, detect_version, parse_document
from sloguard.spec.source import Fetcher
from sloguard.target import Target

from . import auth as auth_mod
from . import budget as budget_mod
from . import engine
from .examples import example_problems
from .results import SUITE, documented_statuses, entry_for, to_result

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ROUND1_PHASES = ("examples", "fuzzing")


@dataclass
class ContractOptions:
    """Command-line choices over the config's ``contracts:`` section (None: the config's value)."""

    max_examples: int | None = None
    workers: int | None = None
    seed: int | None = None
    budget_s: float | None = None
    phases: Sequence[str] | None = None
    keyword: str | None = None  # only operations whose "METHOD /path" or operationId contains this
    suite_dir: Path | None = None  # the folder holding the team's schemathesis.toml
    started: float | None = None  # time.monotonic() when the command started: the budget counts from it


@dataclass
class ContractRun:
    results: list[CheckResult]
    started_at: datetime
    duration_s: float
    coverage: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def fetch_description(target: Target) -> tuple[dict[str, Any], str]:
    """The served description as a raw dict (Schemathesis resolves its own references)."""
    config = target.config
    location = config.spec_location()
    source = location.url if location.kind == "url" else str(location.path)
    assert source is not None
    fetcher = Fetcher(config.target.headers, config.target.verify_tls, config.target.timeout_s, MAX_SPEC_BYTES)
    try:
        data, hint = fetcher.read(source)
    finally:
        fetcher.close()
    doc = parse_document(data, source, hint)
    detect_version(doc, source)
    if not isinstance(doc.get("paths"), Mapping):
        raise SpecError(f"{redact.redact_source_url(source)}: no 'paths' object; this is not an OpenAPI description")
    return doc, source


def _ordered(doc: dict[str, Any], ranks: Mapping[str, int]) -> dict[str, Any]:
    """The document with its paths in criticality order (the engine tests in path order)."""
    paths = doc["paths"]

    def path_rank(path: str) -> int:
        return min((r for key, r in ranks.items() if key.split(" ", 1)[1] == path), default=budget_mod.REST)

    by_rank = {p: path_rank(p) for p in paths}
    return {**doc, "paths": {p: paths[p] for p in sorted(paths, key=lambda p: by_rank[p])}}


def _settings(target: Target, options: ContractOptions, out_dir: Path, *, phases: Sequence[str],
              max_examples: int, read_only: bool, seed: int, fixed_seed: bool, budgeted: bool) -> dict[str, Any]:
    """The schemathesis.toml-shaped settings of one round, from the config and the options."""
    cfg, contracts = target.config, target.config.contracts
    limit_ms = contracts.max_response_time_ms or cfg.slos.default.latency_p95_ms
    checks: dict[str, Any] = {name: {"enabled": name in contracts.checks} for name in CHECKS}
    checks.pop("max_response_time")
    if "max_response_time" in contracts.checks:
        checks["max_response_time"] = limit_ms / 1000
    coverage: dict[str, Any] = {"enabled": "coverage" in phases}
    if read_only:
        coverage["unexpected-methods"] = []
    # Under a budget the criticality order must hold; without one, Schemathesis' dependency order
    # (creates before reads) is the better one and the one a bare `schemathesis run` uses.
    ordering = {"operation-ordering": "none"} if budgeted else {}
    settings: dict[str, Any] = {
        "base-url": target.base_url + target.path_prefix,
        "workers": options.workers or contracts.workers,
        "request-timeout": contracts.request_timeout_s,
        "tls-verify": cfg.target.verify_tls,
        "cache": {"directory": str(out_dir / ".schemathesis")},
        "generation": {"max-examples": max_examples,
                       # A fixed seed reproduces only without replaying the example database's saved failures.
                       "database": "none" if fixed_seed else str(out_dir / ".hypothesis" / "examples")},
        "phases": {"examples": {"enabled": "examples" in phases, **ordering}, "coverage": {**coverage, **ordering},
                   "fuzzing": {"enabled": "fuzzing" in phases, **ordering},
                   "stateful": {"enabled": "stateful" in phases}},
        "checks": checks,
        "seed": seed,
    }
    if cfg.target.headers:
        settings["headers"] = dict(cfg.target.headers)
    return settings


def run_contracts(target: Target, options: ContractOptions | None = None) -> ContractRun:
    """Run the contract suite against ``target``; bad input is a UsageError (exit 2)."""
    import hypothesis.configuration

    options = options or ContractOptions()
    started_at, t0 = datetime.now(UTC), time.monotonic()
    config, contracts = target.config, target.config.contracts
    if target.catalog is None:
        raise UsageError(f"cannot load the OpenAPI description: target unreachable at "
                         f"{redact.redact_text(target.base_url)} ({target.unreachable}); start it or fix --target")
    for secret in config.secret_values():
        redact.register_secret(secret)
    reports = Path(config.reports.dir)
    out_dir = reports / "contracts"
    out_dir.mkdir(parents=True, exist_ok=True)
    hypothesis.configuration.set_hypothesis_home_dir(out_dir / ".hypothesis")

    doc, source = fetch_description(target)
    ops = budget_mod.operations_of(doc)
    previous = budget_mod.load_digests(reports)
    ordered = budget_mod.order(ops, previous)
    phases = list(options.phases or contracts.phases)
    max_examples = options.max_examples or contracts.max_examples
    fixed = options.seed if options.seed is not None else contracts.seed
    seed = fixed if fixed is not None else random.SystemRandom().randrange(2**32)
    budget_s = options.budget_s if options.budget_s is not None else contracts.budget
    clock = budget_mod.Clock(budget_s, started=options.started or t0)

    selected, skipped, reasons = _select(target, ordered, options.keyword)
    ranks = {op.key: budget_mod.rank(op, previous) for op in selected}
    runs = {op.key: engine.OperationRun(op.key, op.operation_id) for op in selected}
    first_auth: tuple[auth_mod.TargetAuth | None, auth_mod.Credential | None] = (None, None)
    if any(op.security for op in selected):
        first_auth = auth_mod.open_auth(target.auth_settings())
    team = engine.team_settings(_suite_folder(options.suite_dir))
    ordered_doc = _ordered(doc, ranks)
    chosen = [op.key for op in selected]

    def schema_for(round_phases: Sequence[str], examples: int) -> Any:
        settings = engine.merge(team, _settings(target, options, out_dir, phases=round_phases, max_examples=examples,
                                                read_only=target.read_only, seed=seed, fixed_seed=fixed is not None,
                                                budgeted=budget_s is not None))
        schema = engine.load_schema(ordered_doc, engine.schemathesis_config(settings), source)
        schema = engine.include_only(schema, chosen)
        auth, first = first_auth
        if auth is not None and first is not None:
            auth_mod.install(schema, auth, first)
        return schema

    def counts(phase: str, positive: bool) -> bool:
        return phase == "examples" and positive

    outcomes: list[engine.EngineOutcome] = []
    rounds: list[dict[str, Any]] = []
    if chosen:
        if budget_s is None:
            plan = [(1, phases, max_examples)]
        else:
            first = [p for p in phases if p in ROUND1_PHASES] or phases[:1]
            plan = [(1, first, 1)]
            rest = [p for p in phases if p not in ("examples",)]
            if rest:
                plan.append((2, rest, max_examples))
        for round_no, round_phases, examples in plan:
            if clock.spent:
                break
            t = time.monotonic()
            outcome = engine.execute(schema_for(round_phases, examples), runs, round_no=round_no,
                                     deadline=(lambda: clock.spent) if budget_s is not None else None, counts=counts)
            outcomes.append(outcome)
            rounds.append({"round": round_no, "phases": list(round_phases), "max_examples": examples,
                           "duration_s": round(time.monotonic() - t, 3), "stop_reason": outcome.stop_reason,
                           "operations": sum(1 for r in runs.values() if round_no in r.rounds),
                           **({"notes": outcome.notes} if outcome.notes else {})})
            if outcome.fatal:
                break
    budget_mod.save_digests(reports, ops, redact.redact_source_url(source))

    results = _results(target, doc, ordered, selected, skipped, runs, clock, outcomes, ranks)
    reached = sum(1 for r in runs.values() if r.rounds)
    unreached = [op.key for op in selected if not runs[op.key].rounds]
    why = "not reached within the budget" if clock.spent else "not tested (see its result)"
    coverage = {"checked": reached, "total": len(ops),
                "reasons": dict(sorted(_count(reasons, unreached, why).items()))}
    extra = {"contracts": {
        "seed": seed,
        "seed_fixed": fixed is not None,
        "replay": f"sloguard check contracts --seed {seed}",
        "max_examples": max_examples, "workers": options.workers or contracts.workers, "phases": phases,
        "budget_s": budget_s, "rounds": rounds, "operations": {"total": len(ops), "selected": len(selected),
                                                               "reached": reached},
        "order": [{"operation": op.key, "rank": budget_mod.RANK_NAMES[ranks[op.key]]} for op in selected[:20]],
        "logins": first_auth[0].logins if first_auth[0] is not None else 0,
        "schemathesis": _version(),
    }}
    # Hypothesis caches the literals of "local" modules (an editable checkout's sloguard/, the reference
    # platform's test credentials among them) to mix into inputs: a source cache, not run output, so it
    # does not stay in the reports folder where reports are checked for credentials.
    shutil.rmtree(out_dir / ".hypothesis" / "constants", ignore_errors=True)
    return ContractRun(results, started_at, time.monotonic() - t0, coverage, extra)


def _version() -> str:
    from schemathesis import __version__

    return __version__


def _suite_folder(given: Path | None) -> Path | None:
    """The team's contract suite folder: --suite, else ./contracts, else the one that ships."""
    import sloguard

    if given is not None:
        if not given.is_dir():
            raise UsageError(f"no contract suite at {given}: pass the folder holding schemathesis.toml to --suite")
        return given
    for path in (Path.cwd() / "contracts", Path(sloguard.__file__).resolve().parent / "contracts" / "suite"):
        if (path / "schemathesis.toml").is_file():
            return path
    return None


def _select(target: Target, ordered: list[budget_mod.OperationRef], keyword: str | None,
            ) -> tuple[list[budget_mod.OperationRef], dict[str, str], dict[str, str]]:
    """(selected, skipped with a reported reason, every unselected operation's reason).

    Operations outside ``-k`` or the catalog are only counted in the coverage; excluded and read-only
    ones are skipped results, so a report shows what the run was not allowed to touch."""
    contracts, catalog = target.config.contracts, target.catalog
    selected: list[budget_mod.OperationRef] = []
    skipped: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for op in ordered:
        pattern = contracts.excludes(op.operation_id, op.method, op.path, op.tags)
        entry = entry_for(catalog, op)
        if keyword and keyword.lower() not in f"{op.key} {op.operation_id or ''}".lower():
            reasons[op.key] = "not selected"
        elif catalog is not None and entry is not None and entry.operation_id in catalog.excluded:
            reasons[op.key] = f"not in the catalog ({catalog.excluded[entry.operation_id]})"
        elif pattern is not None:
            skipped[op.key] = reasons[op.key] = f"excluded by contracts.exclude {pattern!r}"
        elif target.read_only and op.method not in SAFE_METHODS:
            skipped[op.key] = reasons[op.key] = "read-only target: only safe methods are tested"
        else:
            selected.append(op)
    return selected, skipped, reasons


def _count(reasons: Mapping[str, str], unreached: list[str], why: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for reason in reasons.values():
        out[reason] = out.get(reason, 0) + 1
    if unreached:
        out[why] = len(unreached)
    return out


def _results(target: Target, doc: Mapping[str, Any], ordered: list[budget_mod.OperationRef],
             selected: list[budget_mod.OperationRef], skipped: Mapping[str, str],
             runs: Mapping[str, engine.OperationRun], clock: budget_mod.Clock,
             outcomes: list[engine.EngineOutcome], ranks: Mapping[str, int]) -> list[CheckResult]:
    results: list[CheckResult] = []
    chosen = {op.key for op in selected}
    for op in ordered:
        if op.key not in chosen and op.key not in skipped:
            continue
        raw = doc["paths"][op.path][op.method.lower()]
        reason = skipped.get(op.key) or ("not reached within the budget" if clock.spent else None)
        entry = entry_for(target.catalog, op)
        bad = example_problems(entry) if entry is not None and op.key in chosen else []
        results.append(to_result(op, runs.get(op.key), entry, skip_reason=reason, bad_examples=bad,
                                 documented=documented_statuses(raw),
                                 priority=budget_mod.RANK_NAMES[ranks[op.key]] if op.key in ranks else None))
    fatal = next((o.fatal for o in outcomes if o.fatal), None)
    run_errors = [e for o in outcomes for e in o.run_errors]
    if fatal or run_errors:
        message = fatal or run_errors[0]
        results.append(CheckResult(
            check_id="contract · engine", status=Status.ERROR, suite=SUITE, kind="contract",
            title="the contract engine ran to the end",
            findings=(Finding(Rule.CHECK_ERROR, f"the contract tool failed (a suite error, not a platform "
                                                f"failure): {message}"),),
            notes=tuple(run_errors[:10]), labels={"group": "engine", "story": "contract"},
        ))
    return results
