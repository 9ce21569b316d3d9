# One place for the commands the README quotes and CI runs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install browser run test test-postgres lint check demo bench quality

# torch first, pinned to the CPU build on this disk: installed later, as a
# dependency of sentence-transformers, pip would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# The widget's browser tests drive Debian's Chromium (Playwright's own download
# is not used): installed here when missing and apt-get can.
browser:
	@test -x /usr/bin/chromium || { \
	  command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] || \
	    { echo "no /usr/bin/chromium: install Debian's chromium, or the browser tests are skipped"; \
	      [ -z "$$CI" ]; exit; }; \
	  apt-get install -y -q chromium >/dev/null || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }

run: install
	$(BIN)/partnermatch serve --host 127.0.0.1 --port 8000

test: install browser
	$(BIN)/python -m pytest

test-postgres: install browser
	PARTNERMATCH_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: lint test test-postgres

demo: install
	$(BIN)/partnermatch demo

# The scale benchmarks at sizes that fit this machine (about 10 minutes); the last
# line is one JSON summary. The others are run one by one (docs/benchmarks.md).
bench: install
	$(BIN)/python -m bench.suite

quality: install
	$(BIN)/python -m bench.quality
