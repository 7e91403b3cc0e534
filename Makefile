# kgqa: one command for the demo, one for the tests.
#   make demo   set up .venv, build the demo knowledge base, open the web UI
#   make test   set up .venv (and test services), run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_KB ?= .kb/demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: venv demo demo-kb test test-fast browser-deps neo4j-deps lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo-kb: $(STAMP)
	$(VENV)/bin/kgqa ingest demo/corpus --kb $(DEMO_KB)
	$(VENV)/bin/kgqa stats --kb $(DEMO_KB)

demo: demo-kb
	$(VENV)/bin/kgqa ui --kb $(DEMO_KB)

test: $(STAMP) browser-deps neo4j-deps
	$(VENV)/bin/pytest -q

# Debian's chromium for the real-browser UI test (Playwright drives it; no browser download).
browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Java and Maven for the real Neo4j 5.26 server of the neo4j tests (its jars come from
# Maven Central on the first run and are cached in ~/.cache/kgqa).
neo4j-deps:
	command -v java >/dev/null && command -v mvn >/dev/null || (apt-get update && apt-get install -y default-jre-headless maven)

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not models and not neo4j and not browser and not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(PY) benchmarks/ingest.py

clean:
	rm -rf $(VENV) .kb .pytest_cache .mypy_cache .ruff_cache
