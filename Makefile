# correspondence — one entry point for humans and CI. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export UV_LINK_MODE := copy

.PHONY: help deps run worker test lint typecheck pytest bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet --break-system-packages --user uv

deps: $(UV) ## install what is missing: Debian packages (as root) and the Python environment
	@scripts/system-deps.sh
	@$(UV) sync --frozen --quiet

run: deps ## start the API with embedded defaults (./var), sample data and a fresh API key
	@$(UV) run --frozen correspondence seed
	@echo "API key for this run (shown once; only its hash is stored):"
	@$(UV) run --frozen correspondence keys create --name make-run --scopes documents:write documents:read previews
	@PW=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  echo "$$PW" | $(UV) run --frozen correspondence staff create --email staff@correspondence.example --password-stdin --replace >/dev/null && \
	  echo "Staff UI: http://127.0.0.1:8000/ui  (staff@correspondence.example / $$PW, new each run)"
	@echo "API docs: http://127.0.0.1:8000/docs  (any user name; the key above as password)"
	@echo "Try:      curl -H 'Authorization: Bearer <key>' http://127.0.0.1:8000/v1/documents"
	@$(UV) run --frozen correspondence serve --host 127.0.0.1 --port 8000

worker: deps ## start a Celery worker; needs CORRESPONDENCE_BROKER_URL and a shared database
	@$(UV) run --frozen correspondence worker

lint: deps ## ruff (lint and format check) and the import contracts
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen lint-imports

typecheck: deps ## mypy --strict on the core and the API
	@$(UV) run --frozen mypy

pytest: deps ## the test suite
	@$(UV) run --frozen pytest

test: lint typecheck pytest ## everything CI runs: lint, types, tests

bench: deps ## benchmarks; each prints a ratio measured in one run (about 15 minutes)
	@$(UV) run --frozen python bench/render.py
	@$(UV) run --frozen python bench/pack_size.py
	@$(UV) run --frozen python bench/chromium.py
	@$(UV) run --frozen python bench/line_table.py
	@$(UV) run --frozen python bench/user_agent.py
	@$(UV) run --frozen python bench/html_parser.py
	@$(UV) run --frozen python bench/qr_code.py
	@$(UV) run --frozen python bench/compress_once.py
	@$(UV) run --frozen python bench/gc_freeze.py
	@$(UV) run --frozen python bench/running_footers.py
	@$(UV) run --frozen python bench/throughput.py
	@$(UV) run --frozen python bench/long_invoice.py
	@$(UV) run --frozen python bench/api_load.py

clean: ## remove generated files
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
