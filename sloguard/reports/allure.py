"""Allure Report 3 (the npm package ``allure``, run by Node.js; no Java): finding it and generating.

The package is pinned in the checkout's ``package.json`` and installed by ``make setup`` (``npm ci``)
into ``node_modules/``. It is looked for there (from the working folder up, then beside the installed
engine), so a missing install is one clear error naming ``make setup``, never a Node stack trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sloguard.errors import UsageError

from .offline import OfflineCheck, make_offline

SUPPORTED_MAJOR = 3
GENERATE_TIMEOUT_S = 600.0
# The report's tree: integration → resource → check kind, the labels the synthetic suite writes.
GROUP_BY = ("epic", "feature", "story")
INSTALL_HINT = "run `make setup` in the sloguard checkout (it runs `npm ci` for the pinned allure package)"


@dataclass(frozen=True)
class AllureCLI:
    node: str
    cli: Path
    version: str

    def command(self, *args: str) -> list[str]:
        return [self.node, str(self.cli), *args]


def _search_roots(start: Path | None) -> list[Path]:
    import sloguard

    here = (start or Path.cwd()).resolve()
    roots = [here, *here.parents]
    checkout = Path(sloguard.__file__).resolve().parent.parent
    if checkout not in roots:
        roots.append(checkout)
    return roots


def find_allure(start: Path | None = None) -> AllureCLI:
    """Node.js and the ``allure`` 3.x package; a UsageError naming the fix when either is missing."""
    node = shutil.which("node")
    if node is None:
        raise UsageError("Node.js is not installed, and the HTML report needs it (Allure Report 3 runs on Node.js "
                         f"20+): install Node.js, then {INSTALL_HINT}")
    looked: list[str] = []
    for root in _search_roots(start):
        package = root / "node_modules" / "allure" / "package.json"
        looked.append(str(package.parent))
        if not package.is_file():
            continue
        try:
            meta = json.loads(package.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        version = str(meta.get("version", ""))
        if not version.startswith(f"{SUPPORTED_MAJOR}."):
            raise UsageError(f"{package.parent} is allure {version or '(unknown version)'}, sloguard needs Allure "
                             f"Report {SUPPORTED_MAJOR}: {INSTALL_HINT}")
        binary = meta.get("bin")
        entry = binary.get("allure") if isinstance(binary, dict) else binary
        cli = (package.parent / str(entry or "cli.js")).resolve()
        if cli.is_file():
            return AllureCLI(node=node, cli=cli, version=version)
    raise UsageError(f"the allure npm package is not installed (looked in {looked[0]} and its parents): {INSTALL_HINT}")


@dataclass(frozen=True)
class Generated:
    output: Path
    duration_s: float
    offline: OfflineCheck
    log: str


def allure_config(
    *,
    report_name: str,
    history: Path | None,
    history_limit: int | None,
    categories: Sequence[dict[str, Any]],
    single_file: bool,
) -> dict[str, Any]:
    """An Allure 3 config (what ``allurerc.json`` holds) for one report."""
    options: dict[str, Any] = {"reportName": report_name, "singleFile": single_file, "groupBy": list(GROUP_BY)}
    config: dict[str, Any] = {
        "name": report_name,
        "categories": list(categories),
        "plugins": {"awesome": {"options": options}},
    }
    if history is not None:
        config["historyPath"] = str(history.resolve())
        if history_limit is not None:
            config["historyLimit"] = int(history_limit)
    return config


def generate(
    cli: AllureCLI,
    results: Iterable[Path],
    output: Path,
    config: dict[str, Any],
    *,
    timeout_s: float = GENERATE_TIMEOUT_S,
) -> Generated:
    """Run ``allure generate`` into a fresh folder, make it offline (`sloguard.reports.offline`), then
    swap it in for ``output``.

    A reader of ``output`` sees the previous report or the new one, never a half-written mix (and
    never a stale attachment left over from an earlier report).
    """
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.new-", dir=output.parent))
    workdir = Path(tempfile.mkdtemp(prefix="sloguard-allure-"))
    try:
        config_path = workdir / "allurerc.json"
        config_path.write_text(json.dumps({**config, "output": str(staging)}, indent=2), encoding="utf-8")
        args = cli.command("generate", "--config", str(config_path), "--output", str(staging),
                           *[str(Path(r).resolve()) for r in results])
        env = {**os.environ, "ALLURE_NO_ANALYTICS": "true", "NO_COLOR": "1", "FORCE_COLOR": "0"}
        started = time.perf_counter()
        try:
            done = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise UsageError(f"allure generate took more than {timeout_s:.0f} s and was stopped; "
                             "check the results folder's size") from None
        duration = time.perf_counter() - started
        log = (done.stdout + done.stderr).strip()
        if done.returncode != 0 or not (staging / "index.html").is_file():
            last = next((line for line in reversed(log.splitlines()) if line.strip()), "no output")
            hint = "; use --multi-file for a report this large" if "single file mode" in log else ""
            raise UsageError(f"allure generate failed (exit {done.returncode}): {last[:300]}{hint}")
        offline = make_offline(staging)
        _swap_in(staging, output)
        return Generated(output=output, duration_s=duration, offline=offline, log=log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _swap_in(staging: Path, output: Path) -> None:
    old: Path | None = None
    if output.exists():
        old = output.with_name(f".{output.name}.old-{os.getpid()}-{time.monotonic_ns()}")
        output.rename(old)
    try:
        staging.rename(output)
    except OSError:
        if old is not None:
            with contextlib.suppress(OSError):
                old.rename(output)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
