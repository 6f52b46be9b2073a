"""Allure result files written from the results model: one writer for every suite.

Synthetics, contract and load runs all end as `CheckResult` records with their findings and evidence,
so one writer gives every suite the same labels (epic = integration, feature = resource, story = check
kind, severity, P0–P3 tag, rule), the same steps (one per request, with the request, the response and
a curl line) and the same failure messages (``[P0 SECURITY_BREACH] …``, what the Allure categories
match on). Writing them here instead of through allure-pytest's per-test hooks is what keeps the
reporting of a 1,400-check sweep from costing more than the sweep.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from sloguard import redact
from sloguard.results import CheckResult, Exchange, Status
from sloguard.severity import Rule, Severity

ALLURE_SEVERITY = {Severity.P0: "blocker", Severity.P1: "critical", Severity.P2: "normal", Severity.P3: "minor"}
ALLURE_STATUS = {
    Status.PASSED: "passed",
    Status.FLAKY: "passed",  # with statusDetails.flaky: Allure's own flaky mark
    Status.FAILED: "failed",
    Status.ERROR: "broken",  # the check itself broke: a suite error, not a platform failure
    Status.SKIPPED: "skipped",
    Status.INCONCLUSIVE: "unknown",  # it ran and decided nothing: never passed
}
STORIES = {
    "platform": "reachability", "endpoint": "endpoint sweep", "crud": "create → read → update → delete",
    "action": "side-effecting action", "security": "security probe", "oauth": "OAuth flow",
    "health": "integration health", "sync": "data sync", "tls": "TLS certificate", "contract": "contract",
    "load": "load step", "custom": "team check",
}
SLO_KINDS = frozenset({"endpoint", "crud", "action", "health"})
_DETAILED = frozenset({Status.FAILED, Status.FLAKY, Status.ERROR, Status.INCONCLUSIVE})


class _Folder:
    """Writes files into the results folder without a temp-and-rename per file: Allure reads the
    folder only after the run, and a run writes thousands of them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.files = 0

    def write(self, name: str, data: bytes) -> None:
        fd = os.open(self.path / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        self.files += 1

    def attach(self, name: str, text: str, mime: str = "text/plain", ext: str = "txt", *,
               redacted: bool = False) -> dict[str, str]:
        """Write one attachment; text that is not known to be redacted goes through the redactor."""
        source = f"{uuid.uuid4().hex}-attachment.{ext}"
        self.write(source, (text if redacted else redact.redact_text(text)).encode("utf-8"))
        return {"name": name, "source": source, "type": mime}

    def attach_file(self, name: str, path: Path, mime: str) -> dict[str, str] | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        source = f"{uuid.uuid4().hex}-attachment{path.suffix or '.bin'}"
        self.write(source, data)
        return {"name": name, "source": source, "type": mime}


def _millis(result: CheckResult) -> tuple[int, int]:
    start = int(result.started_at.timestamp() * 1000)
    return start, start + int(result.duration_ms or 0)


# What a failure of a check of this kind would mean, for results that do not say (labels["rule"]).
_DEFAULT_RULE = {"contract": Rule.CONTRACT_DRIFT, "security": Rule.SECURITY_BREACH, "oauth": Rule.AUTH_FAILURE}


def _rule_of(result: CheckResult) -> Rule | None:
    """The rule a result is filed under: its worst failure's, else the one its check stands for, so a
    passing security probe is still a blocker-severity test in the report."""
    worst = result.worst
    if worst is not None:
        return worst.rule
    named = result.labels.get("rule")
    if named:
        try:
            return Rule.parse(named)
        except ValueError:
            return None
    return _DEFAULT_RULE.get(result.kind)


def _labels(result: CheckResult) -> list[dict[str, str]]:
    worst = result.worst
    rule = _rule_of(result)
    severity = worst.severity if worst is not None else rule.severity if rule is not None else None
    labels = {
        "epic": result.integration or result.suite or "sloguard",
        "feature": result.labels.get("group") or result.kind,
        "story": result.labels.get("story") or STORIES.get(result.kind, result.kind),
        "suite": result.suite or "sloguard",
        "framework": "sloguard",
    }
    out = [{"name": k, "value": v} for k, v in labels.items()]
    if severity is not None and rule is not None:
        out += [{"name": "severity", "value": ALLURE_SEVERITY[severity]}, {"name": "tag", "value": severity.value},
                {"name": "rule", "value": rule.name}]
    if result.operation:
        out.append({"name": "operation", "value": result.operation})
    for key in ("step", "check"):
        if key in result.labels:
            out.append({"name": key, "value": result.labels[key]})
    return out


def _step(folder: _Folder, exchange: Exchange, detailed: bool, started: int) -> dict[str, Any]:
    # exchanges are redacted when recorded (results/evidence.py): not a second time per attachment
    attachments = []
    if detailed:
        attachments = [folder.attach("request", exchange.as_text("request"), redacted=True),
                       folder.attach("response", exchange.as_text("response"), redacted=True),
                       folder.attach("curl", exchange.curl(), redacted=True)]
    failed = exchange.status is None
    return {"name": exchange.title(), "status": "broken" if failed else "passed", "stage": "finished",
            "attachments": attachments, "start": started, "stop": started + int(exchange.latency_ms)}


def _status_details(result: CheckResult) -> dict[str, Any]:
    """The message Allure's categories match on; free text, so it goes through the redactor (the
    rest of a result document is evidence redacted when recorded, or names and labels)."""
    details = _unredacted_status_details(result)
    return {k: redact.redact_text(v) if isinstance(v, str) else v for k, v in details.items()}


def _unredacted_status_details(result: CheckResult) -> dict[str, Any]:
    details: dict[str, Any] = {}
    failures = result.failures
    if failures:
        details["message"] = "\n".join(f.label for f in failures)
    elif result.status is Status.SKIPPED:
        details["message"] = result.skip_reason or "skipped"
    elif result.status is Status.INCONCLUSIVE:
        details["message"] = f"inconclusive: {result.skip_reason or 'the answers could not decide it'}"
    elif result.status is Status.FLAKY:
        details["message"] = "passed only on retry"
        details["flaky"] = True
    if result.notes:
        details["trace"] = "\n".join(result.notes)
    return details


def result_document(folder: _Folder, result: CheckResult) -> dict[str, Any]:
    """One check as an Allure ``*-result.json`` document (its attachments written on the way)."""
    start, stop = _millis(result)
    detailed = result.status in _DETAILED
    steps = [_step(folder, e, detailed, start) for e in result.evidence]
    attachments: list[dict[str, str]] = []
    if result.evidence and not detailed:
        # A passing check's requests in one file: a file per request made reporting a green sweep
        # cost more than the sweep. Failing ones get request, response and curl per step.
        text = "\n\n=====\n\n".join(e.text() for e in result.evidence)
        attachments.append(folder.attach("requests · responses · curl", text, redacted=True))
    if result.slo is not None and result.kind in SLO_KINDS:
        held = {"objective": result.slo.to_dict(), "latency_ms": list(result.traffic.latencies_ms),
                "requests": result.traffic.slo_requests, "errors": result.traffic.errors,
                "unavailable": result.traffic.unavailable, "network_ms": list(result.traffic.network_ms)}
        attachments.append(folder.attach("SLO", orjson.dumps(held, option=orjson.OPT_INDENT_2).decode(),
                                         "application/json", "json"))
    if result.findings or result.notes:
        lines = [f"{'warning' if f.warning else 'failure'} {f.label}" for f in result.findings]
        lines += [f"note: {n}" for n in result.notes]
        attachments.append(folder.attach("findings", "\n".join(lines)))
    for extra in result.attachments:
        written = folder.attach_file(extra.name, Path(extra.path), extra.content_type)
        if written is not None:
            attachments.append(written)
    history = hashlib.md5(f"{result.suite}\x1f{result.check_id}".encode(), usedforsecurity=False).hexdigest()
    return {
        "uuid": uuid.uuid4().hex,
        "historyId": history,
        "testCaseId": history,
        "name": redact.redact_text(result.check_id),
        "fullName": redact.redact_text(f"{result.suite or 'sloguard'} · {result.check_id}"),
        "description": redact.redact_text(result.title) if result.title else None,
        "status": ALLURE_STATUS[result.status],
        "statusDetails": _status_details(result),
        "stage": "finished",
        "start": start,
        "stop": stop,
        "labels": _labels(result),
        "steps": steps,
        "attachments": attachments,
        "parameters": [],
        "links": [],
    }


def _write(folder: _Folder, results: Iterable[CheckResult]) -> None:
    for result in results:
        document = result_document(folder, result)
        folder.write(f"{document['uuid']}-result.json", orjson.dumps(document))


def write_allure_results(results: Iterable[CheckResult], alluredir: str | os.PathLike[str]) -> int:
    """Write every result (and its attachments) into ``alluredir``; returns the number of files."""
    folder = _Folder(Path(alluredir))
    _write(folder, results)
    return folder.files


class AllureStream:
    """Writes results into ``alluredir`` on a thread of its own, batch by batch, while the run goes on.

    A sweep's ~3,600 files are mostly kernel time (creating a file costs 0.3–0.7 ms on a virtual
    disk), which the thread spends without the GIL: the results of the checks are written while
    pytest reports its items and the summary is made. `close` waits for the last batch and raises
    what went wrong (a full disk), so nothing is lost silently.
    """

    def __init__(self, alluredir: str | os.PathLike[str]) -> None:
        self._folder = _Folder(Path(alluredir))
        self._batches: queue.SimpleQueue[list[CheckResult] | None] = queue.SimpleQueue()
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._drain, name="sloguard-allure", daemon=True)
        self._thread.start()

    def write(self, results: Iterable[CheckResult]) -> None:
        self._batches.put(list(results))

    def close(self) -> int:
        """Wait until every batch is written; returns the number of files."""
        if self._thread.is_alive():
            self._batches.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._folder.files

    def _drain(self) -> None:
        _lowest_priority()
        while (batch := self._batches.get()) is not None:
            if self._error is None:
                try:
                    _write(self._folder, batch)
                except Exception as exc:  # handed to close(), in the thread that can report it
                    self._error = exc


def clean(alluredir: str | os.PathLike[str]) -> threading.Thread | None:
    """Empty the folder for a new run without waiting for thousands of deletions: the old folder is
    renamed aside (one atomic step) and removed by a thread; join it before the process ends."""
    path = Path(alluredir)
    if not path.exists():
        return None
    trash = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(path, trash)
    path.mkdir(parents=True, exist_ok=True)
    remover = threading.Thread(target=shutil.rmtree, args=(trash,), kwargs={"ignore_errors": True},
                               name="sloguard-clean-allure", daemon=True)
    remover.start()
    return remover


def _lowest_priority() -> None:
    """Run the calling thread at nice 19 (Linux schedules threads one by one): the writer then only
    takes CPU that the checks, and a platform on the same machine, leave free."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
