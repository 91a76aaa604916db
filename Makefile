# The README's commands. CI runs `make test` through .ci/run.
#   make setup         create .venv (Python 3.11) from requirements.txt (redone when the pins change);
#                      install Debian's chromium when missing (the page checks use it)
#   make book          build the rendered book in full mode (the real experiments) -> _build/full/_build/html:
#                      first trains every model the chapters need (JOBS=2 at a time), then executes the
#                      chapters; any failed or timed-out cell fails it, naming the chapter, cell and report
#   make book QUICK=1  the same on quick mode's small budget                    -> _build/quick/_build/html
#   make test          setup, unit + integration tests, then the chapters: jupytext sync leaves git clean,
#                      nbval runs every chapter (quick mode), a strict quick-mode book build, and every
#                      chapter page checked in headless Chromium (screenshots in _build/screenshots)
#   make test-fast     setup, then the unit tests only (synthetic digits, no real MNIST)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ldc-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check

# Machines without internet keep a prepared MNIST copy beside the checkout
# (../shared/data/tensorflow_datasets); use it unless TFDS_DATA_DIR is already set.
SHARED_TFDS := $(abspath ../shared/data/tensorflow_datasets)
ifeq ($(origin TFDS_DATA_DIR),undefined)
ifneq ($(wildcard $(SHARED_TFDS)/mnist),)
export TFDS_DATA_DIR := $(SHARED_TFDS)
endif
endif

CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.md))
NOTEBOOKS := $(CHAPTERS:.md=.ipynb)
QUICK ?=
MODE := $(if $(filter-out 0,$(QUICK)),quick,full)
BOOK_OUT := _build/$(MODE)
BOOK_HTML := $(BOOK_OUT)/_build/html
# STRICT=1: every Sphinx warning (a broken reference too) fails the build; make test sets it.
# A failing cell fails the build in every mode.
STRICT ?=
# Models trained at once by `make book` (one process each, TensorFlow's threads split between them).
JOBS ?= 2
# When this make started (parsed once, before any prerequisite), so `make book` reports its whole time.
MAKE_STARTED := $(shell date +%s)
# TensorFlow's C++ start-up lines would land in the pages as stderr blocks; 3 silences them (2 does not).
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: setup browser test test-fast unit-tests sync-check nbval book page-check clean

setup: $(STAMP) browser

# Debian's chromium renders the built pages for the page check (about 40 s to install).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "chromium is missing and this is not a Debian/Ubuntu system: install chromium and put it on PATH"; exit 1; }; \
	  echo "installing Debian's chromium (for the page check)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 9) <= v <= (3, 11) else "ldc needs Python 3.9-3.11 (TensorFlow 2.14 and tensorflow-compression 2.14.1 exist only there), but $(PYTHON) is %d.%d; run: make PYTHON=/path/to/python3.11" % v)'
	@if [ -x $(BIN)/python ] && ! $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] > (3, 11))'; then \
	  echo "$(VENV) was made with a Python newer than 3.11; recreating it"; rm -rf $(VENV); fi
	@[ -x $(BIN)/python ] || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps --no-build-isolation --editable .
	$(PIP) check
	@touch $@

test: setup
	$(MAKE) --no-print-directory unit-tests sync-check nbval
	$(MAKE) --no-print-directory book QUICK=1 STRICT=1
	$(MAKE) --no-print-directory page-check QUICK=1

unit-tests:
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration"

# The .md chapters are the source; their paired .ipynb (what Colab opens) must match them.
sync-check:
	$(BIN)/jupytext --sync $(CHAPTERS)
	@git diff --exit-code -- book || { echo "jupytext --sync changed the files above: commit the synced pair"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- book); \
	  [ -z "$$untracked" ] || { echo "untracked chapter files: $$untracked"; exit 1; }

# Every chapter, top to bottom, in quick mode; cells must run without error.
nbval:
	@for notebook in $(NOTEBOOKS); do \
	  start=$$(date +%s); \
	  LDC_QUICK=1 $(BIN)/python -m pytest -q --nbval-lax -p no:cacheprovider $$notebook || exit 1; \
	  echo "nbval: $$notebook ran in $$(( $$(date +%s) - start )) s (quick mode)"; \
	done

# Trains every model the chapters need (ldc.experiments, JOBS at a time), then executes the chapters;
# a failed or timed-out cell fails the build, naming the chapter, the cell and the report.
book: $(STAMP)
	$(BIN)/python tools/build_book.py --out $(BOOK_OUT) --jobs $(JOBS) --started $(MAKE_STARTED) $(if $(filter quick,$(MODE)),--quick) $(if $(filter-out 0,$(STRICT)),--strict)

# Each chapter page in headless Chromium: screenshot, figure, no error, Colab link.
page-check: browser
	$(BIN)/python tools/check_pages.py $(BOOK_HTML) --out _build/screenshots $(CHAPTERS)

clean:
	rm -rf $(VENV) _build .pytest_cache .hypothesis
