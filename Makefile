# Convenience targets; the README's two commands are scripts/run.sh and scripts/test.sh.
PY := .local/venv/bin/python

.PHONY: run test unit lint format bench install

install:
	./scripts/install.sh --browser

run:
	./scripts/run.sh

test:
	./scripts/test.sh

unit: install
	$(PY) -m pytest tests/unit -q

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff format .

bench: install
	./scripts/bench.sh
