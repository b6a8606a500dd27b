# Two entry points (see README): `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup services designer bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

designer:
	@if [ -f designer/package.json ]; then cd designer && npm ci --no-audit --no-fund --silent && npm run build --silent; fi

run: setup designer
	$(PY) -m engine migrate
	$(PY) -m api.demo
	$(PY) -m api.serve

services:
	./.ci/services

test: setup designer services
	$(PY) -m pytest -n 2 --dist loadfile

bench: setup services
	$(PY) bench/engine_step.py
	$(PY) bench/inbox_page.py
