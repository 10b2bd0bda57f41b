# One entry point for every routine. `make run` and `make test` set everything up themselves
# on a fresh machine with Python 3.11 and pip: a virtualenv in .venv with the locked stack.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed
export UV_COMPILE_BYTECODE := 1
# OpenMP threads (gradient boosting) spin while they wait; on 2 shared cores that made a fit
# 20x slower under load (measured: 63 s vs 3 s). Passive waiting costs little when idle.
export OMP_WAIT_POLICY := PASSIVE
# dg dev and scheduled runs use ./dagster.yaml; run history stays in the git-ignored .dagster/
export DAGSTER_HOME := $(CURDIR)

.PHONY: setup browser spark run test test-quick bench dev lint format docs calibration clean

$(READY): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

setup: $(READY) ## create .venv with the locked dependencies

run: setup ## run the whole pipeline on the synthetic LLR population
	$(BIN)/phm run

# The profile test opens a page in a real headless browser (Debian's chromium).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing Debian's chromium for the browser test"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@# axe-core (npm) for the accessibility audit, into the git-ignored .axe/
	@test -f .axe/node_modules/axe-core/axe.min.js || { \
	  command -v npm >/dev/null 2>&1 || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq npm >/dev/null; }; \
	  echo "Installing axe-core for the accessibility test"; \
	  mkdir -p .axe && npm install --prefix .axe --no-audit --no-fund --silent axe-core@4.11 >/dev/null; }

# The Spark parity suite (tests/parity) runs in local[2]: Debian's Java 17 and PySpark (the
# optional `spark` group of pyproject.toml), installed here where missing, never by `make run`.
spark: setup
	@command -v java >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing Debian's openjdk-17-jre-headless for the Spark parity suite"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }
	@$(BIN)/python -c "import importlib.util as u, sys; sys.exit(not all(map(u.find_spec, ('pyspark', 'grpc_status', 'zstandard'))))" || { \
	  echo "Installing PySpark into $(VENV) for the Spark parity suite (about 70 s)"; \
	  $(BIN)/uv pip install --quiet --python $(BIN)/python "pyspark[connect]==4.3.0"; }

# One worker per core (pytest-xdist), each test file whole on one worker, so that a file's
# costly fixtures (a module's pipeline runs) are built once. Not --dist loadgroup: with
# pytest 9.2, xdist 3.8 cannot tag the node ids, and the groups silently fall apart.
test: setup browser spark ## the whole test suite, slow tests included (what CI runs)
	$(BIN)/pytest -n logical --dist loadfile

test-quick: setup ## the quick local loop
	$(BIN)/pytest -m "not slow" -x -q

bench: setup ## per-stage time and peak memory on the full population
	$(BIN)/phm bench

dev: setup ## the Dagster UI on http://127.0.0.1:3000
	$(BIN)/dg dev --host 127.0.0.1 --port 3000

lint: setup
	$(BIN)/ruff check phm pipelines tests
	$(BIN)/ruff format --check phm pipelines tests

format: setup
	$(BIN)/ruff format phm pipelines tests
	$(BIN)/ruff check --fix phm pipelines tests

docs: setup ## regenerate docs/data-dictionary.md from the table declarations
	$(BIN)/phm docs

calibration: setup ## regenerate docs/calibration-report.md (full population, default seed)
	$(BIN)/phm calibrate

clean: ## remove outputs and run history (keeps .venv)
	rm -rf outputs .dagster
