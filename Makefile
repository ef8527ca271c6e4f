# Two commands matter: `make run` (set up, build the sample company's warehouse and packs) and
# `make test` (set up, run the tests). Everything else is a convenience.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

# The virtualenv's tools (dbt, dagster) first, without activating it.
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Dagster reads ./dagster.yaml; its run history and logs go to build/dagster.
export DAGSTER_HOME := $(CURDIR)
export SRW_DAGSTER_STORAGE := $(CURDIR)/build/dagster
export SRW_DAGSTER_LOGS := $(CURDIR)/build/dagster/logs
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install run test dev build generate lint clean

$(BIN)/.installed: pyproject.toml
	@echo "installing dependencies into $(VENV) (about 2 minutes the first time) ..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

run: install  ## sample company (if the landing folder is empty) -> nightly build through Dagster -> packs
	@mkdir -p build/dagster/logs
	$(BIN)/salesreview run

build: install  ## nightly build on whatever is in the landing folder
	@mkdir -p build/dagster/logs
	$(BIN)/salesreview prepare
	$(BIN)/salesreview build

test: install
	@mkdir -p build/dagster/logs
	$(BIN)/pytest

dev: install  ## the Dagster UI with the asset graph, checks, runs and the nightly schedule
	@mkdir -p build/dagster/logs
	$(BIN)/salesreview prepare
	$(BIN)/dagster dev -w workspace.yaml

lint: install
	$(BIN)/ruff check pipelines quality reports tests
	$(BIN)/ruff format --check pipelines quality reports tests

clean:  ## remove build outputs (warehouse, site, Dagster history); keeps the landing folder
	rm -rf build dbt_project/target dbt_project/logs
