# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install frontend frontend-check run test test-fast fuzz chaos check lint format schema schema-check codegen codegen-check worker collector scheduler migrate bench bench-large clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip install --quiet -e clients/python  # the typed client, for its tests
	touch $(STAMP)

# ariadne-codegen lives in a virtual environment of its own: it needs graphql-core < 3.3, the
# gateway's Strawberry needs 3.3. Pinned (versions of what formats its output included), so
# that the committed generated code is reproduced byte for byte.
CODEGEN_VENV  := .venv-codegen
CODEGEN_STAMP := $(CODEGEN_VENV)/.installed-stamp

$(CODEGEN_STAMP): clients/python/codegen-requirements.txt
	$(PYTHON) -m venv $(CODEGEN_VENV)
	$(CODEGEN_VENV)/bin/pip install --quiet --no-deps -r clients/python/codegen-requirements.txt  # a full freeze
	touch $(CODEGEN_STAMP)

install: $(STAMP)

# The dashboard and GraphiQL pages (frontend/: Vite, TypeScript, types generated from
# schema.graphql), built into app/static/dist, which the gateway serves. Rebuilt only when a
# source, the lock file or the schema changed.
NPM         ?= npm
UI_DIST     := app/static/dist
UI_STAMP    := $(UI_DIST)/.built-stamp
NODE_STAMP  := frontend/node_modules/.installed-stamp
UI_SOURCES  := $(shell find frontend/src -type f) $(wildcard frontend/*.html frontend/*.ts frontend/tsconfig.json)

$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(UI_STAMP): $(NODE_STAMP) $(UI_SOURCES) schema.graphql
	cd frontend && $(NPM) run --silent codegen -- --silent && $(NPM) run --silent build -- --logLevel warn
	touch $(UI_STAMP)

frontend: $(UI_STAMP)  ## build the dashboard and GraphiQL pages (npm ci, codegen, vite build)

frontend-check: $(NODE_STAMP)  ## fail when frontend/src/gql is stale against schema.graphql, or types do not check
	cd frontend && $(NPM) run --silent codegen:check && $(NPM) run --silent typecheck

run: install frontend  ## migrate, load demo data if empty, serve on :8000 with embedded workers
	$(PY) -m app serve --demo

# The whole suite in two runs: the in-process layers on both cores, then, one at a time,
# what starts real processes (e2e, chaos) or owns the machine's time (the bounded fuzz run),
# listing the slowest of them (the CI run has a time budget).
test: install frontend  ## the whole suite (CI runs exactly this)
	$(PY) -m pytest -m "not e2e and not fuzz and not chaos" -n 2
	$(PY) -m pytest -m "e2e or fuzz or chaos" --durations=15

test-fast: install frontend  ## the inner loop: all but the real-process, fuzz and chaos tests, on every core
	$(PY) -m pytest -m "not e2e and not fuzz and not chaos" -n auto

fuzz: install  ## the fuzz tests with a long budget (make test runs a bounded one)
	FUZZ_BUDGET=full $(PY) -m pytest tests/api/test_fuzz.py

chaos: install  ## the chaos test with a long budget (make test runs a bounded one; CHAOS_SEED=n replays a run)
	CHAOS_BUDGET=full $(PY) -m pytest tests/chaos -m chaos

CODE := app engine workers tests bench clients/python/src

check: install codegen-check frontend-check  ## format, lint, types, layer contracts, schema, client and frontend types current (CI runs this before the tests)
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

codegen: $(CODEGEN_STAMP)  ## regenerate the Python client's models and operations from schema.graphql
	clients/python/codegen.sh $(CODEGEN_VENV)/bin/ariadne-codegen

codegen-check: $(CODEGEN_STAMP)  ## fail when the Python client's generated code is stale
	clients/python/codegen.sh $(CODEGEN_VENV)/bin/ariadne-codegen --check

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
	$(PY) -m bench.request_cpu
	$(PY) -m bench.latency
	$(PY) -m bench.parts

bench-large: install  ## the engine against DuckDB at 10M rows per format, and its memory at 1M, 10M and 50M rows (about 10 minutes on 2 cores; 1.8 GB of segments in the temporary directory, and 4.4 GB more while the two uncompressed JSON lines files are compared)
	$(PY) -m bench.large

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) .data .pytest_cache .mypy_cache .ruff_cache frontend/node_modules $(UI_DIST) test-artifacts
