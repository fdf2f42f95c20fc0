# Two commands do all the setup on a fresh machine:
#   make demo   creates .venv, installs royalroad with the web app, simulates a dataset,
#               analyses it, writes out/ and prints the goal, the hand-off and how to open the app
#   make test   creates .venv with the test extras, runs make lint, then the whole suite
#   make lint   ruff check, ruff format --check and mypy (the tools come with the test extras)
#
# The web app (Streamlit) is the 'app' extra, installed here because it is a main feature;
# it stays an extra for pip users so that a server or cron job running only the command
# line does not pull in a web framework.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
OUT    ?= out

.PHONY: demo test lint install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml Makefile
	$(PIP) install --quiet -e '.[ja,app]'
	@touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml Makefile
	$(PIP) install --quiet -e '.[ja,app,test]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/royalroad demo --out $(OUT)

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(OUT) .pytest_cache .hypothesis test-artifacts
