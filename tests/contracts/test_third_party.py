"""The contract suite against an API nobody here wrote: httpbin (postmanlabs, from PyPI) and the
Swagger 2.0 description it serves itself at /spec.json (flasgger), started on loopback.

httpbin's description is known to be loose (path parameters it never declares, `type` values that are
not JSON Schema types, undocumented content types and statuses): the run must turn each of those into
a classified finding, and test the operations it can, without a suite error.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

from .test_contract_runs import run

pytestmark = pytest.mark.slow
SERVE = ("import sys\nfrom httpbin import app\nfrom werkzeug.serving import run_simple\n"
         "run_simple('127.0.0.1', int(sys.argv[1]), app, threaded=True)\n")


@pytest.fixture(scope="module")
def httpbin() -> Iterator[str]:
    pytest.importorskip("httpbin", reason="httpbin is installed by `make setup` (pip --no-deps httpbin)")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVE, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/spec.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("httpbin did not start within 20 s")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_httpbin_contract_findings_are_classified(httpbin: str, tmp_path: Path) -> None:
    text = (f"target:\n  base_url: {httpbin}\n  openapi: /spec.json\n  environment: sandbox\n"
            "contracts:\n  max_examples: 3\n  max_response_time_ms: 5000\n")
    done = run(tmp_path, "--seed", "1", "--phases", "examples,coverage,fuzzing", config_text=text)
    assert done.code in (0, 1), done.err[-2000:]
    results = done.contract()
    assert len(results) >= 50 and not [r for r in results if r["status"] == "error"]
    assert sum(r["status"] == "passed" for r in results) >= 20
    findings = {(r["check_id"], f["severity"], f["rule"], f["message"].split(":")[0]) for r in results
                for f in r["findings"]}
    # An operation whose description Schemathesis cannot read is the contract's defect (P2), not a crash.
    assert ("contract · GET /bytes/{n}", "P2", "CONTRACT_DRIFT",
            "the description of GET /bytes/{n} is invalid, so no client can rely on it") in findings
    # Statuses the description never mentions (httpbin's /status/{codes} answers any status asked for).
    assert any(sev == "P2" and check == "status_code_conformance" for _, sev, _, check in findings)
    # Undocumented content types are cosmetic.
    assert any(sev == "P3" and check == "content_type_conformance" for _, sev, _, check in findings)
    assert done.summary["contracts"]["logins"] == 0  # no auth configured: none attempted
