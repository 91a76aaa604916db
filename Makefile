# The README's commands. CI runs `make test` through .ci/run.
#   make setup      create .venv (Python 3.11) from requirements.txt; redone when the pins change
#   make test       setup, then the whole test suite (unit + integration on real MNIST)
#   make test-fast  setup, then the unit tests only (synthetic digits, no real MNIST)
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

.PHONY: setup test test-fast clean

setup: $(STAMP)

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
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not integration"

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
