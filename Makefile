# Fresh machine with only python3: `make run` installs the runtime dependencies, `make test` adds the dev
# extras. Both install the versions pinned in requirements/ (the ones the tests last passed with; `make lock`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test test-slow lint docs world bench load chromium poppler lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# pip's own progress (one line per package, a bar per download) so a fresh install is never silent.
$(RUN_STAMP): requirements/run.txt pyproject.toml | $(BIN)/python
	@echo "critmin: installing the runtime dependencies pinned in requirements/run.txt into $(VENV)"
	$(BIN)/python -m pip install --progress-bar on -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): requirements/dev.txt $(RUN_STAMP)
	@echo "critmin: installing the test and lint tools pinned in requirements/dev.txt"
	$(BIN)/python -m pip install --progress-bar on -r requirements/dev.txt
	touch $@

# Ends by serving the dashboard (Ctrl-C stops it) with the flagship scenario already run. It uses the same
# store as plain `critmin` (CRITMIN_DB, else the per-user data path), so `critmin runs show latest` finds the run.
run: $(RUN_STAMP)
	$(BIN)/critmin overview
	$(BIN)/critmin run scenarios/china-2025-04-licensing.yaml -r JPN -r USA -r CHN -e Dy -e Tb
	$(BIN)/critmin serve

# The browser tests drive Debian's chromium; install it when it is missing (root, or sudo where there is one).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The report tests render PDF pages with pdftoppm and read them with pdftotext (Debian's poppler-utils).
poppler:
	@command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq poppler-utils; }

# ruff and the suite, property tests at small budgets; the tests marked slow are skipped (see test-slow).
test: $(DEV_STAMP) chromium poppler
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Only the tests marked slow: the property tests at their full hypothesis budgets (tests/conftest.py).
test-slow: $(DEV_STAMP)
	$(BIN)/python -m pytest --slow -m slow

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

# Regenerate docs/data.md from the schema.
docs: $(DEV_STAMP)
	$(BIN)/critmin data docs > docs/data.md

# Rebuild the bundled world from ../shared/data/facts.
world: $(DEV_STAMP)
	$(BIN)/python -m critmin.build --facts ../shared/data/facts --out src/critmin/data/world

# Engine benchmarks (Pyomo comparison included; pyomo is installed for it only).
bench: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet pyomo
	$(BIN)/python benchmarks/run.py --record

# Loopback load test of the read endpoints; appends to benchmarks/RESULTS.md.
load: $(DEV_STAMP)
	$(BIN)/python benchmarks/load.py --record

# Re-pin requirements/ to what is installed in .venv now (run after the tests pass on new versions).
lock: $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/python -m pip freeze --exclude-editable > $(VENV)/installed.txt
	for extra in run dev; do \
	  $(BIN)/uv pip compile pyproject.toml $$( [ $$extra = dev ] && echo --extra dev ) --python-version 3.11 \
	    -c $(VENV)/installed.txt --custom-compile-command 'make lock' --annotation-style line -q \
	  | sed -E 's/( -c [^ ,]*installed.txt,?|,? -c [^ ,]*installed.txt)//' > requirements/$$extra.txt || exit 1; \
	done

clean:
	rm -rf $(VENV) .critmin .pytest_cache .ruff_cache
