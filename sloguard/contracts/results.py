"""Contract observations as the one results model: one `CheckResult` per operation.

Each root cause (operation × check × failure kind) is one finding, however many generated cases hit
it; its evidence is the first failing exchange (redacted, with its curl line), and the replay command
is that curl line. Traffic: every request is accounted for; only positive cases of the examples phase —
the description's own examples, the closest thing to real client traffic — count toward the SLOs
(docs/slo.md). Negative, coverage, fuzzed and stateful input never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sloguard.catalog import Catalog, Entry
from sloguard.results import CheckResult, Finding, Status, Traffic, request_outcome
from sloguard.results import Outcome as RequestOutcome
from sloguard.severity import Rule

from .budget import OperationRef
from .engine import Observed, OperationRun
from .severity import classify, rule_for, slow_is_failure

SUITE, KIND = "contracts", "contract"


def check_id(key: str) -> str:
    return f"contract · {key}"


def _integration(entry: Entry | None, ref: OperationRef) -> str:
    if entry is not None:
        return entry.integration
    return ref.tags[0].lower() if ref.tags else "platform"


def finding_of(observed: Observed, integration: str | None) -> Finding:
    classification = classify(observed.code, observed.check)
    rule = rule_for(classification, integration)
    cases = f" ({observed.cases} cases)" if observed.cases > 1 else ""
    message = f"{observed.check}: {classification.title}{cases} — {observed.message or observed.title}"
    if rule is Rule.SLOW_OPERATION:
        return Finding(rule, message, latency_only=True, warning=not slow_is_failure(observed.elapsed_s))
    return Finding(rule, message)


def to_result(ref: OperationRef, run: OperationRun | None, entry: Entry | None, *,
              skip_reason: str | None = None, documented: frozenset[int] = frozenset(),
              priority: str | None = None, bad_examples: Sequence[str] = ()) -> CheckResult:
    """One operation's contract result; ``skip_reason`` for operations the run did not test."""
    integration = _integration(entry, ref)
    base = dict(check_id=check_id(ref.key), suite=SUITE, kind=KIND, integration=integration,
                operation=ref.operation_id, method=ref.method, path=ref.path,
                title=f"{ref.key} keeps its contract")
    resource = entry.group if entry is not None else (ref.tags[0] if ref.tags else "")
    labels: dict[str, str] = {"group": resource, "story": "contract"}
    if priority:
        labels["priority"] = priority  # auth, health, changed or rest: the budget's order
    if run is None or (run.requests == 0 and not run.errors and not run.unreachable and not run.invalid):
        reason = skip_reason or ("; ".join(dict.fromkeys(run.skips)) if run and run.skips else "not reached")
        return CheckResult(status=Status.SKIPPED, skip_reason=reason, labels=labels, **base)  # type: ignore[arg-type]
    findings = [finding_of(o, integration) for o in run.failures.values()]
    notes: list[str] = []
    for message in run.unreachable[:1]:
        rule = Rule.INTEGRATION_DEGRADED if integration != "platform" else Rule.OPERATION_FAILED
        findings.append(Finding(rule, f"no answer: {message}"))
    for message in bad_examples:
        findings.append(Finding(Rule.COSMETIC_CONTRACT, f"examples: {message}"))
    for message in run.invalid[:1]:
        findings.append(Finding(Rule.CONTRACT_DRIFT, f"the description of {ref.key} is invalid, so no client can "
                                                     f"rely on it: {message}"))
    for message in run.errors[:3]:
        notes.append(f"suite error: {message}")
    failures = [f for f in findings if not f.warning]
    if failures:
        status = Status.FAILED
    elif run.errors:
        status = Status.ERROR
        findings.append(Finding(Rule.CHECK_ERROR, f"the contract tool could not test {ref.key}: {run.errors[0]}"))
    else:
        status = Status.PASSED
    evidence = [o.exchange for o in run.failures.values() if o.exchange is not None]
    if not evidence and run.sample is not None:
        evidence = [run.sample]
    for o in run.failures.values():
        if o.exchange is not None:
            notes.append(f"replay ({o.check}): {o.exchange.curl()}")
    labels["checks"] = ",".join(sorted({o.check for o in run.failures.values()}))
    labels["phases"] = ",".join(p for p in ("examples", "coverage", "fuzzing", "stateful") if p in run.phases)
    labels["rounds"] = str(len(run.rounds))
    labels["inputs"] = run.inputs.hexdigest()[:16]
    return CheckResult(
        status=status, findings=tuple(findings), traffic=traffic_of(run, documented), evidence=tuple(evidence),
        notes=tuple(notes), started_at=datetime.fromtimestamp(run.started, UTC),
        duration_ms=max(0.0, (run.finished - run.started) * 1000), labels=labels, **base,  # type: ignore[arg-type]
    )


def traffic_of(run: OperationRun, documented: frozenset[int]) -> Traffic:
    """All requests; the examples phase's positive ones count toward the SLOs.

    A counted request is an error when its status is undocumented or its answer broke the contract,
    unavailable on 5xx/429/no answer (`sloguard.results.request_outcome`)."""
    errors = unavailable = 0
    latencies: list[float] = []
    for status, ms, broken in run.counted:
        outcome = request_outcome(status, documented or None)
        if outcome is RequestOutcome.UNAVAILABLE:
            unavailable += 1
        if outcome is not RequestOutcome.OK or broken:
            errors += 1
        if status is not None:
            latencies.append(ms)
    counted = len(run.counted)
    return Traffic(requests=max(run.requests, counted), slo_requests=counted, errors=errors,
                   unavailable=unavailable, latencies_ms=tuple(latencies))


def documented_statuses(op: Mapping[str, object]) -> frozenset[int]:
    """The statuses a positive request may get: documented 1xx-3xx, and a documented 404 (an example id
    that does not exist in this tenant)."""
    out: set[int] = set()
    responses = op.get("responses")
    for code in responses if isinstance(responses, Mapping) else ():
        text = str(code)
        if text.isdigit() and (int(text) < 400 or int(text) == 404):
            out.add(int(text))
    return frozenset(out)


def entry_for(catalog: Catalog | None, ref: OperationRef) -> Entry | None:
    if catalog is None:
        return None
    return (catalog.get(ref.operation_id) if ref.operation_id else None) or catalog.by_route(ref.method, ref.path)
