# The one stable interface. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON ?= python3
UV_VERSION := 0.13.9
export PATH := $(BIN):$(PATH)
DBT_FILES := $(shell find dbt_project -path dbt_project/target -prune -o \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' \) -print)

.PHONY: setup run test test-all test-extended mutants lint dev dbt-dev bench docs examples bi-smoke pg-up pg-down clean

setup: $(VENV)/.installed dbt_project/target/manifest.json  ## install everything into .venv (locked)

$(VENV)/.installed: pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv sync --frozen --compile-bytecode --quiet
	@touch $@

# dagster-dbt's documented preparation: dbt parse into target/manifest.json (and the partial-parse
# state every refresh starts from). From scratch when the project changed: a partial parse over a
# merge that moved macros lost a singular test's YAML config (its Dagster check went missing).
dbt_project/target/manifest.json: $(VENV)/.installed $(DBT_FILES)
	@rm -f dbt_project/target/partial_parse.msgpack
	@$(BIN)/dagster-dbt project prepare-and-package --file orchestration/project.py >/dev/null

run: setup  ## set up, then one refresh (live page, or the archived snapshot when offline)
	@$(BIN)/kfor refresh

test: setup  ## the test suite without the tests marked slow (about three minutes on 2 cores)
	@$(BIN)/pytest

test-all: setup  ## every test: make test, CI's slow layer and the extended end-to-end duplicates
	@$(BIN)/pytest -m "" ; rc=$$?; [ $$rc -eq 5 ] && exit 0 || exit $$rc

test-extended: setup  ## the end-to-end duplicates beyond CI's 20 minutes (about 12 minutes)
	@$(BIN)/pytest -m extended

mutants: setup  ## every kept regression (tests/mutants/*.patch) must turn the non-slow suite red
	@$(BIN)/python scripts/mutants.py

# The one Dagster instance every refresh is recorded in (kfor refresh uses the same default).
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME
DEV_PORT ?= 3000

dev: setup  ## Dagster UI + daemon on 127.0.0.1 (page sensor on); shows every refresh, cron ones too
	@$(BIN)/python -m orchestration.drivers.launch  # its dagster.yaml, Postgres's with DAGSTER_PG_URL
	@echo "Dagster UI: http://127.0.0.1:$(DEV_PORT)  (DAGSTER_HOME=$(DAGSTER_HOME))"
	@$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p $(DEV_PORT)

dbt-dev: setup  ## a dev target for working on dbt by hand: dbt_project/dev/kfor.duckdb from the published raw schema
	@$(BIN)/python -m orchestration.drivers.dbt_dev

bench: setup  ## the benchmark: ratios against a warm `dbt build`, into bench/results.json
	@$(BIN)/python bench/run.py

docs: setup  ## the dbt docs site (static, one file) -> docs/site/index.html
	@$(BIN)/python -m orchestration.drivers.docs_site

bi-smoke: setup  ## Apache Superset (own venv) reads a DuckDB warehouse read-only, then a Postgres one as a kfor_reader member, while a refresh publishes
	@bash scripts/bi_smoke.sh

examples: setup  ## docs/queries.md and docs/img from a scratch warehouse built from the bundled snapshot
	@tmp=$$(mktemp -d); snap=$$(ls raw/bundled/*.html | tail -1); \
	export KFOR_WAREHOUSE=$$tmp/w/kfor.duckdb KFOR_RAW_DIR=$$tmp/raw; \
	$(BIN)/kfor refresh --source file://$(CURDIR)/$$snap >/dev/null \
	&& $(BIN)/kfor plot --out docs/img >/dev/null && $(BIN)/python -m orchestration.drivers.queries; \
	rc=$$?; rm -rf $$tmp; exit $$rc

# A Postgres server of your own for the postgres target (docs/postgres.md): data under .pg/.
PG_PORT ?= 5433

pg-up: setup  ## a local Postgres server on 127.0.0.1:$(PG_PORT) (data in .pg/), with databases kfor and dagster
	@$(BIN)/python tests/support/postgres.py up --dir .pg --port $(PG_PORT)

pg-down: setup  ## stop the server make pg-up started (its data stays in .pg/)
	@$(BIN)/python tests/support/postgres.py down --dir .pg

lint: setup
	@$(BIN)/ruff check orchestration tests bench

clean:
	rm -rf $(VENV) .venv-superset dbt_project/target dbt_project/logs docs/site
