# Two entry points (see README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint setup services designer bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Without npm (a fresh machine) the platform still starts; the designer page, diagrams and charts wait for it.
designer:
	@if [ ! -f designer/package.json ]; then exit 0; fi; \
	if ! command -v npm >/dev/null 2>&1; then \
		echo "warning: npm not found, skipping the designer build (designer/dist, api/static/vendor)." >&2; \
		echo "         The designer page, process diagrams and charts stay unavailable until Node.js >= 20" >&2; \
		echo "         with npm is installed and 'make designer' is run." >&2; \
		exit 0; \
	fi; \
	cd designer && npm ci --no-audit --no-fund --silent && npm run build --silent

run: setup designer
	$(PY) -m engine migrate
	$(PY) -m api.demo
	$(PY) -m api.serve

services:
	./.ci/services

lint: setup
	$(VENV)/bin/ruff check .

test: lint designer services
	$(PY) -m pytest -n 2 --dist loadfile

bench: setup services
	$(PY) bench/engine_step.py
	$(PY) bench/inbox_page.py
