# Every target works on a machine that has only Python 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench chaos clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/zns-sync demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check zns_sync tests bench
	$(BIN)/ruff format --check zns_sync tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/bench.py $(BENCH_ARGS)

chaos: $(STAMP)
	ZNS_CHAOS_KILLS=$${ZNS_CHAOS_KILLS:-100} $(BIN)/python -m pytest -q -n 2 tests/test_crash_safety.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
