# Starling: `make run` to serve, `make test` for the whole suite. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8080

.PHONY: run test demo bench install install-dev lint clean fixtures-mastodon-py vendor-htmx axe browser

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
test: install-dev browser
	$(BIN)/python scripts/test_passes.py $(PYTEST_ARGS)

demo: install
	$(BIN)/starling demo

bench: install-dev
	@command -v wrk >/dev/null 2>&1 || apt-get install -y -qq wrk || { echo "make bench needs wrk (Debian: apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench $(BENCH_ARGS)
	$(BIN)/python -m bench --flood $(FLOOD_ARGS)

lint: install-dev
	$(BIN)/ruff check starling tests bench scripts

clean:
	rm -rf $(VENV) test-output .pytest_cache

# Web app: htmx is vendored (committed) so running needs no build step; `make vendor-htmx` refreshes it
# from the npm registry at the pinned version. axe-core (accessibility checks in the browser tests) is
# fetched the same way into test-output/vendor, not committed.
HTMX_VERSION ?= 2.0.11
AXE_VERSION  ?= 4.11.4
VENDOR := starling/web/static/vendor

vendor-htmx:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) >/dev/null && tar xzf htmx.org-$(HTMX_VERSION).tgz \
	  && cd $(CURDIR) && mkdir -p $(VENDOR) && cp $$tmp/package/dist/htmx.min.js $(VENDOR)/htmx.min.js \
	  && cp $$tmp/package/LICENSE $(VENDOR)/htmx.LICENSE.txt && echo "htmx.org $(HTMX_VERSION)" > $(VENDOR)/VERSIONS.txt && rm -rf $$tmp

test-output/vendor/axe.min.js:
	@mkdir -p test-output/vendor && tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null \
	  && tar xzf axe-core-$(AXE_VERSION).tgz && cp package/axe.min.js $(CURDIR)/test-output/vendor/axe.min.js && rm -rf $$tmp

# Without npm (or chromium) outside CI, the browser tests skip and say why; in CI (CI=true) they must run.
axe:
	@$(MAKE) -s test-output/vendor/axe.min.js || [ "$$CI" != true ] || { echo "CI needs npm to fetch axe-core"; exit 1; }

# Browser tests drive Debian's chromium (never a downloaded browser).
browser: axe
	@test -x /usr/bin/chromium || apt-get install -y -qq chromium || [ "$$CI" != true ] \
	  || { echo "CI needs chromium for the browser tests (Debian: apt-get install chromium)"; exit 1; }
