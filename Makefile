# Kyphos: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint bench scale-test demo install system-deps screens clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# The translations (src/kyphos/locale/<lang>/LC_MESSAGES/django.po) compiled for Django; msgfmt is Debian's gettext.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard src/kyphos/locale/*/LC_MESSAGES/django.po))

%.mo: %.po $(STAMP)
	@scripts/ensure-system-deps.sh gettext
	$(BIN)/kyphos compilemessages --ignore .venv --ignore tests --verbosity 0

install: $(STAMP) $(CATALOGS)

## Migrate the SQLite database (./var/kyphos.sqlite3), load the demo if empty, print the logins, serve.
run: install
	$(BIN)/kyphos serve --demo --host 127.0.0.1 --port 8000

## Replace the database's contents with a fresh demo department.
demo: install
	$(BIN)/kyphos migrate --verbosity 0
	$(BIN)/kyphos demo --reset

## Debian packages the tests drive for real: PostgreSQL, Chromium, Orthanc (a PACS) and gettext (installed when missing).
system-deps:
	@scripts/ensure-system-deps.sh postgresql chromium orthanc gettext

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy src

test-sqlite: install
	$(BIN)/python -m pytest

test-postgres: install
	$(BIN)/python -m tests.pgrun

## Lint, then the whole suite on SQLite, then again on a PostgreSQL started on loopback.
test: install system-deps lint test-sqlite test-postgres

## Build 1,000,000 cases on SQLite and PostgreSQL and time the busiest pages (writes bench/results.json and the
## readable bench/README.md).
bench: install
	@scripts/ensure-system-deps.sh postgresql
	$(BIN)/python -m bench.run

## PostgreSQL, 3 web processes, 2 workers and the HL7 listener under 20 staff sessions and 100 patients writing
## their diaries; one web process and one worker killed half-way (writes bench/scale.json and bench/README.md).
## `make scale-test SESSIONS=50` for more.
SESSIONS ?= 20
PATIENTS ?= 100
scale-test: install
	@scripts/ensure-system-deps.sh postgresql
	$(BIN)/python -m bench.scale --sessions $(SESSIONS) --patients $(PATIENTS)

## Photograph every page of the pathway (demo department; English and Spanish) into docs/screens/.
screens: install
	@scripts/ensure-system-deps.sh chromium
	$(BIN)/python -m tests.browser.screens

clean:
	rm -rf $(VENV) build src/*.egg-info
