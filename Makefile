# The two set-up commands of README.md: `make site` and `make test`. Each installs what it needs.
# `make unit` runs the fast in-process tier alone (tests/unit/), for the edit loop.
# `make test` and `make lint` type-check knowrepo/ first (mypy, configured in pyproject.toml).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: site test unit bench lint typecheck clean

site: $(VENV)/.site-deps
	$(BIN)/knowrepo build .

test: typecheck
	$(BIN)/python -m pytest -q

unit: $(VENV)/.test-deps
	$(BIN)/python -m pytest -q tests/unit

bench: $(VENV)/.test-deps
	$(BIN)/python benchmarks/run.py

lint: typecheck
	$(BIN)/ruff check knowrepo tests benchmarks
	$(BIN)/ruff format --check knowrepo tests benchmarks

typecheck: $(VENV)/.test-deps
	$(BIN)/mypy knowrepo

$(VENV)/.site-deps: pyproject.toml scripts/system-deps.sh
	sh scripts/system-deps.sh site
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[examples]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

$(VENV)/.test-deps: $(VENV)/.site-deps scripts/system-deps.sh
	$(BIN)/pip install -q -e '.[examples,test]'
	sh scripts/system-deps.sh test
	touch $@

clean:
	rm -rf $(VENV) _site ._site.versions .knowrepo
