# Fresh machine with only python3: `make run` and `make test` create .venv, install, then act.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-slow lint docs world bench load chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Ends by serving the dashboard (Ctrl-C stops it) with the flagship scenario already run. It uses the same
# store as plain `critmin` (CRITMIN_DB, else the per-user data path), so `critmin runs show latest` finds the run.
run: $(STAMP)
	$(BIN)/critmin overview
	$(BIN)/critmin run scenarios/china-2025-04-licensing.yaml -r JPN -r USA -r CHN -e Dy -e Tb
	$(BIN)/critmin serve

# The browser tests drive Debian's chromium; install it when it is missing (root, or sudo where there is one).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# ruff and the suite, property tests at small budgets; the tests marked slow are skipped (see test-slow).
test: $(STAMP) chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Only the tests marked slow: the property tests at their full hypothesis budgets (tests/conftest.py).
test-slow: $(STAMP)
	$(BIN)/python -m pytest --slow -m slow

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerate docs/data.md from the schema.
docs: $(STAMP)
	$(BIN)/critmin data docs > docs/data.md

# Rebuild the bundled world from ../shared/data/facts.
world: $(STAMP)
	$(BIN)/python -m critmin.build --facts ../shared/data/facts --out src/critmin/data/world

# Engine benchmarks (Pyomo comparison included; pyomo is installed for it only).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet pyomo
	$(BIN)/python benchmarks/run.py --record

# Loopback load test of the read endpoints; appends to benchmarks/RESULTS.md.
load: $(STAMP)
	$(BIN)/python benchmarks/load.py --record

clean:
	rm -rf $(VENV) .critmin .pytest_cache .ruff_cache
