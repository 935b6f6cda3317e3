# notes-kb: `make run` sets up, builds the index and serves API :8000 + UI :8501; `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make run HOST=0.0.0.0` exposes the API to the network (set KB_API_KEYS then; kb serve warns without one).
HOST ?= 127.0.0.1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup index run api ui test test-fast browser bench clean

setup: $(STAMP)

# torch first, pinned: that takes the CPU build lying on these machines; an unpinned one pulls gigabytes of CUDA.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

index: setup
	$(BIN)/kb ingest || test $$? -eq 1

run: setup index
	@echo "API on http://$(HOST):8000 (docs at /docs, MCP at /mcp), UI on http://127.0.0.1:8501"
	@trap 'kill $$api 2>/dev/null' EXIT INT TERM; \
	$(BIN)/kb serve --host $(HOST) --port 8000 & api=$$!; \
	KB_API_URL=http://127.0.0.1:8000 $(BIN)/kb ui --port 8501

api: setup index
	$(BIN)/kb serve --host $(HOST) --port 8000

ui: setup
	$(BIN)/kb ui --port 8501

# The browser tests drive Debian's chromium; install it (and its driver) when missing. No browser download.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing Debian chromium + chromium-driver for the browser tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
		|| echo "WARNING: could not install chromium; browser tests will fail"; \
	fi

test: setup browser
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: setup index
	$(BIN)/python bench/ingest_bench.py
	$(BIN)/python bench/retrieval_bench.py

clean:
	rm -rf data/index .pytest_cache .artifacts
