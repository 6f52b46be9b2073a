"""Allure metadata: environment (version read from the real reference platform), executor from CI
variables, and everything redacted. Allure 3's own parse of these files is checked in
test_report_build.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import sloguard
from sloguard.redact import clear_secrets, register_secret
from sloguard.reports.environment import git_commit, platform_version, properties_text
from sloguard.reports.executor import detect_executor
from sloguard.reports.metadata import write_allure_metadata
from tests.conftest import free_port


def test_platform_version_from_the_reference_platform(platform) -> None:
    assert platform_version(platform.base_url) == "1.0.0"


def test_platform_version_falls_back_to_health(platform) -> None:
    # a description path that does not exist on the target: /health's "version" answers instead
    assert platform_version(platform.base_url, "/no/such/openapi.json") == "1.0.0"


def test_an_unreachable_target_is_unknown_not_an_error() -> None:
    started = time.monotonic()
    assert platform_version(f"http://127.0.0.1:{free_port()}", timeout_s=1.0) is None
    assert time.monotonic() - started < 5


def test_platform_version_from_a_description_file(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: 2.4.1}\npaths: {}\n")
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert platform_version(nowhere, spec, timeout_s=0.5) == "2.4.1"
    assert platform_version(nowhere, f"file:{spec}", timeout_s=0.5) == "2.4.1"


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_commit_in_and_out_of_a_checkout(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    run = {"cwd": repo, "check": True, "capture_output": True}
    subprocess.run(["git", "init", "-q"], **run)
    subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x"],
                   **run)
    head = subprocess.run(["git", "rev-parse", "HEAD"], text=True, **run).stdout.strip()
    assert git_commit(repo, env={}) == head
    outside = tmp_path / "plain"
    outside.mkdir()
    assert git_commit(outside, env={}) is None
    assert git_commit(outside, env={"GITHUB_SHA": "abc123"}) == "abc123"


GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "atom/sloguard",
          "GITHUB_RUN_ID": "987654", "GITHUB_RUN_NUMBER": "42", "GITHUB_WORKFLOW": "synthetics", "GITHUB_JOB": "check",
          "GITHUB_RUN_ATTEMPT": "2"}
GITLAB = {"GITLAB_CI": "true", "CI_JOB_NAME": "synthetics", "CI_PIPELINE_ID": "555", "CI_PIPELINE_IID": "17",
          "CI_JOB_URL": "https://gitlab.example.com/atom/sloguard/-/jobs/9", "CI_PROJECT_URL": "https://gitlab.example.com/atom/sloguard"}
JENKINS = {"JENKINS_URL": "https://ci.example.com/", "JOB_NAME": "sloguard-nightly", "BUILD_NUMBER": "311",
           "BUILD_URL": "https://ci.example.com/job/sloguard-nightly/311/"}


@pytest.mark.parametrize(("env", "expected"), [
    (GITHUB, {"name": "GitHub Actions", "type": "github", "buildName": "synthetics #42 (attempt 2) · check",
              "buildUrl": "https://github.com/atom/sloguard/actions/runs/987654", "buildOrder": 42,
              "url": "https://github.com/atom/sloguard"}),
    (GITLAB, {"name": "GitLab CI", "type": "gitlab", "buildName": "synthetics · pipeline #17",
              "buildUrl": "https://gitlab.example.com/atom/sloguard/-/jobs/9", "buildOrder": 555,
              "url": "https://gitlab.example.com/atom/sloguard"}),
    (JENKINS, {"name": "Jenkins", "type": "jenkins", "buildName": "sloguard-nightly #311",
               "buildUrl": "https://ci.example.com/job/sloguard-nightly/311/", "buildOrder": 311,
               "url": "https://ci.example.com/"}),
    ({}, {"name": "local", "type": "local", "buildName": "local run"}),
], ids=["github", "gitlab", "jenkins", "local"])
def test_executor_from_ci_variables(env: dict[str, str], expected: dict[str, object]) -> None:
    assert detect_executor(env).to_allure() == expected


def test_properties_escape_what_would_break_a_line() -> None:
    text = properties_text({"a key": "x=y:z", "multi": "one\ntwo", "lead": " spaced"})
    assert text == "a\\ key=x=y:z\nmulti=one\\ntwo\nlead=\\ spaced\n"


def test_metadata_files_and_no_secret_in_them(tmp_path: Path, platform) -> None:
    secret = "s3cr3t-token-value-123456"
    register_secret(secret)
    try:
        results = tmp_path / "allure-results"
        meta = write_allure_metadata(
            results, target=platform.base_url, reports_dir=tmp_path,
            extra={"suite": "synthetics", "note": f"token {secret}"},
            env={**GITHUB, "GITHUB_WORKFLOW": f"deploy {secret}"})
        env_text = (results / "environment.properties").read_text()
        assert f"target={platform.base_url}\n" in env_text.replace("\\:", ":")
        assert "platform_version=1.0.0\n" in env_text
        assert f"sloguard_version={sloguard.__version__}\n" in env_text
        executor = json.loads((results / "executor.json").read_text())
        assert executor["type"] == "github"
        assert json.loads((results / "categories.json").read_text()) == meta.categories
        for path in meta.written:
            assert secret not in path.read_text(), path
    finally:
        clear_secrets()


def test_metadata_keeps_what_the_runner_wrote_when_asked(tmp_path: Path) -> None:
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "environment.properties").write_text("target=http://runner\n")
    write_allure_metadata(results, target=f"http://127.0.0.1:{free_port()}", overwrite=False, env={})
    assert (results / "environment.properties").read_text() == "target=http://runner\n"
    assert (results / "executor.json").is_file() and (results / "categories.json").is_file()
