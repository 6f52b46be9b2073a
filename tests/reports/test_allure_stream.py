"""`AllureStream`: Allure result files written on a thread of their own, batch by batch."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sloguard.reports.allure_writer import AllureStream, write_allure_results
from sloguard.results import CheckResult, Exchange, Finding, Status
from sloguard.severity import Rule


def _results(count: int, prefix: str) -> list[CheckResult]:
    out = []
    for i in range(count):
        exchange = Exchange.record("GET", f"http://127.0.0.1:9/api/{prefix}/{i}",
                                   [("Authorization", "Bearer s3cr3t-tok")], None, 500 if i % 2 else 200,
                                   [("content-type", "application/json")], b'{"ok": 1}', latency_ms=12.5)
        failed = i % 2 == 1
        out.append(CheckResult(f"{prefix} · check {i}", Status.FAILED if failed else Status.PASSED, suite="synthetics",
                               kind="endpoint", evidence=(exchange,),
                               findings=(Finding(Rule.OPERATION_FAILED, "answered 500"),) if failed else ()))
    return out


def _written(folder: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in folder.glob("*-result.json")]


def test_batches_are_all_written_once_and_match_the_direct_writer(tmp_path: Path) -> None:
    stream = AllureStream(tmp_path / "stream")
    first, later = _results(30, "early"), _results(7, "late")
    stream.write(first)
    stream.write(iter(later))  # any iterable
    files = stream.close()
    direct = write_allure_results([*first, *later], tmp_path / "direct")
    streamed = _written(tmp_path / "stream")
    assert files == direct == len(list((tmp_path / "stream").iterdir()))
    assert sorted(r["name"] for r in streamed) == sorted(r.check_id for r in [*first, *later])
    assert sorted(r["status"] for r in streamed) == sorted(r["status"] for r in _written(tmp_path / "direct"))
    assert stream.close() == files  # closing twice is harmless
    text = "".join(p.read_text() for p in (tmp_path / "stream").iterdir())
    assert "s3cr3t-tok" not in text


def test_a_failed_write_is_raised_at_close_not_lost(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    stream = AllureStream(folder)
    shutil.rmtree(folder)  # the folder vanished under the run (a real fault: every open fails)
    stream.write(_results(3, "gone"))
    with pytest.raises(FileNotFoundError):
        stream.close()
