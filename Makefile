# Every target sets itself up: a fresh clone needs only `make run` or `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: setup run test lint bench clean prometheus

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

run: setup
	$(BIN)/quoter run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint prometheus
	$(BIN)/pytest -n 2 --dist loadgroup  # a worker per core; tests on fixed ports share one (xdist_group)

# The observability tests run a real Prometheus, promtool, a real Alertmanager and amtool:
# Debian's prometheus and prometheus-alertmanager packages, installed once.
prometheus:
	@command -v prometheus >/dev/null && command -v promtool >/dev/null \
		&& command -v prometheus-alertmanager >/dev/null && command -v amtool >/dev/null || \
		{ apt-get update -qq && apt-get install -y -qq prometheus prometheus-alertmanager; }

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
