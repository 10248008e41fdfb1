# Two commands do all set-up on a fresh machine:
#   make run    the console bot on the embedded SQLite database with the demo corpus
#   make test   the whole test suite (SQLite, and PostgreSQL when it is reachable)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint bench wheel-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/policybot

# PostgreSQL tests run when POLICYBOT_TEST_POSTGRES_URL is set or a server answers at
# 127.0.0.1:5432; otherwise they skip with a reason (under CI=true they are mandatory).
test: $(STAMP)
	@if [ -z "$$POLICYBOT_TEST_POSTGRES_URL" ] && $(PY) -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=2).close()" 2>/dev/null; then \
		export POLICYBOT_TEST_POSTGRES_URL='$(PG_URL)'; fi; \
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The gates CI runs before the tests: formatting, lint, relative imports inside the package,
# strict types (packages and tests) and the import contracts in pyproject.toml (one-way
# layers, Slack only in bot/, no cycles). See .ci/lint.
lint: $(STAMP)
	VENV=$(VENV) bash .ci/lint

# The wheel as users install it: built, installed in a fresh virtual environment, every module
# imported and one command answered from it (CI runs this too).
wheel-check: $(STAMP)
	bash .ci/wheel-check

bench: $(STAMP)
	$(PY) -m benchmarks.relevance
	$(PY) -m benchmarks.intake
	$(PY) -m benchmarks.ingest
	$(PY) -m benchmarks.search
	$(PY) -m benchmarks.scheduler
	$(PY) -m benchmarks.rule_runs --url sqlite:///$$(mktemp -d)/runs.sqlite3
	$(PY) -m benchmarks.load
	$(PY) -m benchmarks.startup
	$(PY) -m benchmarks.walks
	$(PY) -m benchmarks.sources
	$(PY) -m benchmarks.primary_documents
	$(PY) -m benchmarks.charts

clean:
	rm -rf $(VENV) build *.egg-info
