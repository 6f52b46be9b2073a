"""The run's environment for the Allure report: target, platform version, sloguard version, commit.

The platform version is read from the target itself (its OpenAPI ``info.version``, else the
``version`` of ``/health``) so a report says which build it tested. A target that is gone by the time
the report is built only loses that line: nothing here raises for an unreachable target.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

import sloguard
from sloguard.redact import redact_text, redact_url

FILENAME = "environment.properties"
PROBE_TIMEOUT_S = 2.0
# Commit variables of the CI systems `sloguard.reports.executor` knows, for runs outside a checkout.
_COMMIT_VARS = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")


def platform_version(
    target: str,
    openapi: str | Path = "/api/v1/openapi.json",
    *,
    headers: Mapping[str, str] | None = None,
    verify_tls: bool = True,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> str | None:
    """The target's version: ``info.version`` of its OpenAPI description, else ``/health``'s ``version``.

    ``openapi`` is read like ``target.openapi`` in the config: a URL, a ``/path`` on the target, or a
    file (a `Path`, ``file:…`` or a relative path). None when neither says (or answers).
    """
    base = target.rstrip("/")
    candidates: list[tuple[str, str]] = []
    spec = str(openapi)
    if isinstance(openapi, Path) or spec.startswith("file:") or not spec.startswith(("/", "http://", "https://")):
        version = _file_version(Path(spec.removeprefix("file://").removeprefix("file:")))
        if version:
            return version
    elif spec.startswith("/"):
        candidates.append((base + spec, "openapi"))
    else:
        candidates.append((spec, "openapi"))
    candidates.append((base + "/health", "health"))
    try:
        with httpx.Client(timeout=timeout_s, verify=verify_tls, headers=dict(headers or {}),
                          follow_redirects=False) as client:
            for url, kind in candidates:
                try:
                    response = client.get(url)
                except httpx.HTTPError:
                    continue
                if response.status_code != 200:
                    continue
                try:
                    body = response.json()
                except ValueError:
                    continue
                version = _version_of(body, kind)
                if version:
                    return version
    except (httpx.HTTPError, OSError, ValueError):
        return None
    return None


def _version_of(body: Any, kind: str) -> str | None:
    if not isinstance(body, dict):
        return None
    holder = body.get("info") if kind == "openapi" else body
    value = holder.get("version") if isinstance(holder, dict) else None
    if value is None or not str(value).strip():
        return None
    return str(value).strip()


def _file_version(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        body = json.loads(text)
    except ValueError:
        try:
            import yaml

            body = yaml.safe_load(text)
        except Exception:
            return None
    return _version_of(body, "openapi")


def git_commit(cwd: Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The commit of the checkout the run is from (``git rev-parse HEAD``), else the CI's commit variable."""
    git = shutil.which("git")
    if git is not None:
        try:
            done = subprocess.run([git, "rev-parse", "HEAD"], cwd=cwd or Path.cwd(), capture_output=True,
                                  text=True, timeout=PROBE_TIMEOUT_S, check=False)
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    environ = os.environ if env is None else env
    return next((environ[name].strip() for name in _COMMIT_VARS if environ.get(name, "").strip()), None)


def environment(
    target: str,
    *,
    platform: str | None = None,
    commit: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The key/value lines of the report's environment widget, redacted."""
    values: dict[str, str] = {
        "target": redact_url(target),
        "platform_version": platform or "unknown (target did not say or did not answer)",
        "sloguard_version": sloguard.__version__,
    }
    if commit:
        values["git_commit"] = commit
    for key, value in (extra or {}).items():
        values[str(key)] = str(value)
    return {key: redact_text(value) for key, value in values.items()}


def properties_text(values: Mapping[str, str]) -> str:
    """Java ``.properties`` (what Allure reads): separators and line breaks escaped."""
    return "".join(f"{_escape(key, True)}={_escape(value, False)}\n" for key, value in values.items())


def _escape(text: str, key: bool) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    if key:
        out = out.replace("=", "\\=").replace(":", "\\:").replace(" ", "\\ ")
    elif out.startswith((" ", "\f")):
        out = "\\" + out  # a leading blank would be read as the separator's padding
    return out
