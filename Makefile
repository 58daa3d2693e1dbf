# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Both create the virtualenv on first use and install the pinned set from requirements.lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV_VERSION := 0.13.8

export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := False

.PHONY: demo test lint pytest chromium install lock bench clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

## The main job end to end on the embedded default (DuckDB, local files, synthetic data).
demo: $(STAMP)
	$(BIN)/gw demo

## Lint (ruff, sqlfluff with the dbt templater) and the whole pytest suite.
test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models
	$(BIN)/python -m gw.metadata_gate

pytest: $(STAMP) chromium
	$(BIN)/pytest

## Debian's chromium for the report's browser test (tests/integration/test_report.py); needs root.
chromium:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y --no-install-recommends chromium)

## Benchmarks: our pipeline vs DuckDB read_json and chdb on the same data (SIZE=small|medium|full).
SIZE ?= full
bench: $(STAMP)
	$(BIN)/gw bench --size $(SIZE)

## Re-pin requirements.lock after changing pyproject.toml (names, versions and hashes only).
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra spark --generate-hashes --python-version 3.11 -o requirements.lock

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs .pytest_cache .ruff_cache
