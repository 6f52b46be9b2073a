"""Schemathesis' engine, driven in-process: its configuration, its schema and its event stream.

The in-process engine (`schemathesis.engine.from_schema(schema).execute()`) is what `schemathesis run`
itself drives, so a contract run costs what the CLI costs (docs/contracts.md has the measurement), and
its events carry every case, response and check result — no report file to parse, no subprocess.
What comes out here is `OperationRun` records: per operation, the requests sent, those that count
toward the SLOs, and one `Observed` failure per root cause (operation × check × failure kind), with
the first failing case's exchange as evidence.
"""

from __future__ import annotations

import hashlib
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sloguard import redact
from sloguard.errors import UsageError
from sloguard.results import Exchange, TransportErrorKind

if TYPE_CHECKING:
    from schemathesis.core.transport import Response
    from schemathesis.engine.recorder import ScenarioRecorder
    from schemathesis.schemas import BaseSchema


@dataclass
class Observed:
    """One root cause on one operation: the first failing case, and how many cases hit it."""

    check: str
    code: str
    title: str
    message: str
    phase: str
    exchange: Exchange | None
    elapsed_s: float = 0.0
    code_sample: str = ""
    cases: int = 1


@dataclass
class OperationRun:
    """What the engine did on one operation, over every phase and round."""

    key: str  # "GET /api/slack/messages"
    operation_id: str | None = None
    requests: int = 0
    counted: list[tuple[int | None, float, bool]] = field(default_factory=list)  # (status, ms, contract broken)
    failures: dict[tuple[str, str], Observed] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the tool could not test it (suite error)
    invalid: list[str] = field(default_factory=list)  # its description is invalid: the contract's own defect
    unreachable: list[str] = field(default_factory=list)  # no answer (timeout, connection): the platform's
    phases: set[str] = field(default_factory=set)
    skips: list[str] = field(default_factory=list)
    rounds: set[int] = field(default_factory=set)
    sample: Exchange | None = None  # one passing exchange, for the report
    inputs: Any = field(default_factory=hashlib.sha256)  # digest of every request sent: a seed replays it
    started: float = field(default_factory=time.time)
    finished: float = field(default_factory=time.time)


@dataclass
class EngineOutcome:
    stop_reason: str = "completed"
    fatal: str | None = None  # the engine itself crashed
    run_errors: list[str] = field(default_factory=list)  # errors not tied to one operation
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- configuration


def team_settings(folder: Path | None) -> dict[str, Any]:
    """The team's ``schemathesis.toml`` (in the contract suite folder), as a dict; {} without one."""
    if folder is None:
        return {}
    path = folder / "schemathesis.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({exc}); fix the file or remove it") from None
    hooks = data.get("hooks")
    if isinstance(hooks, str) and hooks.endswith(".py") and not Path(hooks).is_absolute():
        data["hooks"] = str(folder / hooks)  # a hooks file beside schemathesis.toml, wherever sloguard runs
    return data


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) \
            else value
    return out


def schemathesis_config(settings: Mapping[str, Any]) -> Any:
    """A SchemathesisConfig from a schemathesis.toml-shaped dict; a bad key is a usage error."""
    from schemathesis.config import ConfigError, SchemathesisConfig

    try:
        return SchemathesisConfig.from_dict(dict(settings))
    except ConfigError as exc:
        detail = " ".join(line.strip(" -") for line in str(exc).splitlines() if line.strip())
        raise UsageError(f"contract settings (schemathesis.toml or contracts:): {detail}; see docs/contracts.md") \
            from None


def load_schema(raw: Mapping[str, Any], config: Any, source: str) -> BaseSchema:
    """The Schemathesis schema of an already-fetched description; an invalid one is a usage error."""
    import schemathesis
    from schemathesis.core.errors import InvalidSchema, LoaderError

    try:
        return schemathesis.openapi.from_dict(dict(raw), config=config)
    except (InvalidSchema, LoaderError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        raise UsageError(f"{source}: not a valid OpenAPI description ({message.splitlines()[0]}); fix the "
                         "description or point target.openapi at the right one") from None


# ---------------------------------------------------------------- running


def execute(schema: BaseSchema, runs: dict[str, OperationRun], *, round_no: int,
            deadline: Callable[[], bool] | None = None, counts: Callable[[str, bool], bool]) -> EngineOutcome:
    """Run the engine over ``schema``, folding its events into ``runs``; stop when ``deadline()`` says so.

    ``counts(phase, positive)`` says whether a request of that phase and mode counts toward the SLOs.
    """
    from schemathesis.engine import events, from_schema

    outcome = EngineOutcome()
    stream = from_schema(schema).execute()
    stopping = False
    try:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                _fold(event.recorder, runs, round_no, event.phase.value, counts)
                if event.skip_reason and event.label in runs and not runs[event.label].requests:
                    runs[event.label].skips.append(event.skip_reason)
            elif isinstance(event, events.NonFatalError):
                _error(event, runs, outcome)
            elif isinstance(event, events.FatalError):
                outcome.fatal = _one_line(event.exception)
            elif isinstance(event, events.EngineFinished) and not stopping:
                outcome.stop_reason = str(event.stop_reason.value)
            elif isinstance(event, events.Interrupted) and not stopping:
                outcome.stop_reason = "interrupted"
            if not stopping and deadline is not None and deadline():
                stream.stop()
                stopping = True
                outcome.stop_reason = "budget"
    except Exception as exc:  # the engine crashed (e.g. inside Hypothesis): a suite error, never a finding
        outcome.fatal = _one_line(exc)
    finally:
        stream.stop()
    return outcome


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return redact.redact_text(f"{type(exc).__name__}: {text[0] if text else 'no message'}")


def _error(event: Any, runs: dict[str, OperationRun], outcome: EngineOutcome) -> None:
    import requests
    from schemathesis.core.errors import InvalidSchema, NoLinksFound

    if isinstance(event.value, NoLinksFound):  # stateful phase not applicable to this selection: not an error
        outcome.notes.append("stateful phase skipped: no OpenAPI links between the selected operations")
        return
    lines = str(event.info).strip().splitlines()
    message = redact.redact_text(f"{event.info.title}: {lines[0] if lines else type(event.value).__name__}")
    run = runs.get(event.label) if event.related_to_operation else None
    if run is None:
        outcome.run_errors.append(f"{event.label}: {message}")
        return
    if isinstance(event.value, InvalidSchema):
        run.invalid.append(redact.redact_text(event.value.message.strip().splitlines()[0]))
        return
    network = isinstance(event.value, requests.RequestException) or event.info.title == "Unresponsive Operation"
    (run.unreachable if network else run.errors).append(message)


def _fold(recorder: ScenarioRecorder, runs: dict[str, OperationRun], round_no: int, phase: str,
          counts: Callable[[str, bool], bool]) -> None:
    from schemathesis import GenerationMode
    from schemathesis.engine import Status

    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if node is None:
            continue
        case = node.value
        key = f"{case.operation.method.upper()} {case.operation.path}"
        run = runs.get(key)
        if run is None:
            continue
        run.requests += 1
        request = interaction.request
        run.inputs.update(f"{request.method} {request.uri}\n".encode() + (request.body or b"") + b"\n")
        run.rounds.add(round_no)
        run.phases.add(phase)
        run.finished = time.time()
        response = interaction.response
        checks = recorder.checks.get(case_id, [])
        failing = [c for c in checks if c.status == Status.FAILURE and c.failure_info is not None]
        meta = case.meta
        positive = meta is None or meta.generation.mode == GenerationMode.POSITIVE
        # A case a check derived (ignored_auth's request without credentials, use_after_free's read) is
        # that check's probe, never client-like traffic.
        derived = node.parent_id is not None and node.transition is None
        if counts(phase, positive and not derived):
            broken = any(c.name != "max_response_time" for c in failing)
            status = response.status_code if response is not None else None
            elapsed = response.elapsed * 1000 if response is not None else 0.0
            run.counted.append((status, elapsed, broken))
        for check in failing:
            info = check.failure_info
            assert info is not None
            failure = info.failure
            root = (check.name, failure.code)
            if root in run.failures:
                run.failures[root].cases += 1
                continue
            target_id = failure.case_id or case_id
            evidence = recorder.interactions.get(target_id)
            exchange = exchange_of(evidence.request, evidence.response) if evidence is not None else None
            run.failures[root] = Observed(
                check=check.name, code=failure.code, title=failure.title or failure.kind_title,
                message=redact.redact_text(" ".join((failure.message or "").split())[:500]),
                phase=phase, exchange=exchange,
                elapsed_s=evidence.response.elapsed if evidence is not None and evidence.response else 0.0,
                code_sample=redact.redact_text(info.code_sample or ""),
            )
        if not failing and run.sample is None and response is not None and positive:
            run.sample = exchange_of(interaction.request, response)


def exchange_of(request: Any, response: Response | None) -> Exchange:
    """The results model's exchange (redacted when built) from Schemathesis' recorded request/response."""
    headers = {k: ", ".join(v) if isinstance(v, list) else str(v) for k, v in request.headers.items()}
    if response is None:
        return Exchange.record(request.method, request.uri, headers, request.body, None,
                               transport=TransportErrorKind.CONNECT, error="no answer")
    return Exchange.record(
        request.method, request.uri, headers, request.body, response.status_code,
        {k: ", ".join(v) for k, v in response.headers.items()}, response.content,
        latency_ms=response.elapsed * 1000,
    )


def include_only(schema: BaseSchema, keys: Iterable[str]) -> BaseSchema:
    wanted = frozenset(keys)
    return schema.include(lambda ctx: ctx.operation.label in wanted)
