# correspondence — one entry point for humans and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := $(shell scripts/uv.sh)
export UV_LINK_MODE := copy
BIN := .venv/bin

# `make run PORT=8080` serves on another port; download links follow it.
HOST ?= 127.0.0.1
PORT ?= 8000
CORRESPONDENCE_PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: help deps deps-run run worker test lint typecheck pytest audit bench clean approve-visuals

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

deps-run: ## install what serving needs: runtime Debian libraries and Python packages
	@scripts/system-deps.sh runtime
	@$(UV) sync --frozen --no-dev --inexact --quiet

deps: ## install everything: the above, the test servers and the dev tools
	@scripts/system-deps.sh runtime test
	@$(UV) sync --frozen --quiet

run: deps-run ## start the API with embedded defaults (./var), sample data and a fresh API key
	@$(BIN)/correspondence seed
	@KEY=$$($(BIN)/correspondence keys create --name make-run \
	    --scopes documents:write documents:read:all deliveries:write previews 2>/dev/null) && \
	  echo "API key for this run (shown once; only its hash is stored): $$KEY" && \
	  echo "Try:      curl -H 'Authorization: Bearer $$KEY' $(CORRESPONDENCE_PUBLIC_BASE_URL)/v1/documents"
	@PW=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  echo "$$PW" | $(BIN)/correspondence staff create --email staff@correspondence.example --password-stdin --replace >/dev/null && \
	  echo "Staff UI: $(CORRESPONDENCE_PUBLIC_BASE_URL)/ui  (staff@correspondence.example / $$PW, new each run)"
	@echo "API docs: $(CORRESPONDENCE_PUBLIC_BASE_URL)/docs"
	@CORRESPONDENCE_PUBLIC_BASE_URL=$(CORRESPONDENCE_PUBLIC_BASE_URL) \
	  $(BIN)/correspondence serve --host $(HOST) --port $(PORT)

worker: deps-run ## start a Celery worker; needs CORRESPONDENCE_BROKER_URL and a shared database
	@$(BIN)/correspondence worker

lint: deps ## ruff (lint and format check) and the import contracts
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/lint-imports

typecheck: deps ## mypy --strict on the core and the API
	@$(BIN)/mypy

pytest: deps ## the test suite
	@$(BIN)/pytest

test: lint typecheck pytest ## everything CI runs: lint, types, tests

audit: deps ## known vulnerabilities of every locked package (pip-audit); fails if it cannot look
	@scripts/audit.sh

# `make bench SOAK_RENDERS=20000` runs the soak at the issue's length (hours on 2 cores).
SOAK_RENDERS ?= 3000

bench: deps ## today's code against its peers; each prints a ratio measured in one run
	@$(BIN)/python bench/render.py
	@$(BIN)/python bench/chromium.py
	@$(BIN)/python bench/pack_size.py
	@$(BIN)/python bench/throughput.py
	@$(BIN)/python bench/pipeline.py
	@$(BIN)/python bench/long_invoice.py
	@$(BIN)/python bench/api_load.py
	@$(BIN)/python bench/cold.py
	@$(BIN)/python bench/first_request.py
	@$(BIN)/python bench/soak.py --renders $(SOAK_RENDERS)
	@$(BIN)/python bench/tagging.py
	@$(BIN)/python bench/signing.py

approve-visuals: deps ## rewrite tests/visual/references from today's rendering, after looking at test-artifacts/visual
	@$(BIN)/python -m tests.visual.visuals

clean: ## remove generated files
	rm -rf out dist test-artifacts .pytest_cache .mypy_cache .ruff_cache
