"""Allure results written from the results model, for runners that are not pytest (contracts, later load).

The labels are the synthetic suite's (`sloguard.synthetics.report.to_allure`): epic = integration,
feature = resource, story, severity, a P0..P3 tag and the ``rule`` label, and the failure message is
the findings' ``[P2 CONTRACT_DRIFT] …`` lines the shipped categories match on — so contract results
sit beside synthetic ones in one report. Files are written through allure-python-commons' file
logger (atomic renames); every text has already been redacted in the results model, and is
redacted once more here.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Attachment, Label, Parameter, Status, StatusDetails, TestResult, TestStepResult

from sloguard import redact
from sloguard.results import CheckResult
from sloguard.results import Status as ResultStatus
from sloguard.severity import Severity

SEVERITY = {Severity.P0: "blocker", Severity.P1: "critical", Severity.P2: "normal", Severity.P3: "minor"}
STATUS = {
    ResultStatus.PASSED: Status.PASSED, ResultStatus.FLAKY: Status.PASSED, ResultStatus.FAILED: Status.FAILED,
    ResultStatus.ERROR: Status.BROKEN, ResultStatus.SKIPPED: Status.SKIPPED,
    ResultStatus.INCONCLUSIVE: Status.SKIPPED,
}


def _ms(result: CheckResult) -> tuple[int, int]:
    start = int(result.started_at.timestamp() * 1000)
    return start, start + int(result.duration_ms or 0)


def _attach(logger: AllureFileLogger, name: str, body: str, kind: str = "text/plain") -> Attachment:
    source = f"{uuid.uuid4()}-attachment.{'json' if kind.endswith('json') else 'txt'}"
    logger.report_attached_data(redact.redact_text(body), source)
    return Attachment(name=name, source=source, type=kind)


def to_allure(result: CheckResult, logger: AllureFileLogger) -> TestResult:
    """One result as an Allure test result (its attachments written on the way)."""
    worst = result.worst
    severity = worst.severity if worst is not None else (result.findings[0].severity if result.findings
                                                         else Severity.P2)
    rule = worst.rule.name if worst is not None else ("CONTRACT_DRIFT" if result.suite == "contracts" else "")
    start, stop = _ms(result)
    labels = [
        Label("epic", result.integration or "platform"),
        Label("feature", result.labels.get("group") or result.integration or ""),
        Label("story", result.labels.get("story") or result.kind),
        Label("severity", SEVERITY[severity]),
        Label("tag", str(severity)),
        Label("rule", rule),
        Label("suite", result.suite),
        Label("framework", "schemathesis" if result.suite == "contracts" else "sloguard"),
    ]
    if result.operation:
        labels.append(Label("operation", result.operation))
    details = None
    if result.status in (ResultStatus.FAILED, ResultStatus.ERROR):
        lines = [f.label for f in result.failures]
        details = StatusDetails(message=redact.redact_text("\n".join(lines)),
                                trace=redact.redact_text("\n".join(result.notes)) or None)
    elif result.status in (ResultStatus.SKIPPED, ResultStatus.INCONCLUSIVE):
        details = StatusDetails(message=redact.redact_text(result.skip_reason or "skipped"))
    steps = []
    for exchange in result.evidence:
        step = TestStepResult(name=redact.redact_text(exchange.title()), status=Status.PASSED, start=start, stop=stop)
        step.attachments = [_attach(logger, "request", exchange.as_text("request")),
                            _attach(logger, "response", exchange.as_text("response")),
                            _attach(logger, "curl", exchange.curl())]
        steps.append(step)
    attachments = []
    if result.findings or result.notes:
        text = [f"{'warning' if f.warning else 'failure'} {f.label}" for f in result.findings]
        text += [f"note: {n}" for n in result.notes]
        attachments.append(_attach(logger, "findings", "\n".join(text)))
    full_name = f"{result.suite}.{result.check_id}"
    return TestResult(
        uuid=str(uuid.uuid4()), historyId=hashlib.md5(full_name.encode()).hexdigest(),
        testCaseId=hashlib.md5(full_name.encode()).hexdigest(), fullName=full_name,
        name=redact.redact_text(result.check_id), status=STATUS[result.status], statusDetails=details,
        stage="finished", start=start, stop=stop, labels=labels, steps=steps, attachments=attachments,
        description=redact.redact_text(result.title) or None,
        parameters=[Parameter(name=k, value=v) for k, v in sorted(result.labels.items())
                    if k in ("checks", "phases", "rounds") and v],
    )


def write_results(results: Iterable[CheckResult], alluredir: Path, *, categories_from: Path | None = None,
                  environment: dict[str, str] | None = None) -> int:
    """Write every result into ``alluredir`` (kept, not cleaned: other suites write there too)."""
    logger = AllureFileLogger(alluredir, clean=False)
    written = 0
    for result in results:
        logger.report_result(to_allure(result, logger))
        written += 1
    categories = alluredir / "categories.json"
    if not categories.exists():
        text = categories_from.read_text() if categories_from is not None and categories_from.is_file() else \
            resources.files("sloguard.reports").joinpath("categories.json").read_text()
        categories.write_text(text)
    if environment:
        props = alluredir / "environment.properties"
        existing = props.read_text() if props.exists() else ""
        have = {line.split("=", 1)[0] for line in existing.splitlines() if "=" in line}
        extra = "".join(f"{k}={redact.redact_text(v)}\n" for k, v in environment.items() if k not in have)
        props.write_text(existing + extra)
    return written
