"""The pytest plugin: one item per planned check, run as one concurrent batch, reported to Allure.

Collection plans the checks from the config and the target's OpenAPI description; the first
item that needs a result runs every *selected* check at once (so ``-k slack`` only calls Slack);
each item then reports its own result: steps, attachments, severity, flaky flag.

Use it with ``-p sloguard.synthetics.plugin`` or ``pytest_plugins`` in a conftest, and the options
``--sloguard-config``, ``--target`` and ``--read-only``.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any, Literal

import pytest

from sloguard.errors import UsageError
from sloguard.reports.allure_writer import AllureStream
from sloguard.reports.allure_writer import clean as clean_allure
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
    """Per-pytest-run state: the session (config, catalog, plan) and, once run, the outcome.

    The checks run on a thread of their own from the end of collection (`start`), so pytest reports
    each item as soon as its own check is over instead of after the whole sweep; without `start`
    (another plugin's collection, an item run directly) the first item to ask runs them all.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.pytest_config = config
        self._session: SyntheticSession | None = None
        self.selected: set[str] | None = None
        self.outcome: RunOutcome | None = None
        self.results: list[CheckResult] = []  # the outcome's probes as results
        self.allure: AllureStream | None = None
        self._done: dict[str, CheckResult] = {}  # results of the checks whose task is over
        self._over: dict[str, Probe] = {}  # and their probes, for the items waiting on them
        self.current_item: pytest.Item | None = None
        self.team_results: list[CheckResult] = []  # a team's own tests in the suite folder, as results
        self._lock = threading.Lock()
        self._progress = threading.Condition()
        self._engine: threading.Thread | None = None
        self._failure: BaseException | None = None

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
                self.allure = self._open_allure()
                outcome = self.session.run(self.selected, self._finished)
                self.results = report.check_results(outcome, self._done)
                if self.allure is not None:
                    self.allure.write(r for r in self.results if r.check_id not in self._done)
                with self._progress:
                    self.outcome = outcome
                    self._progress.notify_all()
            return self.outcome

    def start(self) -> None:
        """Run the checks on a thread from now on; items then wait for their own check only."""
        if self._engine is None and self.outcome is None:
            self._engine = threading.Thread(target=self._run_engine, name="sloguard-checks", daemon=True)
            self._engine.start()

    def _run_engine(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # handed to the items waiting, in the thread pytest reports from
            with self._progress:
                self._failure = exc
                self._progress.notify_all()

    def probe_of(self, spec_id: str) -> Probe | None:
        """The check's probe once it is final: as soon as its task is over when the checks run on
        their thread, else after running them all here."""
        if self._engine is None:
            return self.run().probes.get(spec_id)
        with self._progress:
            while spec_id not in self._over and self.outcome is None and self._failure is None:
                self._progress.wait()
            if spec_id in self._over:
                return self._over[spec_id]
            if self._failure is not None:
                raise self._failure
            assert self.outcome is not None
            return self.outcome.probes.get(spec_id)

    def wait(self) -> RunOutcome | None:
        """The outcome, once the checks' thread is over (None if they never ran or broke: the items
        that waited for them have reported the error)."""
        if self._engine is not None:
            self._engine.join()
        return self.outcome

    def _finished(self, probes: list[Probe]) -> None:
        """A task's checks are final when it ends: their items can report, and their Allure files are
        written (on the stream's thread) while the other checks still wait for their answers."""
        batch = [report.to_result(p.spec, p) for p in probes]
        with self._progress:
            self._done.update((r.check_id, r) for r in batch)
            self._over.update((p.spec.id, p) for p in probes)
            self._progress.notify_all()
        if self.allure is not None:
            self.allure.write(batch)

    def _open_allure(self) -> AllureStream | None:
        alluredir = self.pytest_config.getoption("allure_report_dir", None)
        if not alluredir:
            return None
        if self.pytest_config.getoption("clean_alluredir", False):
            remover = clean_allure(alluredir)
            if remover is not None:
                remover.join(timeout=60)
        return AllureStream(alluredir)


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
    option = session.config.option
    if selected and not (option.collectonly or getattr(option, "setuponly", False)
                         or getattr(option, "setupplan", False)):
        state.start()  # nothing is sent for --collect-only or --setup-plan


class CheckHandle:
    """What a synthetic test function receives: its check, and ``verify()`` to report and judge it."""

    def __init__(self, spec: CheckSpec, state: SyntheticState) -> None:
        self.spec, self._state = spec, state

    def __repr__(self) -> str:
        return f"<check {self.spec.id}>"

    @property
    def probe(self) -> Probe | None:
        """The check's run, once it is over (the selected checks all run at once, concurrently)."""
        return self._state.probe_of(self.spec.id)

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


# Plugins whose set-up, call and tear-down hooks the short protocol below may leave out: pytest's own,
# which capture output, collect log records and unraisable exceptions, and evaluate skip and xfail marks
# (an item with marks takes the full protocol). With any other plugin in those hooks (allure-pytest,
# pytest-timeout, rerunfailures), every item takes the full protocol.
_BYPASSED = frozenset({"runner", "capturemanager", "logging-plugin", "skipping", "threadexception",
                       "unraisableexception"})
_SHORT_KEY = pytest.StashKey[bool]()


def _short_protocol_allowed(config: pytest.Config) -> bool:
    allowed = config.stash.get(_SHORT_KEY, None)
    if allowed is None:
        hook = config.pluginmanager.hook
        callers = (hook.pytest_runtest_setup, hook.pytest_runtest_call, hook.pytest_runtest_teardown)
        allowed = all(impl.plugin_name in _BYPASSED or impl.plugin is sys.modules[__name__]
                      for caller in callers for impl in caller.get_hookimpls())
        config.stash[_SHORT_KEY] = allowed
    return allowed


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """A planned check's item, reported without set-up and tear-down machinery it has no use for.

    Its only argument is its check (a direct parameter, no fixture) and the checks have run before it
    starts, so pytest's full protocol — three phases, each through the capture, logging and marker
    hooks — cost more per item than the check's own report (~0.7 ms, 1,400 items). The item still
    runs its test function; its call report comes from ``pytest_runtest_makereport``, its set-up and
    tear-down reports (passed, duration 0) are made here, and all three go to
    ``pytest_runtest_logreport`` (terminal, JUnit XML, ``-x``, ``--lf`` see no difference). The
    protocol's wrappers (assertion rewriting, warnings, faulthandler, pytest-timeout's timer) still
    wrap it; what it prints is not captured. An item with another fixture or a mark takes the full
    protocol, and so does every item when another plugin hooks each phase."""
    if not (_is_check(item) and isinstance(item, pytest.Function) and item.fixturenames == ["sloguard_check"]
            and all(m.name in ("sloguard", "parametrize") for m in item.iter_markers())
            and _short_protocol_allowed(item.config)):
        return None
    item.config.stash[STATE_KEY].current_item = item
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    item.funcargs["sloguard_check"] = item.callspec.params["sloguard_check"]
    call = pytest.CallInfo.from_call(item.runtest, when="call", reraise=(pytest.exit.Exception, KeyboardInterrupt))
    keywords: dict[str, Literal[1]] = dict.fromkeys(item.keywords, 1)
    reports = [
        pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "setup", start=call.start,
                          stop=call.start, user_properties=item.user_properties),
        ihook.pytest_runtest_makereport(item=item, call=call),
        pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "teardown", start=call.stop,
                          stop=call.stop, user_properties=item.user_properties),
    ]
    for rep in reports:
        ihook.pytest_runtest_logreport(report=rep)
        if rep.when == "call" and call.excinfo is not None and not hasattr(rep, "wasxfail") \
                and not isinstance(call.excinfo.value, pytest.skip.Exception):
            ihook.pytest_exception_interact(node=item, call=call, report=rep)
    item.funcargs.clear()
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


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
    if exitstatus == pytest.ExitCode.INTERRUPTED and state.outcome is None:
        return  # Ctrl-C while the checks ran: no summary of half a run (their thread ends with the process)
    outcome = state.wait()
    if outcome is None or state._session is None:
        return
    later = [*report.drift_results(state.session, outcome), *_one_per_test(state.team_results)]
    summary = report.write_summary(state.session, outcome, [*state.results, *later])
    if state.allure is not None:
        state.allure.write(later)
        state.allure.close()
        report.allure_extras(Path(session.config.getoption("allure_report_dir")), state.session)
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
