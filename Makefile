# Two commands on a fresh machine with Python 3.11 and make:
#   make run    install, migrate, seed demo data, serve http://127.0.0.1:8000 with background jobs
#   make test   install if needed, run the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Development defaults; an environment variable or .env file overrides them.
export DJANGO_DEBUG ?= 1

.PHONY: run test lint format migrate seed check-deploy clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# A development .env (DJANGO_DEBUG=1) so `manage.py` works by hand too; never copied into images.
.env:
	cp .env.example .env

run: $(VENV)/.installed .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python bin/run-dev

test: $(VENV)/.installed
	DJANGO_DEBUG=0 $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput

seed: $(VENV)/.installed
	$(BIN)/python manage.py seed_demo

check-deploy: $(VENV)/.installed
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))') \
		ALLOWED_HOSTS=shop.example.com $(BIN)/python manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var staticfiles
