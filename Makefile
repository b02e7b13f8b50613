# Digital City — the two commands of the README:
#   make demo   set up everything, seed the demo city on SQLite, serve it on 127.0.0.1:8000
#   make test   set up everything, run the test suite (SQLite unless DATABASE_URL is set)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DC     := $(BIN)/digitalcity
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test setup check lint typecheck serve worker clean bench

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "需要 Python 3.11 或更高版本"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency lists change.
$(VENV)/.installed: pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

setup: $(VENV)/.installed node_modules/.installed

# The demo runs on any date: deadlines that reach a year whose holiday notice is not
# imported yet are computed on weekends alone and shown as estimates (docs/cases.md).
demo: export DC_CALENDAR_ALLOW_ESTIMATE = true
demo: setup
	$(DC) migrate --no-input
	$(DC) demo
	$(DC) serve --host $(HOST) --port $(PORT) --with-worker

test: setup
	bash scripts/test.sh $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

check: lint typecheck
	$(DC) makemigrations --check --dry-run

serve: setup
	$(DC) serve --host $(HOST) --port $(PORT) --with-worker

worker: setup
	$(DC) worker

# The benchmarks' own dependencies (SpiffWorkflow, the reference engine) stay out of `setup`.
$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@

# Files starting with "_" are the benchmarks' shared helpers, not benchmarks.
bench: setup $(VENV)/.installed-bench
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
