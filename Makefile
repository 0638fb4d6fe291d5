# The only commands a newcomer needs. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TORCH := torch==2.14.1 torchvision==0.29.1
SERVE_PORT ?= 5000

.PHONY: help setup serve serve-prod demo test lint test-slow bench bench-train gpu-check clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) clanledger/pyproject.toml yolov3/pyproject.toml
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e './clanledger[dev]' -e './yolov3[dev]'
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install both systems with their dev tools
	@$(MAKE) --no-print-directory -C clanledger -f ../mk/clanledger.mk translations PY=../$(PY)

serve: setup  ## run clanledger at http://127.0.0.1:5000 (SERVE_PORT=…) and its clan-chat worker (SQLite in the instance folder, demo clan on first run)
	@$(PY) -c 'from clanledger.config import ensure_instance_secret as e; e()'
	cd clanledger && ../$(VENV)/bin/flask --app clanledger db upgrade
	cd clanledger && ../$(VENV)/bin/flask --app clanledger seed-demo --if-empty
	@# The clan-chat worker runs beside the server and stops with it.
	cd clanledger && { ../$(VENV)/bin/flask --app clanledger deliver & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  ../$(VENV)/bin/flask --app clanledger run --host 127.0.0.1 --port $(SERVE_PORT); }

serve-prod: setup  ## run clanledger with gunicorn on PostgreSQL ($$DATABASE_URL; $$REDIS_URL, $$SECRET_KEY), migrations first
	@$(PY) -c 'import os; from clanledger.config import ensure_instance_secret as e; os.environ.get("SECRET_KEY") or e()'
	cd clanledger && ../$(PY) -m clanledger.production

demo: setup  ## the detector's main job: train and evaluate YOLOv3-tiny on a generated dataset
	$(PY) -m yolov3 demo --out runs/demo --exist-ok

lint: setup  ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint  ## lint, then both test suites (clanledger again on $$TEST_DATABASE_URL when set)
	cd clanledger && env -u TEST_DATABASE_URL ../$(PY) -m pytest
	cd yolov3 && ../$(PY) -m pytest
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
		echo "== clanledger again on $${TEST_DATABASE_URL%%://*}"; \
		cd clanledger && ../$(PY) -m pytest; \
	fi

test-slow: setup  ## the slow tests that the default run leaves out
	cd clanledger && ../$(PY) -m pytest -m slow
	cd yolov3 && ../$(PY) -m pytest -m slow

bench: setup  ## run the benchmark scripts and print their figures
	@for f in clanledger/benchmarks/bench_*.py yolov3/benchmarks/bench_*.py; do \
		[ -e "$$f" ] || continue; echo "== $$f"; $(PY) "$$f" || exit 1; done

bench-train: setup  ## YOLOv3-tiny on raccoon: CLI defaults, tuned recipe, from scratch; 15 CPU minutes each (not in CI)
	$(PY) yolov3/benchmarks/train_raccoon.py

gpu-check:  ## the GPU check (needs CUDA; no set-up: any Python with torch >= 2.4) -> runs/gpu-check
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) yolov3/benchmarks/gpu_check.py --out runs/gpu-check

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .ruff_cache clanledger/.pytest_cache yolov3/.pytest_cache
