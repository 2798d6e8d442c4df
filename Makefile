# One front for everything; CI runs `make test`, exactly as the README says.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MODEL ?= $(shell $(PYTHON) -c "import os,pathlib;print(pathlib.Path(os.environ.get('NARRASCOPE_HOME') or pathlib.Path.home()/'.cache'/'narrascope')/'models'/'default')")

.PHONY: run setup model serve test test-all checks lint typecheck datacheck challenge pytest browser postgres bench clean

## Fresh machine -> environment, embedded encoder, default model (trained once), service on http://$(HOST):$(PORT)
run: model serve

$(BIN)/narrascope: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel of torch first: an unpinned torch would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,distributed]'
	touch $(BIN)/narrascope

setup: $(BIN)/narrascope

model: setup
	$(BIN)/narrascope encoder prepare
	@if [ -f "$(MODEL)/config.json" ]; then echo "model ready: $(MODEL)"; \
	else echo "no model at $(MODEL): training the default model (about 17 minutes on 2 cores)"; \
	  $(BIN)/narrascope train --output "$(MODEL)" && $(BIN)/narrascope eval --model "$(MODEL)" > /dev/null; fi

serve: setup
	$(BIN)/narrascope serve --model "$(MODEL)" --host $(HOST) --port $(PORT)

## The whole suite: lint, types, the data contract, unit + integration + browser tests
# The static checks (ruff, mypy, the data check: one core, ~20 s) run beside pytest, whose servers, Ray and
# subprocess waits leave a core idle at times; each part's output is printed whole when it ends (-O).
test: setup browser postgres
	$(MAKE) --no-print-directory -O -j2 checks pytest

# One after the other (one job slot), so pytest gets the other slot at once.
checks: setup
	$(MAKE) --no-print-directory -j1 lint typecheck datacheck challenge

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot follow setuptools' folder-to-subpackage mapping, so it checks a tree of links laid out as the
# package imports (narrascope/model -> model/, ...); the mapping is read from pyproject.toml, not restated here.
TYPECHECK_TREE := build/typecheck
typecheck: setup
	@rm -rf $(TYPECHECK_TREE) && mkdir -p $(TYPECHECK_TREE)
	@$(BIN)/python -c "import pathlib,tomllib; \
	dirs = tomllib.load(open('pyproject.toml','rb'))['tool']['setuptools']['package-dir']; \
	out = pathlib.Path('$(TYPECHECK_TREE)'); \
	[(out / pkg.replace('.', '/')).parent.mkdir(parents=True, exist_ok=True) for pkg in dirs]; \
	[(out / pkg.replace('.', '/')).symlink_to(pathlib.Path(src).resolve(), target_is_directory=True) \
	 for pkg, src in sorted(dirs.items()) if pkg != 'narrascope']; \
	[(out / 'narrascope' / f.name).symlink_to(f.resolve()) for f in pathlib.Path(dirs['narrascope']).glob('*.py')]"
	cd $(TYPECHECK_TREE) && $(CURDIR)/$(BIN)/mypy --config-file $(CURDIR)/pyproject.toml \
	  --cache-dir $(CURDIR)/.mypy_cache -p narrascope

datacheck: setup
	$(BIN)/narrascope data check

# The challenge suite's regression gate (issue 11): the default model, where this machine has one, must keep each
# capability's pass rate recorded in data/challenge/recorded.json. A machine without a trained model (a fresh
# CI box before `make model`) has nothing to gate and says so.
challenge: setup
	@if [ -f "$(MODEL)/config.json" ]; then $(BIN)/narrascope challenge --model "$(MODEL)" --gate; \
	else echo "challenge gate skipped: no trained model at $(MODEL) (make model trains one)"; fi

# One worker per core (pytest-xdist), a test file per worker so module fixtures are built once.
PYTEST_PARALLEL ?= -n auto --dist loadfile
pytest: setup
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

## Everything `make test` runs plus the slow integration tests with the real embedded encoder (minutes more)
test-all: setup browser postgres lint typecheck datacheck
	$(BIN)/python -m pytest -q -m "" $(PYTEST_PARALLEL)

# Debian chromium for the browser test (needs root, as on CI); without it that one test is skipped with a reason.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: could not install chromium; the browser test will be skipped"; fi

# Debian PostgreSQL for the multi-machine feedback test, which starts its own throwaway server from these
# binaries (needs root to install, as on CI); without them that test is skipped with a reason.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null \
	  && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "warning: could not install postgresql; the PostgreSQL feedback test will be skipped"; fi

# One command for the lead's quiet-machine rerun: runtimes side by side (engine, pipeline, service), then
# the service under load and batch throughput. The model folder is exported first if it has no int8 graph
# (into a temporary copy; `narrascope export --model "$(MODEL)" --int8` makes it permanent).
bench: setup
	$(BIN)/python bench/runtimes.py --model "$(MODEL)"
	$(BIN)/python bench/load_test.py --model "$(MODEL)"
	$(BIN)/python bench/batch_throughput.py --model "$(MODEL)"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
