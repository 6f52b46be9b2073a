"""Benchmark: `sloguard contracts diff` on the reference platform's description and on a generated one.

Baseline in the same run: `load_spec` of the same two files (what any diff must do first), so the
figure is "diffing costs N times reading". Cases: the reference platform's description (~700
operations, fetched from a platform started on loopback) against itself (equal as a whole: one
comparison) and against itself with another `servers` URL (every operation walked); a generated description
of 1,350 operations (10 MB) against itself and against a release that changes shared schemas,
removes operations and adds some; and the drift snapshot (write + read back + diff) of the former.
Run: .venv/bin/python bench/bench_contracts_diff.py [--write-docs]
"""

from __future__ import annotations

import copy
import gc
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_catalog import make_description  # noqa: E402

from bench._docs import repeat_main, write_section  # noqa: E402
from sloguard.cli.launch import start_reference  # noqa: E402
from sloguard.contracts.diff import diff  # noqa: E402
from sloguard.contracts.snapshot import check_drift  # noqa: E402
from sloguard.spec import load_spec  # noqa: E402

SECTION = "## Contract drift: `sloguard contracts diff`"


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _next_release(doc: dict[str, Any]) -> dict[str, Any]:
    """A release that breaks and extends: shared schemas change, operations go and come."""
    new = copy.deepcopy(doc)
    schemas = new["components"]["schemas"]
    for name in list(schemas)[2:40:4]:  # ten resource models, each used by six operations
        props = schemas[name]["properties"]
        props.pop("field_3", None)
        props["added"] = {"type": "string"}
        schemas[name]["required"].append("field_5")
    schemas["Error"]["properties"]["code"] = {"type": "integer"}
    for path in list(new["paths"])[:12]:
        del new["paths"][path]
    for i in range(20):
        new["paths"][f"/api/new/{i}"] = {"get": {"responses": {"200": {"description": "ok"}}}}
    return new


def _case(label: str, old: Path, new: Path, repeat: int) -> tuple[str, int]:
    load_s, specs = _best(lambda: (load_spec(old), load_spec(new)), repeat)
    diff_s, changes = _best(lambda: diff(*specs), repeat)
    ops = len([1 for item in specs[0]["paths"].values() for m in item if m in ("get", "put", "post", "delete",
                                                                                "patch")])
    line = (f"{label:<44} {ops:>5} ops {len(changes):>5} changes   load_spec x2 {load_s * 1000:7.1f} ms   "
            f"diff {diff_s * 1000:7.1f} ms   {diff_s / load_s:4.2f}x load")
    return line, len(changes)


def run(repeat: int = 3) -> str:
    lines = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = start_reference(tmp / "platform")
        try:
            reference = tmp / "reference.json"
            reference.write_bytes(httpx.get(f"{server.base_url}/api/v1/openapi.json", timeout=30).content)
        finally:
            server.stop()
        copy_of = tmp / "reference-copy.json"
        copy_of.write_bytes(reference.read_bytes())
        moved = tmp / "reference-moved.json"  # served elsewhere: not equal as a whole, every operation walked
        moved_doc = orjson.loads(reference.read_bytes())
        moved_doc["servers"] = [{"url": "http://127.0.0.1:1"}]
        moved.write_bytes(orjson.dumps(moved_doc))
        generated = make_description()
        big, big_next = tmp / "generated.json", tmp / "generated-next.json"
        big.write_bytes(orjson.dumps(generated))
        big_next.write_bytes(orjson.dumps(_next_release(generated)))
        size_mb = big.stat().st_size / 1e6
        for label, old, new in (("reference platform vs itself", reference, copy_of),
                                ("reference vs itself on another server", reference, moved),
                                (f"generated ({size_mb:.1f} MB) vs itself", big, big.with_name("g2.json")),
                                ("generated vs next release", big, big_next)):
            if not new.exists():
                new.write_bytes(old.read_bytes())
            line, _ = _case(label, old, new, repeat)
            lines.append(line)
        spec = load_spec(reference)
        reports = tmp / "reports"
        check_drift(spec, "http://127.0.0.1:8400", reports)
        drift_s, drift = _best(lambda: check_drift(spec, "http://127.0.0.1:8400", reports), repeat)
        load_s, _ = _best(lambda: load_spec(reference), repeat)
        assert drift.changes == ()
        lines.append(f"{'drift snapshot (write, read back, diff)':<44} reference   {drift_s * 1000:7.1f} ms   "
                     f"{drift_s / load_s:4.2f}x one load_spec")
    lines.append(f"machine: Python {platform.python_version()} on {platform.machine()}, best of {repeat} runs")
    return "\n".join(lines)


def write_docs(figures: str) -> None:
    write_section(SECTION, (
        "Reproduce: `.venv/bin/python bench/bench_contracts_diff.py --write-docs` (starts the "
        "reference platform on loopback for its description, generates the large one in a temporary "
        "directory). The baseline is `load_spec` of the same two files in the same run.\n\n"
        f"```\n{figures}\n```\n\n"
        "Every diff takes well under a second, at most about twice what reading the two files takes. "
        "Two descriptions equal as a whole are one "
        "`==` (the common case of a monitor seeing the same description again). Otherwise operations "
        "are walked, and a subtree equal on both sides is skipped with one `==` unless it reaches a "
        "kept cyclic `$ref` whose target changed (an index of which refs each node reaches is built "
        "first); shared schemas are compared once per pair (a memo), so a change in a schema used by "
        "many operations costs one comparison. The drift snapshot is dominated by writing it: packing "
        "shared objects once, and redacting the 1 MB text.\n"))


def main() -> None:
    repeat_main(__doc__, run, write_docs)


if __name__ == "__main__":
    main()
