# The README's two commands: `make demo` and `make test`. Both install what is missing first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.sloguard-installed

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

demo: setup
	$(BIN)/sloguard demo

lint: setup
	$(BIN)/ruff check sloguard tests bench synthetics
	$(BIN)/mypy

test: setup lint
	@$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	  exit $$rc

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) reports/allure-results reports/html reports/summary.json .sloguard
