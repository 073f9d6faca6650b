# One entry point for humans and CI. Every target creates/uses the local virtualenv in .venv.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
JS_STAMP := js/node_modules/.installed
PYTEST_ARGS ?=

.PHONY: help venv demo test test-py test-js bundle js-deps lint bench emulator clean mutation

help:
	@echo "make demo    JupyterLab on notebooks/quickstart.ipynb (Pieces OS if found, else the emulator)"
	@echo "make test    the whole suite: JS units, then pytest (browser tests included)"
	@echo "make bench   benchmarks -> docs/benchmarks.md, docs/benchmarks.json"
	@echo "make bundle  rebuild pieces_widgets/static from js/src (needs node)"
	@echo "make mutation  mutmut on the pure core -> docs/mutation.json (see docs/mutation.md)"

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

$(JS_STAMP): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

js-deps: $(JS_STAMP)

bundle: $(JS_STAMP)
	cd js && npm run --silent build

test-js: $(JS_STAMP)
	cd js && npm test --silent && npm run --silent test:bundle

test-py: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

test: test-js test-py

lint: $(STAMP)
	$(VENV)/bin/ruff check pieces_widgets tests benchmarks tools
	$(VENV)/bin/ruff format --check pieces_widgets tests benchmarks tools

demo: $(STAMP)
	$(PY) -m pieces_widgets.demo

emulator: $(STAMP)
	$(PY) -m pieces_widgets.emulator

bench: $(STAMP) $(JS_STAMP)
	$(PY) -m benchmarks

# The modules of pieces_widgets/ to mutate (add one here; its tests are found by name:
# tests/test_<m>.py, tests/test_core_<m>*.py, tests/test_fuzz_<m>*.py; `mod:stem` for a module
# tested under another name).
MUTATION_MODULES ?= models _fields:models progress frame discovery rows _commands:actions_registry \
	units runtime device fit cleanup usage
MUTATION_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

mutation: $(STAMP)
	$(PY) tools/mutation/run.py $(MUTATION_MODULES) --jobs $(MUTATION_JOBS)

clean:
	rm -rf $(VENV) js/node_modules .pytest_cache
