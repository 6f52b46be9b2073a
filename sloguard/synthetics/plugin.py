"""The pytest plugin: one item per planned check, run as one concurrent batch, reported to Allure.

Collection plans the checks from the config and the target's OpenAPI description; the first
item that needs a result runs every *selected* check at once (so ``-k slack`` only calls Slack);
each item then reports its own result: steps, attachments, severity, flaky flag.

Use it with ``-p sloguard.synthetics.plugin`` or ``pytest_plugins`` in a conftest, and the options
``--sloguard-config``, ``--target`` and ``--read-only``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from sloguard.errors import UsageError
from sloguard.reports.allure_writer import clean as clean_allure
from sloguard.reports.allure_writer import write_allure_results
from sloguard.results import CheckResult

from . import report
from .plan import Plan
from .probe import CheckSpec, Probe
from .runner import RunOutcome
from .session import SyntheticSession, open_session

STATE_KEY = pytest.StashKey["SyntheticState"]()
# Set by `sloguard check` so the session it already planned (and validated) is not planned twice.
PRESET_SESSION: SyntheticSession | None = None


class SyntheticState:
    """Per-pytest-run state: the session (config, catalog, plan) and, once run, the outcome."""

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self._session: SyntheticSession | None = None
        self.selected: set[str] | None = None
        self.outcome: RunOutcome | None = None
        self.current_item: pytest.Item | None = None
        self.team_results: list[CheckResult] = []  # a team's own tests in the suite folder, as results
        self._lock = threading.Lock()

    @property
    def session(self) -> SyntheticSession:
        if self._session is None and PRESET_SESSION is not None:
            self._session = PRESET_SESSION
        if self._session is None:
            opt = self.pytest_config.getoption
            try:
                self._session = open_session(
                    opt("sloguard_config"), target=opt("sloguard_target"), read_only=bool(opt("sloguard_read_only")),
                    reports_dir=opt("sloguard_reports"), fail_on=opt("sloguard_fail_on"),
                )
            except UsageError as exc:
                pytest.exit(f"sloguard: error: {exc}", returncode=2)
        return self._session

    @property
    def plan(self) -> Plan:
        return self.session.plan

    def run(self) -> RunOutcome:
        with self._lock:
            if self.outcome is None:
                self.outcome = self.session.run(self.selected)
            return self.outcome


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("sloguard", "sloguard synthetic checks")
    group.addoption("--sloguard-config", dest="sloguard_config", default=None,
                    help="sloguard.yaml to use (default: ./sloguard.yaml, else the reference platform)")
    group.addoption("--target", dest="sloguard_target", default=None,
                    help="base URL of the platform to check (overrides target.base_url)")
    group.addoption("--read-only", dest="sloguard_read_only", action="store_true", default=False,
                    help="never create, change or delete data: side-effecting checks are skipped")
    group.addoption("--fail-on", dest="sloguard_fail_on", default=None, choices=["P0", "P1", "P2", "P3"],
                    help="the least severe failure that fails the run (default: checks.fail_on, P1)")
    group.addoption("--sloguard-reports", dest="sloguard_reports", default=None,
                    help="where summary.json goes (default: reports.dir of the config)")
    if not pluginmanager.has_plugin("allure_pytest"):  # the suite's pytest.ini turns it off: one writer
        group.addoption("--alluredir", dest="allure_report_dir", default=None,
                        help="write Allure results (from sloguard's results model) into DIR")
        group.addoption("--clean-alluredir", dest="clean_alluredir", action="store_true", default=False,
                        help="empty the Allure results folder first")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sloguard(*kinds): parametrize with the planned checks of these kinds")
    config.stash[STATE_KEY] = SyntheticState(config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "sloguard_check" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("sloguard")
    kinds = set(marker.args) if marker else None
    state = metafunc.config.stash[STATE_KEY]
    specs = [s for s in state.plan.specs if kinds is None or s.kind in kinds]
    # Direct parameters, not a fixture: a per-item fixture cost a setup step and an Allure container
    # file for each of ~1,400 checks, and said nothing an engineer needs.
    metafunc.parametrize("sloguard_check", [CheckHandle(s, state) for s in specs], ids=[s.id for s in specs])


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash[STATE_KEY]
    selected = set()
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        handle = callspec.params.get("sloguard_check") if callspec is not None else None
        if isinstance(handle, CheckHandle):
            selected.add(handle.spec.id)
    state.selected = selected


class CheckHandle:
    """What a synthetic test function receives: its check, and ``verify()`` to report and judge it."""

    def __init__(self, spec: CheckSpec, state: SyntheticState) -> None:
        self.spec, self._state = spec, state

    def __repr__(self) -> str:
        return f"<check {self.spec.id}>"

    @property
    def probe(self) -> Probe | None:
        """The check's run (the first call runs every selected check, concurrently)."""
        return self._state.run().probes.get(self.spec.id)

    def verify(self) -> None:
        """Report the check to Allure, then pass, skip, or fail with its severity."""
        probe = self.probe
        if probe is None:
            pytest.fail("the check did not run", pytrace=False)
        item = self._state.current_item
        if probe.status == "flaky" and item is not None:
            item.user_properties.append(("sloguard_flaky", True))
        if probe.status == "skipped":
            pytest.skip(probe.skipped or "skipped")
        if probe.status == "inconclusive":
            pytest.skip(f"inconclusive: {probe.undecided}")
        failures = probe.failures
        if failures:
            pytest.fail("\n".join(f.label for f in failures), pytrace=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[STATE_KEY].current_item = item


@pytest.fixture(scope="session")
def sloguard_session(request: pytest.FixtureRequest) -> SyntheticSession:
    """The config, catalog and plan of this run, for teams' own checks."""
    return request.config.stash[STATE_KEY].session


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    rep = outcome.get_result()
    if not _is_check(item) and (rep.when == "call" or rep.failed or rep.skipped):
        item.config.stash[STATE_KEY].team_results.append(report.team_result(item.nodeid, rep))
    if rep.when == "call" and rep.passed and ("sloguard_flaky", True) in item.user_properties:
        rep.outcome = "passed"
        rep.sections.append(("sloguard", "flaky: passed only on retry"))


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "call" and report.passed and any(s[0] == "sloguard" for s in report.sections):
        return "flaky", "F", ("FLAKY", {"yellow": True})
    return None


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash[STATE_KEY]
    if state.outcome is None or state._session is None:
        return
    summary = state.session.write_summary(state.outcome, extra=_one_per_test(state.team_results))
    alluredir = session.config.getoption("allure_report_dir", None)
    if alluredir and state.session.last_run is not None:
        if session.config.getoption("clean_alluredir", False):
            remover = clean_allure(alluredir)
            if remover is not None:
                remover.join(timeout=60)
        write_allure_results(state.session.last_run.records.snapshot(), alluredir)
        report.allure_extras(Path(alluredir), state.session)
    session.config.stash[SUMMARY_KEY] = summary
    if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        # The run's verdict (failures at or above fail_on) decides, not each item: a P2 finding fails
        # its item in the report but not the run. A team's own tests are results like the others.
        failed = summary["verdict"] == "fail"
        session.exitstatus = pytest.ExitCode.TESTS_FAILED if failed else pytest.ExitCode.OK


def _one_per_test(results: list[CheckResult]) -> list[CheckResult]:
    """A team test's setup, call and teardown reports: the worst one stands for the test."""
    order = {"failed": 0, "error": 0, "skipped": 1, "passed": 2}
    best: dict[str, CheckResult] = {}
    for r in results:
        known = best.get(r.check_id)
        if known is None or order[r.status.value] < order[known.status.value]:
            best[r.check_id] = r
    return list(best.values())


def _is_check(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    return callspec is not None and isinstance(callspec.params.get("sloguard_check"), CheckHandle)


SUMMARY_KEY = pytest.StashKey[dict[str, Any]]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY_KEY, None)
    if summary is None:
        return
    terminalreporter.section("sloguard")
    for line in report.human_lines(summary):
        terminalreporter.write_line(line)
    path = summary.get("_path")
    if path:
        terminalreporter.write_line(f"summary: {path}")
