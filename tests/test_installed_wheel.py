"""The engine as users install it: a wheel in a fresh venv, run from a folder that is not the checkout.

The wheel is built from this checkout and installed without its dependencies into a new venv whose
dependencies come from the project's own venv (a path entry, not an install), so the test needs no
network and still catches what packaging loses: the shipped suite, package data, the console script.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO, RunningPlatform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = work.glob("sloguard-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # The dependencies, from the project's venv; sloguard itself only from the wheel.
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-2000:]
    return env_dir


def test_the_installed_wheel_runs_the_suite_from_any_folder(installed: Path, platform: RunningPlatform,
                                                            tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import sloguard; print(sloguard.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, env=env, check=True).stdout.strip()
    assert where.startswith(str(installed)), where  # the wheel's copy, not the checkout's
    run = subprocess.run(
        [str(installed / "bin" / "sloguard"), "check", "synthetics", "--target", platform.base_url, "-k",
         "slack or health or oauth"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["verdict"] == "pass" and summary["checks"]["passed"] > 50
    categories = json.loads((tmp_path / "reports" / "allure-results" / "categories.json").read_text())
    assert any("security" in c["name"].lower() for c in categories)  # the shipped categories
    assert not (tmp_path / "synthetics").exists()  # nothing was copied here: the packaged suite ran
