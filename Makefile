# fedchain: `make test` and `make demo` each do their own setup on a fresh clone.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(CURDIR)/$(VENV)/bin
NODE_BIN := $(CURDIR)/contracts/node_modules/.bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := contracts/node_modules/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
FORGE := cd contracts && PATH="$(NODE_BIN):$$PATH" forge

.PHONY: help setup test test-contracts test-python lint typecheck slither artifacts artifacts-check demo bench bench-quick clean

help:
	@echo "make test       set up (virtualenv, npm ci, Debian's chromium) and run every check: forge, artifacts, slither, ruff, import layers, mypy, pytest"
	@echo "make artifacts  rebuild the contract artifacts shipped in src/fedchain/contracts/artifacts"
	@echo "make demo       set up the virtualenv (no Node.js needed) and run 'fedchain demo' (about 2.5 minutes)"
	@echo "make bench      run every bench (bench/suite.py): bench/results/*.json and the tables in BENCHMARKS.md (an hour or more on 2 cores)"
	@echo "make bench-quick  each bench's quick variant at tiny size (a few minutes); BENCHMARKS.md is left alone"

setup: $(PY_STAMP) $(NODE_STAMP)

# torch is installed first and pinned, so nothing later pulls a CUDA build.
$(PY_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,flower,ray,zk]'
	touch $@

$(NODE_STAMP): contracts/package.json contracts/package-lock.json
	cd contracts && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The dashboard's test drives Debian's Chromium (Playwright's own browser download is never used).
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) apt-get install -y --no-install-recommends chromium

test: setup test-contracts artifacts-check slither lint typecheck test-python

test-contracts: $(NODE_STAMP)
	$(FORGE) test

artifacts: setup
	$(PY) contracts/tools/export_artifacts.py

artifacts-check: setup
	$(PY) contracts/tools/export_artifacts.py --check

slither: setup
	cd contracts && PATH="$(NODE_BIN):$(BIN):$$PATH" slither . --filter-paths "node_modules|test" --fail-medium

lint: $(PY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: $(PY_STAMP)
	$(BIN)/mypy

test-python: setup $(CHROMIUM)
	$(BIN)/pytest

demo: $(PY_STAMP)
	$(BIN)/fedchain demo

# The round bench runs fedchain on anvil too, hence the Node.js setup.
bench: setup
	$(PY) bench/suite.py

bench-quick: $(PY_STAMP)
	$(PY) bench/suite.py --quick

clean:
	rm -rf $(VENV) contracts/node_modules contracts/out contracts/cache
