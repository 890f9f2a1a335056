# One entry point. `make book` and `make test` each do the whole setup on a fresh machine.
SHELL := /bin/bash
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
# Seed Python's hashing. (No MPLBACKEND here: the kernels must keep the inline backend, or
# the chapters lose their figures.)
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS ?= 2

STAMP := $(VENV)/.installed
BWRAP := /usr/bin/bwrap

.PHONY: setup web browser book book-clean test lint format bench serve clean publish

setup: $(STAMP) $(BWRAP)

## The lock is the whole closure, installed as is (--no-deps; `pip check` proves nothing is
## missing). It leaves out rfc3987-syntax and lark, which jsonschema's format-nongpl extra
## would pull in for jupyter-events: importing rfc3987-syntax builds a grammar in 2.2 s, and every
## process that imports nbformat paid it (every nbgrader and course command, each grading
## worker). Without it jsonschema skips the "iri" format checks; nothing here validates IRIs.
##
## uv installs it (pinned in the lock too; pip installs uv itself): it downloads, unpacks and
## byte-compiles side by side. This step took 43 s with an empty cache against pip's 155 s, and
## left the same files (pip freeze, share/ and etc/ compared). uv reads no pip configuration,
## so it is handed pip's: the index, the extra indexes and find-links (where this machine and
## the CI workflow keep torch's CPU build); as in pip, the best match among all of them wins
## (2.13.0+cpu beats 2.13.0).
PIP_SETTING = $${PIP_$(1):-$$($(BIN)/python -m pip config get global.$(2) 2>/dev/null)}
UV_OPTION = $${$(1):+$$(printf -- '--$(2) %s ' $$$(1))}
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	  "$$(grep -x 'uv==[0-9.]*' requirements.lock)"
	index="$(call PIP_SETTING,INDEX_URL,index-url)"; \
	extra="$(call PIP_SETTING,EXTRA_INDEX_URL,extra-index-url)"; \
	links="$(call PIP_SETTING,FIND_LINKS,find-links)"; \
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --compile-bytecode \
	  --index-strategy unsafe-best-match $(call UV_OPTION,index,index-url) \
	  $(call UV_OPTION,extra,extra-index-url) $(call UV_OPTION,links,find-links) \
	  -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $@

## Browser assets, from npm at setup time only (web/package-lock.json pins them): MathJax,
## served with the book (no CDN), and axe-core, which the browser tests inject.
WEB_STAMP := web/node_modules/.installed
MATHJAX := web/static/mathjax/tex-mml-chtml.js
web: $(MATHJAX)

$(WEB_STAMP): web/package.json web/package-lock.json
	npm ci --prefix web --no-audit --no-fund --loglevel=error
	touch $@

$(MATHJAX): $(WEB_STAMP)
	rm -rf web/static/mathjax
	mkdir -p web/static
	cp -R web/node_modules/mathjax/es5 web/static/mathjax
	touch $@

## JupyterHub's proxy, from npm at setup time only (hub/package-lock.json pins it):
## configurable-http-proxy, for the exchange test on a real JupyterHub (tests/hub/).
.PHONY: hub
HUB_STAMP := hub/node_modules/.installed
hub: $(HUB_STAMP)

$(HUB_STAMP): hub/package.json hub/package-lock.json
	npm ci --prefix hub --no-audit --no-fund --loglevel=error
	touch $@

## Debian's Chromium for the browser tests; Playwright drives it (no browser download).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
## apt-get, one at a time (make test prepares in parallel; dpkg has one lock, and apt-get fails
## rather than waits for it): flock queues them on a lock file of this checkout.
APT := flock $(CURDIR)/.apt-lock $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get
## Install from the package lists as they are; only if that fails (a fresh machine has none, an
## old list names files the mirror no longer has) update them and install again. The three
## installs queue on the lock, so on a fresh machine the first one updates the lists for all.
APT_INSTALL = $(APT) install -y -q $(1) || { $(APT) update -q && $(APT) install -y -q $(1); }
browser: $(CHROMIUM)

$(CHROMIUM):
	$(call APT_INSTALL,chromium)

## Debian's bubblewrap (and libseccomp2): the grading sandbox (coursekit.jail). Grading refuses
## to run student code without it (course grade --unsafe-no-sandbox overrides).
$(BWRAP):
	$(call APT_INSTALL,bubblewrap libseccomp2)

## Debian's PostgreSQL server, for the tests that keep the gradebook in PostgreSQL
## (coursekit.batch.pgserver starts a private one on a Unix socket). Any installed version will do.
POSTGRES := $(or $(wildcard /usr/lib/postgresql/*/bin/postgres),/usr/lib/postgresql/VERSION/bin/postgres)
$(POSTGRES):
	$(call APT_INSTALL,postgresql)

## Build the book into _build/html, executing every chapter (cached between local rebuilds).
book: $(STAMP) web
	$(BIN)/jupyter-book build --all -W --keep-going .

## Setup, lint, a fresh book build, then the whole test suite (browser tests included), then how
## long each part took (benchmarks/suite_times.py reads pytest's JUnit XML). The preparation runs
## three jobs at a time: uv, apt-get and npm download and unpack side by side, lint beside the
## book's build. (The tests themselves run one at a time: two pytest-xdist processes made the
## suite slower, 39.5 min against 31.1, on two cores its corpora already keep busy.)
.PHONY: ready
ready: $(STAMP) $(BWRAP) $(POSTGRES) web browser hub lint book

test:
	@$(MAKE) --no-print-directory -j3 ready
	$(BIN)/python -m pytest --junitxml=artifacts/pytest.xml
	$(BIN)/python benchmarks/suite_times.py artifacts/pytest.xml

lint: $(STAMP)
	$(BIN)/ruff check lib tests benchmarks
	$(BIN)/ruff format --check lib tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format lib tests benchmarks
	$(BIN)/ruff check --fix lib tests benchmarks

## Write the student edition (book, released assignments, library, environment, Pages
## workflow): make publish DEST=../student-edition. _config.yml must name the real repository
## and hub first; ALLOW_PLACEHOLDERS=1 publishes a preview with the template's example values.
publish:
	@test -n "$(DEST)" || { echo "make publish: say where to write it: make publish DEST=../student-edition" >&2; exit 2; }
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/course publish $(if $(ALLOW_PLACEHOLDERS),--allow-placeholders) "$(DEST)"

## Per-chapter execution time and peak memory, plus clean and no-change build times.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_chapters.py
	$(BIN)/python benchmarks/bench_build.py

## Serve the built site on http://127.0.0.1:8000
serve:
	$(BIN)/python -m http.server 8000 --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .jupyter_cache
