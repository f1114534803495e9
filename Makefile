# Two commands matter: `make run` (serve with demo data) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test test-fast fuzz check lint format schema schema-check codegen codegen-check worker collector scheduler migrate bench clean

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

run: install  ## migrate, load demo data if empty, serve on :8000 with embedded workers
	$(PY) -m app serve --demo

test: install  ## the whole suite (CI runs exactly this)
	$(PY) -m pytest

test-fast: install  ## the inner loop: all but the real-process and fuzz tests, on every core
	$(PY) -m pytest -m "not e2e and not fuzz" -n auto

fuzz: install  ## the fuzz tests with a long budget (make test runs a bounded one)
	FUZZ_BUDGET=full $(PY) -m pytest tests/api/test_fuzz.py

CODE := app engine workers tests bench clients/python/src

check: install codegen-check  ## format, lint, types, layer contracts, schema and client current (CI runs this before the tests)
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

clean:
	rm -rf $(VENV) $(CODEGEN_VENV) .data .pytest_cache .mypy_cache .ruff_cache
