# IOP Partnerskap — two commands on a fresh machine: `make dev` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PYTHONUNBUFFERED := 1

.PHONY: dev test install sysdeps axe eark migrate seed run clean screenshots bench

# Debian packages the tests use: LibreOffice for PDF/A copies (with metric-compatible fonts), poppler-utils to render signed PDFs.
# command:packages — only the packages of missing commands are installed (Node.js from NodeSource brings its own npm and
# conflicts with Debian's npm package).
SYSDEPS := soffice:libreoffice-writer-nogui,fonts-liberation2 chromium:chromium docker-compose:docker-compose \
	npm:npm pdftoppm:poppler-utils
# axe-core for the browser accessibility test, from tests/fixtures/axe/package-lock.json (npm ci once; then up to date).
AXE_DIR := tests/fixtures/axe
AXE := $(AXE_DIR)/node_modules/axe-core/axe.min.js

# eark-validator for the e-archive tests, in a virtualenv of its own: its lxml pin clashes with pyHanko's
# (tests/fixtures/eark/requirements.txt).
EARK_DIR := tests/fixtures/eark
EARK := $(EARK_DIR)/.venv/.installed

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(AXE): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json | sysdeps
	@if command -v npm >/dev/null; then cd $(AXE_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/axe-core/axe.min.js; \
	else echo "npm saknas: axe-core installeras inte / npm missing: axe-core not installed"; fi

axe: $(AXE)

# oidc-provider (a real OpenID Provider under node) for the single sign-on tests, from tests/fixtures/oidc/package-lock.json.
OIDC_DIR := tests/fixtures/oidc
OIDC := $(OIDC_DIR)/node_modules/oidc-provider/package.json

$(OIDC): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json | sysdeps
	@if command -v npm >/dev/null; then cd $(OIDC_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/oidc-provider/package.json; \
	else echo "npm saknas: oidc-provider installeras inte / npm missing: oidc-provider not installed"; fi

oidc: $(OIDC)

$(EARK): $(EARK_DIR)/requirements.txt
	test -x $(EARK_DIR)/.venv/bin/python || $(PYTHON) -m venv $(EARK_DIR)/.venv
	$(EARK_DIR)/.venv/bin/python -m pip install -q -r $(EARK_DIR)/requirements.txt
	touch $(EARK)

eark: $(EARK)

sysdeps:
	@pkgs=""; for pair in $(SYSDEPS); do command -v $${pair%%:*} >/dev/null || pkgs="$$pkgs $$(echo $${pair#*:} | tr , ' ')"; done; \
	if [ -n "$$pkgs" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$pkgs; \
	  else echo "Installera / install: sudo apt-get install$$pkgs"; fi; fi

migrate: install
	mkdir -p var
	$(PY) -m service.migrate

seed: migrate
	$(PY) -m service.seed

## Install, migrate, load demo data and run Prefect (:4200), the flows and the API/web UI (:8000); SQLite + files in ./var
dev: seed
	$(PY) scripts/dev.py

## Install and run the whole test suite (SQLite always; PostgreSQL on 127.0.0.1:5432 when reachable)
test: install sysdeps axe oidc eark
	$(PY) -m ruff check .
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

## Save screenshots of the main pages to docs/screenshots/ (demo data, headless Chromium)
screenshots: install sysdeps
	$(PY) scripts/screenshots.py

## Benchmarks (not part of make test): 10k/100k cases in a throwaway PostgreSQL database on 127.0.0.1:5432,
## results in bench/results/*.json and bench/README.md; BENCH_ARGS=--quick for a short run; wrk (installed here) loads the
## multi-worker part
bench: install sysdeps
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq --no-install-recommends wrk; } || echo "Installera / install: sudo apt-get install wrk"
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
