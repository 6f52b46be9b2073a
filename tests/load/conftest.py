"""Helpers for the load tests: real `sloguard load` runs (a subprocess: Locust patches the
standard library for gevent, which must not happen inside pytest) against the real reference
platform, each a few seconds long and bounded by a timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

RUN_TIMEOUT_S = 120


@dataclass
class LoadRun:
    code: int
    stdout: str
    stderr: str
    folder: Path

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.folder / "reports" / "load" / "capacity.json").read_text())

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.report["steps"])

    def files(self) -> list[Path]:
        return [p for p in (self.folder / "reports").rglob("*") if p.is_file()]


def write_config(folder: Path, base_url: str, **load: Any) -> Path:
    """A sloguard.yaml for ``base_url`` with ``load:`` settings (tests shorten the abort window etc.)."""
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"target": {"base_url": base_url}}
    if load:
        data["load"] = load
    path = folder / "sloguard.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def load_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "sloguard", "load", *args]


def run_load(folder: Path, *args: str, timeout: float = RUN_TIMEOUT_S, **popen: Any) -> LoadRun:
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(load_command(*args), cwd=folder, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "160"}, **popen)
    return LoadRun(proc.returncode, proc.stdout, proc.stderr, folder)


def admin_headers(base_url: str) -> dict[str, str]:
    r = httpx.post(f"{base_url}/api/auth/token", data={"grant_type": "client_credentials", "scope": "admin"},
                   auth=("sloguard-admin", "sloguard-admin-secret"), timeout=10)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def set_fault(base_url: str, name: str, value: str) -> None:
    r = httpx.put(f"{base_url}/api/admin/faults", json={"name": name, "value": value},
                  headers=admin_headers(base_url), timeout=10)
    r.raise_for_status()
