# `make run` serves the demo shop; `make test` runs every test; `make serve` is the production start;
# `make bench` measures. Each sets everything up first.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run serve bench test lint setup translations compile-translations clean

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed compile-translations

compile-translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d portal/translations -f >/dev/null

# Extract every marked string, merge it into each shipped catalogue, compile.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 \
		--no-location --sort-output -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations \
		--width 100 --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d portal/translations -f

# The dev server starts localstripe, then loads the demo data (whose cards are made there).
run: setup
	mkdir -p var
	$(BIN)/flask db upgrade
	PORT=$(PORT) scripts/dev-server

# Production start on this machine: gunicorn, PostgreSQL, Redis, job workers (see scripts/serve).
serve: setup
	scripts/serve

# Load, scale and renewal benchmarks on PostgreSQL; prints every figure (README: Performance).
bench: setup
	$(BIN)/python -u -m bench.run

# The linter and the formatter's check: style problems fail the build like tests do.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL"; \
		PORTAL_TEST_DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest; \
	fi

clean:
	rm -rf $(VENV) var
