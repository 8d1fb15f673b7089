# partnermine: two commands on a fresh machine: `make demo`, `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint bench check clean graphviz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[pm4py,postgres,privacy,dev]'
	touch $(STAMP)

graphviz:
	@command -v dot >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || echo "graphviz not installed: pictures will be skipped"; }

demo: $(STAMP) graphviz
	$(BIN)/python -m cli.demo --out demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff format --check engine adapters cli tests benchmarks
	$(BIN)/ruff check engine adapters cli tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

check: lint test

bench: $(STAMP)
	$(BIN)/python -m pytest benchmarks -q -p no:cacheprovider --benchmark-autosave --benchmark-columns=min,mean,max,rounds

clean:
	rm -rf $(VENV) demo-output partnermine.db .benchmarks
