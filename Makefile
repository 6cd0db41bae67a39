# Two commands for a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEV_ENV := DEBUG=1
# mypy's Django plugin imports the settings to learn the models; they refuse to load
# without a SECRET_KEY, so the type check gets a throwaway one (nothing is served).
MYPY := SECRET_KEY=insecure-key-for-type-checking-only $(VENV)/bin/mypy

.PHONY: run test install install-test lint format licences clean

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py import_articles fixtures/seeds
	$(DEV_ENV) $(PY) manage.py create_demo_users --url http://$(HOST):$(PORT)/
	$(DEV_ENV) $(PY) manage.py retrain --if-possible --if-changed
	@echo "Serving http://$(HOST):$(PORT)/ with a background task worker beside it; Ctrl-C stops both."
	$(DEV_ENV) bash -c '$(PY) manage.py db_worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(PY) manage.py runserver $(HOST):$(PORT)'

test: install-test licences
	$(VENV)/bin/ruff check .
	$(MYPY)
	$(PY) -m pytest $(PYTEST_ARGS)

# Stance is Apache-2.0: list every installed package's licence and fail on a GPL-family one.
# Exceptions, each for a reason: psycopg (LGPL-3.0) is the only PostgreSQL driver Django
# supports, used unmodified as a library; text-unidecode (test-only, via pytest-playwright)
# is dual-licensed, and we take its Artistic License; pip-licenses is the checker itself.
LICENCE_EXCEPTIONS := psycopg psycopg-binary text-unidecode pip-licenses
licences: install-test
	$(VENV)/bin/pip-licenses --from=mixed --summary --partial-match \
		--fail-on "GPL;GNU General Public;GNU Lesser;GNU Affero" --ignore-packages $(LICENCE_EXCEPTIONS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MYPY)

format: install-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache db.sqlite3 db.sqlite3-wal db.sqlite3-shm
