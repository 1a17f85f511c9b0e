# Two commands on a fresh machine: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test install lint typecheck contracts coverage pytest browser pgbouncer prometheus bench clean

$(STAMP): pyproject.toml sdk/python/pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,bench]"
	$(BIN)/python -m pip install -q -e sdk/python  # the SDK's own distribution (tests/sdk)
	touch $(STAMP)

install: $(STAMP)

# Migrate the embedded SQLite database (./rolegate.db; ROLEGATE_DATABASE_URL for another),
# fill it with the demo (prints the login, the API key and curl commands), then serve.
# The demo works offline: ROLEGATE_DEV_OUTBOX=1 turns on the admin UI's Outbox (dev)
# page, where each viewer reads the mail sent to them (off unless turned on).
run: install
	$(BIN)/rolegate db upgrade
	$(BIN)/rolegate demo
	ROLEGATE_DEV_OUTBOX=1 $(BIN)/rolegate serve --host 127.0.0.1 --port 8000 --log-format text

# Browser tests (later issues) drive Debian's Chromium; as root, install it when missing.
browser:
	@if [ "$$(id -u)" = "0" ] && ! command -v chromium >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# The production-PostgreSQL tests put Debian's pgbouncer (run from a generated ini, never
# the system service) in front of a private cluster; as root, install it when missing.
pgbouncer:
	@if [ "$$(id -u)" = "0" ] && ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then \
		echo "installing Debian's pgbouncer for the PgBouncer tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null; \
	fi

# The metrics tests run `promtool check metrics` and a real Prometheus scraping `rolegate
# serve` (tests/cli/test_serve_ops.py); as root, install Debian's prometheus when missing.
# Only the binaries are used: its system service is never started here.
prometheus:
	@if [ "$$(id -u)" = "0" ] && ! command -v promtool >/dev/null 2>&1; then \
		echo "installing Debian's prometheus for the metrics tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check src tests bench sdk/python examples

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

# Branch coverage of the domain and the engine stays at 100%, from their fast unit tests
# alone (seconds): a rule or an engine path without a test of its own fails here. A line
# that cannot run carries `# pragma: no cover` with its reason.
coverage: install
	$(BIN)/pytest -q -p no:randomly tests/unit --cov=rolegate.domain --cov=rolegate.engine --cov-fail-under=100

# Test modules run in parallel, one worker per core (a module stays on one worker: some
# share a server or a database across their tests); PYTEST_WORKERS=0 runs them in process.
PYTEST_WORKERS ?= auto
pytest: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

test: install browser pgbouncer prometheus lint typecheck contracts coverage pytest

bench: install
	$(BIN)/python bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
