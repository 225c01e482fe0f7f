# tipsom: two commands. `make run` serves the demo; `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(HOME)/.local/bin:$(PATH)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-quick bench lint venv system-deps clean

$(VENV)/.synced: pyproject.toml uv.lock
	@bash scripts/system-deps.sh
	@command -v uv >/dev/null || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	# compiled once here: where PYTHONDONTWRITEBYTECODE is set, every tipsom command would otherwise
	# recompile its libraries at start-up (about 1 s more per command)
	uv sync --frozen --compile-bytecode
	@touch $@

venv: $(VENV)/.synced

system-deps:
	@bash scripts/system-deps.sh

## run: fresh machine -> virtualenv, demo data in ./var, web app on 127.0.0.1:8000
run: venv
	$(BIN)/tipsom init
	$(BIN)/tipsom demo --if-empty
	$(BIN)/tipsom serve --host $(HOST) --port $(PORT)

## lint: ruff, mypy --strict on src/, and the layers contract (data flows one way: pyproject.toml [tool.importlinter])
lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

## test: fresh machine -> lint, then every test (starts PostgreSQL, Chromium, Spark itself)
test: venv system-deps lint
	$(BIN)/pytest

## test-quick: while developing: SQLite only, no browser, Spark or slow tests, no lint (make test runs them all)
QUICK := not postgres and not browser and not spark and not slow
test-quick: venv
	$(BIN)/pytest -q -m "$(QUICK)"

## bench: every benchmark in bench/, results into docs/benchmarks.md
bench: venv
	@bash scripts/system-deps.sh bench
	$(BIN)/python bench/run.py $(BENCH)

clean:
	rm -rf var .pytest_cache .mypy_cache
