# Pizarra: `make demo` serves the demo, `make test` runs the whole suite.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The demo's passwords are public: only this machine can reach it unless HOST says otherwise (HOST=0.0.0.0).
HOST ?= 127.0.0.1
SIMULATOR_PORT ?= 5001
export SIMULATOR_CLAVEUNICA_PORT ?= 5002
export PIZARRA_ENV ?= development
export SENCE_SIMULATOR_URL ?= http://127.0.0.1:$(SIMULATOR_PORT)/rce
export SIC_SIMULATOR_URL ?= http://127.0.0.1:$(SIMULATOR_PORT)/sic
export PUBLIC_BASE_URL ?= http://localhost:$(PORT)

.PHONY: demo demo-reset test test-sqlite test-postgres lint bench soak cluster-test install install-app browser clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The app alone (make demo) and the app with the dev extras (make test, lint, bench).
$(VENV)/.installed-app: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed-app

install-app: $(VENV)/.installed-app

install: $(VENV)/.installed

demo: install-app
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi seed-demo
	@echo "Simulador SENCE en http://127.0.0.1:$(SIMULATOR_PORT) (ClaveÚnica en el puerto $(SIMULATOR_CLAVEUNICA_PORT)) · Pizarra en http://localhost:$(PORT)"
	@trap 'kill 0' EXIT; \
	  $(BIN)/flask --app app.simulator.wsgi run --host 127.0.0.1 --port $(SIMULATOR_PORT) & \
	  $(BIN)/flask --app app.simulator.wsgi:claveunica run --host 127.0.0.1 --port $(SIMULATOR_CLAVEUNICA_PORT) & \
	  while sleep 60; do $(BIN)/flask --app wsgi sweep >/dev/null 2>&1 || true; done & \
	  $(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# Deletes the demo's SQLite database and uploads; the next `make demo` seeds them afresh.
demo-reset:
	rm -f instance/pizarra.sqlite3 instance/pizarra.sqlite3-wal instance/pizarra.sqlite3-shm
	rm -rf instance/uploads
	rm -rf instance/sence-journal

# Browser tests need Debian's Chromium; install it when missing (root on CI and dev machines).
# The certificate tests render PDFs with poppler-utils (pdftoppm) and read them back with tesseract (Spanish).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	@command -v pdftoppm >/dev/null || (apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null)
	@tesseract --list-langs 2>/dev/null | grep -qx spa || (apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-spa >/dev/null)

test: install browser
	$(BIN)/ruff check .
	@echo "== the suite on SQLite"
	env -u TEST_DATABASE_URL $(BIN)/pytest -q
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "== the same suite on PostgreSQL"; \
	  $(BIN)/pytest -q; \
	else echo "TEST_DATABASE_URL is not set: the PostgreSQL run is skipped"; fi

lint: install
	$(BIN)/ruff check .

bench: install
	bash bench/run.sh

# Capacity on one server: participants polling every 30 s (bench/soak.py); BENCH_DATABASE_URL for PostgreSQL.
soak: install
	bash bench/run.sh soak

# Two app servers behind HAProxy on one PostgreSQL and Redis (bench/cluster.sh); CLUSTER_DATABASE_URL, CLUSTER_REDIS_URL.
cluster-test: install
	bash bench/cluster.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
