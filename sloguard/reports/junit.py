"""JUnit XML from the results model, for runners that are not pytest (contract runs).

A contract run alone writes ``junit.xml``; `sloguard check all` appends its ``<testsuite>`` to the
synthetic suite's file, so CI reads one file with both suites. Failure messages are the findings'
``[P2 CONTRACT_DRIFT] …`` lines; everything is redacted.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from sloguard import redact
from sloguard.results import CheckResult, Status, write_atomic


def testsuite(results: Sequence[CheckResult], name: str) -> ET.Element:
    failed = [r for r in results if r.status is Status.FAILED]
    errors = [r for r in results if r.status is Status.ERROR]
    skipped = [r for r in results if r.status in (Status.SKIPPED, Status.INCONCLUSIVE)]
    total_s = sum((r.duration_ms or 0.0) for r in results) / 1000
    suite = ET.Element("testsuite", name=name, tests=str(len(results)), failures=str(len(failed)),
                       errors=str(len(errors)), skipped=str(len(skipped)), time=f"{total_s:.3f}")
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"{name}.{r.integration or 'platform'}",
                             name=redact.redact_text(r.check_id), time=f"{(r.duration_ms or 0.0) / 1000:.3f}")
        if r.status in (Status.FAILED, Status.ERROR):
            lines = [f.label for f in r.failures]
            tag = "failure" if r.status is Status.FAILED else "error"
            node = ET.SubElement(case, tag, message=redact.redact_text(lines[0] if lines else r.status.value))
            node.text = redact.redact_text("\n".join([*lines, *r.notes]))
        elif r.status in (Status.SKIPPED, Status.INCONCLUSIVE):
            ET.SubElement(case, "skipped", message=redact.redact_text(r.skip_reason or r.status.value))
    return suite


def write_junit(results: Sequence[CheckResult], path: Path, *, name: str, append: bool = False) -> Path:
    """Write (or, with ``append``, add to an existing ``<testsuites>`` file) one testsuite."""
    root: ET.Element
    if append and path.is_file():
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            root = ET.Element("testsuites")
        if root.tag != "testsuites":
            wrapper = ET.Element("testsuites")
            wrapper.append(root)
            root = wrapper
        for old in [s for s in root.findall("testsuite") if s.get("name") == name]:
            root.remove(old)
    else:
        root = ET.Element("testsuites")
    root.append(testsuite(results, name))
    ET.indent(root)
    return write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")
