# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
STAMP := $(VENV)/.installed

.PHONY: messages run test test-sqlite test-postgres setup system-deps test-deps translations lint bench migrate clean

run: setup translations
	@bash scripts/system_deps.sh run
	$(BIN)/flask db upgrade
	$(BIN)/flask places seed
	$(BIN)/flask curriculum sync
	$(BIN)/flask demo load
	@echo "Akademia on http://127.0.0.1:5000, with its task queue consumer (Ctrl+C stops both)"
	bash scripts/run_dev.sh

test: setup test-deps translations
	bash scripts/run_tests.sh

test-sqlite: setup translations
	$(BIN)/pytest

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if [ "$$(id -u)" = "0" ] && ! $(PYTHON) -m venv --help >/dev/null 2>&1; then \
		apt-get update -qq && apt-get install -y -qq python3-venv; fi
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

# Debian packages the tests need; installed only when running as root and missing.
system-deps:
	@bash scripts/system_deps.sh test

test-deps: system-deps
	@bash scripts/axe_core.sh

translations: setup
	$(BIN)/pybabel compile -d app/translations --statistics

lint: setup
	$(BIN)/ruff check app tests

# Every benchmark, each next to its reference (bench/README.md): attendance marks over HTTP,
# the mixed load on SQLite and PostgreSQL, certificate PDFs, and the donor report at scale.
bench: setup
	$(BIN)/python bench/attendance_http.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/certificates.py
	$(BIN)/python bench/reports.py

migrate: setup
	$(BIN)/flask db migrate -m "$(m)"

clean:
	rm -rf $(VENV) instance .pytest_cache

# After changing user-facing text: refresh the catalogues, then translate the new entries.
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d app/translations
