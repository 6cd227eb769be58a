# Linli — the two commands a new user needs are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint format install install-dev migrate seed serve worker scheduler check-deploy bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@ $(STAMP)

install: $(STAMP)
install-dev: $(DEV_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: install, migrate, load demo data and serve HTTP + websockets on http://$(HOST):$(PORT)
run: seed
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) -m backend.serve -b $(HOST) -p $(PORT) backend.asgi:application

## make test: install the dev extras and run the whole suite
test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install-dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

worker: install
	$(PY) manage.py db_worker

scheduler: install
	$(PY) manage.py run_scheduler

check-deploy: install
	LINLI_ENV=prod SECRET_KEY=check-deploy-$$(head -c 48 /dev/urandom | base64 | tr -dc a-zA-Z0-9) \
	ALLOWED_HOSTS=linli.example.cn DATABASE_URL=sqlite:///var/check.sqlite3 \
	LINLI_DATA_KEY=$$($(PY) -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
	LINLI_INDEX_KEY=$$($(PY) -c 'import base64,os;print(base64.urlsafe_b64encode(os.urandom(32)).decode())') \
	LINLI_PUBLIC_HOST=linli.example.cn $(PY) manage.py check --deploy --fail-level WARNING

bench: install-dev
	$(PY) -m bench $(NAME)

clean:
	rm -rf $(VENV) var
