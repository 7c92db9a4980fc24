# Fresh machine with only python3: `make run` and `make test` create .venv, install, then act.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint docs world bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	CRITMIN_DB=$${CRITMIN_DB:-$(CURDIR)/.critmin/critmin.duckdb} $(BIN)/critmin overview
	CRITMIN_DB=$${CRITMIN_DB:-$(CURDIR)/.critmin/critmin.duckdb} $(BIN)/critmin run scenarios/china-2025-04-licensing.yaml -r JPN -r USA -r CHN -e Dy -e Tb

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

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
	$(BIN)/python benchmarks/run.py --pyomo

clean:
	rm -rf $(VENV) .critmin .pytest_cache .ruff_cache
