# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast fuzz chaos check lint format schema schema-check worker collector scheduler migrate bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install  ## migrate, load demo data if empty, serve on :8000 with embedded workers
	$(PY) -m app serve --demo

test: install  ## the whole suite (CI runs exactly this)
	$(PY) -m pytest

test-fast: install  ## the inner loop: all but the real-process, fuzz and chaos tests, on every core
	$(PY) -m pytest -m "not e2e and not fuzz and not chaos" -n auto

fuzz: install  ## the fuzz tests with a long budget (make test runs a bounded one)
	FUZZ_BUDGET=full $(PY) -m pytest tests/api/test_fuzz.py

chaos: install  ## the chaos test with a long budget (make test runs a bounded one; CHAOS_SEED=n replays a run)
	CHAOS_BUDGET=full $(PY) -m pytest tests/chaos -m chaos

CODE := app engine workers tests bench

check: install  ## format, lint, types, layer contracts, schema (CI runs this before the tests)
	$(PY) -m ruff format --check $(CODE)
	$(PY) -m ruff check $(CODE)
	$(PY) -m mypy $(CODE)
	$(VENV)/bin/lint-imports
	$(PY) -m app.graphql.sdl --check schema.graphql

lint: check

format: install  ## apply the formatter and the safe lint fixes
	$(PY) -m ruff format $(CODE)
	$(PY) -m ruff check --fix $(CODE)

schema: install  ## regenerate schema.graphql from the code
	$(PY) -m app.graphql.sdl > schema.graphql

schema-check: install  ## fail when schema.graphql is stale
	$(PY) -m app.graphql.sdl --check schema.graphql

worker: install  ## worker processes for distributed mode (needs BROKER_URL)
	$(PY) -m app worker

collector: install  ## a live collector process (distributed mode; the gateway collects when embedded)
	$(PY) -m app collect

scheduler: install  ## the scheduler of recurring exports alone (gateways run it too unless told not to)
	$(PY) -m app scheduler

migrate: install
	$(PY) -m app migrate

bench: install  ## the engine against naive Python and DuckDB, subscription fan-out, GraphQL latency, 1 vs 2 workers
	$(PY) -m bench
	$(PY) -m bench.fanout
	$(PY) -m bench.latency
	$(PY) -m bench.parts

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache
