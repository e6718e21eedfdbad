# The two commands the README opens with: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint venv doctor-eval bench bench-main bench-topology bench-scoped dist-check docs docs-serve faults template-acceptance bench-template

$(BIN)/sqlmodel-production: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[postgres,mysql,telemetry]" --group dev --group docs --group bench
	touch $@

venv: $(BIN)/sqlmodel-production

## Serve the reference Heroes service on SQLite (http://127.0.0.1:8000/docs).
demo: venv
	$(BIN)/sqlmodel-production demo --sample-data

# Test workers (pytest-xdist); each has scratch databases of its own. `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= 3

## Run the whole test suite on SQLite, PostgreSQL and MariaDB.
test: venv
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check sqlmodel_production tests scripts bench faults
	$(BIN)/ruff format --check sqlmodel_production tests scripts bench faults
	$(BIN)/mypy
	$(BIN)/python scripts/gen_sync.py --check
	$(BIN)/python scripts/gen_explain.py --check
	$(BIN)/sqlmodel-production doctor sqlmodel_production docs_src

## The doctor on 81 public projects outside its corpus, at pinned commits cloned into
## ~/.cache (EVAL_ARGS="--mirror DIR" reads local bare clones): precision per rule from the
## judged findings, recall from seeded problems (docs/doctor.md). Not run in CI.
doctor-eval: venv
	$(BIN)/python scripts/doctor_eval.py $(EVAL_ARGS)

## Build the wheel and the sdist, install the wheel in a fresh venv, run demo, doctor and explain.
dist-check: venv
	PYTHON=$(CURDIR)/$(BIN)/python scripts/check_dist.sh

## Every benchmark (needs wrk: apt-get install wrk): side by side, topology, row scope; ~15 min.
bench: bench-main bench-topology bench-scoped

## Side-by-side benchmarks on PostgreSQL; see docs/performance.md.
bench-main: venv
	$(BIN)/python -m bench $(BENCH_ARGS)

## The router and the raw floor directly, through PgBouncer and on a replica, 1 and 2 workers (docs/scaling.md).
bench-topology: venv
	bash scripts/topology.sh all
	$(BIN)/python -m bench.topology

## The routes with a row scope beside the same routes without one, serving the same rows (docs/crud.md).
bench-scoped: venv
	$(BIN)/python -m bench.scoped

# Material's banner about its successor is not a problem of this site.
export NO_MKDOCS_2_WARNING := 1

## Build the documentation site into site/; a broken link, include or anchor fails it.
docs: venv
	$(BIN)/mkdocs build --strict

## Serve the documentation on http://127.0.0.1:8001, rebuilt on every change.
docs-serve: venv
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

## Real faults on throwaway PostgreSQL and MariaDB servers; prints the fault table (docs/reliability.md).
faults: venv
	$(BIN)/python -m pytest tests/faults -m faults -p no:cacheprovider $(PYTEST_ARGS)

TEMPLATE := acceptance/full-stack-fastapi-template
TEMPLATE_VENV := .venv-template

$(TEMPLATE_VENV)/bin/python: pyproject.toml $(TEMPLATE)/requirements.txt
	$(PYTHON) -m venv $(TEMPLATE_VENV)
	$(TEMPLATE_VENV)/bin/python -m pip install --quiet --upgrade "pip>=25.1"
	$(TEMPLATE_VENV)/bin/python -m pip install --quiet -e ".[postgres]" -r $(TEMPLATE)/requirements.txt
	touch $@

## FastAPI's full-stack template ported onto the package: its own backend tests, on PostgreSQL.
template-acceptance: $(TEMPLATE_VENV)/bin/python
	$(TEMPLATE_VENV)/bin/python acceptance/run_template.py -q

## The template's item routes as published and as ported, side by side (needs wrk).
bench-template: $(TEMPLATE_VENV)/bin/python
	$(TEMPLATE_VENV)/bin/python acceptance/bench_template.py
