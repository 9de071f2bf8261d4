# Starling: `make run` to serve, `make test` for the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8080

.PHONY: run test demo bench install install-dev lint clean fixtures-mastodon-py

$(BIN)/python:
	$(PYTHON) scripts/bootstrap_venv.py $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/starling serve --port $(PORT)

# The whole suite on SQLite; also (at the same time) on PostgreSQL + Redis when STARLING_TEST_DATABASE_URL and
# STARLING_TEST_REDIS_URL are set. PYTEST_ARGS go to every pass.
test: install-dev
	$(BIN)/python scripts/test_passes.py $(PYTEST_ARGS)

demo: install
	$(BIN)/starling demo

bench: install-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk || { echo "make bench needs wrk (Debian: apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-dev
	$(BIN)/ruff check starling tests bench

clean:
	rm -rf $(VENV) test-output .pytest_cache
