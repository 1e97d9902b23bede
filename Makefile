# The two commands a newcomer needs: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint openapi bench fuzz migrate clean-run sdk-check sdk-test
SDK_TS := sdk/typescript
# npm ci writes node_modules/.package-lock.json: installed again whenever the committed lock file changes.
NODE_INSTALLED := $(SDK_TS)/node_modules/.package-lock.json

# The Python SDK installs into the same venv, editable, so `.venv/bin/renderowl` runs the checkout's code.
$(INSTALLED): requirements.txt requirements-dev.txt sdk/python/requirements.txt sdk/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e sdk/python
	touch $@

## Start PostgreSQL and Redis under .run/ (unless DATABASE_URL/REDIS_URL are set), migrate,
## print a demo API key, and run the Procfile: the API, the Celery worker pools and beat. Ctrl-C stops everything.
run: $(INSTALLED)
	$(BIN)/python scripts/devstack.py run

## The whole suite with coverage, against DATABASE_URL/REDIS_URL or the embedded servers.
test: $(INSTALLED)
	$(BIN)/python scripts/devstack.py test

## Static checks: ruff (pyflakes, pycodestyle errors, import order) and the import-linter layering contracts (pyproject.toml).
lint: $(INSTALLED)
	$(BIN)/ruff check renderowl organizations events projects renders assets automations webhooks scripts tests bench sdk/python
	$(BIN)/lint-imports --no-cache

## Regenerate the committed OpenAPI document after changing the API, and both SDKs' code generated from it.
openapi: $(INSTALLED) $(NODE_INSTALLED)
	DJANGO_ENV=test $(BIN)/python manage.py spectacular --format openapi-json --validate --fail-on-warn --file openapi.json
	$(BIN)/python sdk/python/scripts/generate.py
	cd $(SDK_TS) && npm run --silent generate

## The SDKs against openapi.json: each regenerates its models from the committed document and fails on any difference.
sdk-check: $(INSTALLED) $(NODE_INSTALLED)
	$(BIN)/python sdk/python/scripts/generate.py --check
	cd $(SDK_TS) && npm run --silent check

$(NODE_INSTALLED): $(SDK_TS)/package-lock.json
	cd $(SDK_TS) && npm ci --no-audit --no-fund

## The SDKs' tests against the whole platform: the Procfile on a database of its own (scripts/devstack.py stack).
sdk-test: $(INSTALLED) $(NODE_INSTALLED)
	$(BIN)/python scripts/devstack.py stack sh -c \
		'cd sdk/python && $(CURDIR)/$(BIN)/python -m pytest -q tests && cd $(CURDIR)/$(SDK_TS) && npm test'

## Benchmarks (not part of the test run); they print ratios against a baseline measured in the same run.
bench: $(INSTALLED)
	$(BIN)/python scripts/devstack.py exec $(BIN)/python bench/run.py

## Property-based fuzzing of the live API with schemathesis.
fuzz: $(INSTALLED)
	$(BIN)/python scripts/devstack.py exec $(BIN)/python scripts/fuzz.py

## Apply migrations to DATABASE_URL or the embedded servers.
migrate: $(INSTALLED)
	$(BIN)/python scripts/devstack.py up

## Stop the embedded servers and delete their data.
clean-run:
	-$(BIN)/python scripts/devstack.py down
	rm -rf .run
