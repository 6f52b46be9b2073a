# The README's two commands: `make demo` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sloguard-installed
# npm ci writes this file last, so it says node_modules matches the lock file.
NODE_STAMP := node_modules/.package-lock.json

.PHONY: setup demo test lint bench clean

setup: $(STAMP) $(NODE_STAMP)

# httpbin is the third-party API the contract tests run against. Its greenlet<3 pin (Python < 3.12)
# conflicts with Locust's gevent, and httpbin.core never imports greenlet: it is installed without
# deps (its real dependencies, flask, flasgger, brotlicffi and decorator, are in the test extra).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m pip install -q --no-deps 'httpbin==0.10.4'
	@touch $(STAMP)

# Allure Report 3 (HTML reports, no Java), pinned in package.json + package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error; \
	else \
	  echo "npm not found: install Node.js 20+ for the HTML report (sloguard report); the rest works without it" >&2; \
	fi

demo: setup
	$(BIN)/sloguard demo

lint: setup
	$(BIN)/ruff check sloguard tests bench synthetics
	$(BIN)/mypy

# Two passes: most tests on $(TEST_WORKERS) pytest-xdist workers, then the `serial` ones alone, because their
# verdicts (latency objectives, a load generator's CPU, arrival rates) depend on the machine's headroom.
# A pass that selects nothing (exit 5) is fine when the other ran tests; both selecting nothing is a failure.
TEST_WORKERS ?= 2
test: setup lint
	@$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) -m "not serial" $(PYTEST_ARGS); a=$$?; \
	  $(BIN)/pytest -q -p no:cacheprovider -m serial $(PYTEST_ARGS); b=$$?; \
	  if [ $$a -eq 5 ] && [ $$b -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	  [ $$a -eq 5 ] && a=0; [ $$b -eq 5 ] && b=0; \
	  if [ $$a -ne 0 ]; then exit $$a; fi; exit $$b

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules reports/allure-results reports/html reports/summary.json .sloguard
