"""Who ran the checks: the CI build (name and link) behind a report, from the CI's own variables.

Allure shows it as the report's executor, so a reader can jump from the report to the pipeline run.
GitHub Actions, GitLab CI and Jenkins are recognised; anything else is a local run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sloguard.redact import redact_text, redact_url

FILENAME = "executor.json"


@dataclass(frozen=True)
class Executor:
    name: str
    type: str
    build_name: str
    build_url: str | None = None
    build_order: int | None = None
    url: str | None = None
    report_url: str | None = None

    def to_allure(self) -> dict[str, Any]:
        """The shape of Allure's ``executor.json`` (both Allure 2 and 3 read it), redacted."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "buildName": redact_text(self.build_name)}
        for key, value in (("url", self.url), ("buildUrl", self.build_url), ("reportUrl", self.report_url)):
            if value:
                out[key] = redact_url(value)
        if self.build_order is not None:
            out["buildOrder"] = self.build_order
        return out


def detect_executor(env: Mapping[str, str] | None = None) -> Executor:
    """The CI build this process runs in, from its environment variables; a local run otherwise."""
    e = os.environ if env is None else env
    if e.get("GITHUB_ACTIONS") == "true":
        server = e.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo = e.get("GITHUB_REPOSITORY", "")
        run_id = e.get("GITHUB_RUN_ID", "")
        number = e.get("GITHUB_RUN_NUMBER", "")
        attempt = e.get("GITHUB_RUN_ATTEMPT", "")
        name = f"{e.get('GITHUB_WORKFLOW', 'workflow')} #{number}" if number else e.get("GITHUB_WORKFLOW", "workflow")
        if attempt and attempt != "1":
            name += f" (attempt {attempt})"
        if e.get("GITHUB_JOB"):
            name += f" · {e['GITHUB_JOB']}"
        return Executor(
            name="GitHub Actions", type="github", build_name=name,
            build_url=f"{server}/{repo}/actions/runs/{run_id}" if repo and run_id else None,
            build_order=_int(number), url=f"{server}/{repo}" if repo else None,
        )
    if e.get("GITLAB_CI") == "true":
        job = e.get("CI_JOB_NAME", "job")
        pipeline = e.get("CI_PIPELINE_IID") or e.get("CI_PIPELINE_ID", "")
        return Executor(
            name="GitLab CI", type="gitlab", build_name=f"{job} · pipeline #{pipeline}" if pipeline else job,
            build_url=e.get("CI_JOB_URL") or e.get("CI_PIPELINE_URL"), build_order=_int(e.get("CI_PIPELINE_ID")),
            url=e.get("CI_PROJECT_URL"),
        )
    if e.get("JENKINS_URL"):
        job = e.get("JOB_NAME", "job")
        number = e.get("BUILD_NUMBER", "")
        return Executor(
            name="Jenkins", type="jenkins", build_name=f"{job} #{number}" if number else job,
            build_url=e.get("BUILD_URL"), build_order=_int(number), url=e.get("JENKINS_URL"),
        )
    return Executor(name="local", type="local", build_name="local run")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
