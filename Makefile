# One entry point. `make book` and `make test` each do the whole setup on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
# Keep every tool offline and quiet about telemetry; seed Python's hashing.
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg
export OMP_NUM_THREADS ?= 2

STAMP := $(VENV)/.installed

.PHONY: setup book book-clean test lint format bench serve clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

## Build the book into _build/html, executing every chapter (cached between local rebuilds).
book: $(STAMP)
	$(BIN)/jupyter-book build --all -W --keep-going .

## Setup, lint, a fresh book build, then the whole test suite.
test: $(STAMP) lint book
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/ruff format --check lib tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format lib tests benchmarks
	$(BIN)/ruff check --fix lib tests benchmarks

## Per-chapter execution time and peak memory, plus clean and no-change build times.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_chapters.py
	$(BIN)/python benchmarks/bench_build.py

## Serve the built site on http://127.0.0.1:8000
serve:
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .jupyter_cache
