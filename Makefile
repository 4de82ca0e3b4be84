# Precinct: the two commands a new user runs are `make run` and `make test`.
# Both create .venv, install the pinned working set (constraints.txt), build the Cython
# kernels and then do their job.  Nothing here needs anything but Python 3.11 and PyPI.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYX := $(wildcard core_ext/*.pyx) $(wildcard core_ext/*.pxd)

.PHONY: run test test-slow bench lint typecheck build clean install browser

$(STAMP): pyproject.toml setup.py constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# build requirements first so the editable install can skip build isolation (pinned numpy ABI;
	# hatchling builds solara-assets, published only as a source archive)
	$(PY) -m pip install --quiet -c constraints.txt "setuptools>=69" "Cython>=3" "numpy>=2" wheel hatchling
	$(PY) -m pip install --quiet -c constraints.txt --no-build-isolation -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

# Rebuild the extensions whenever a .pyx/.pxd changed (setuptools compares timestamps).
build: $(STAMP)
	$(PY) setup.py --quiet build_ext --inplace

run: build
	$(VENV)/bin/precinct demo

lint: $(STAMP)
	$(VENV)/bin/ruff check sim core_ext experiments tests
	$(VENV)/bin/ruff format --check sim core_ext experiments tests

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The report's browser test drives Debian's Chromium; install it where we can (CI runs as root).
# Without it that one test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser test will skip"; \
		else echo "chromium not found and cannot be installed here: the browser test will skip"; fi; }

test: build lint typecheck browser
	$(PY) -m pytest -q

test-slow: build
	$(PY) -m pip install --quiet -c constraints.txt --no-build-isolation -e ".[test,ray]"
	$(PY) -m pytest -q -m slow

bench: build
	$(PY) -m pytest tests/benchmarks -q -m "slow or not slow" --benchmark-enable --benchmark-only \
		--benchmark-columns=median,iqr,rounds --benchmark-sort=name
	$(PY) -m tests.benchmarks.report

clean:
	rm -rf build core_ext/*.c core_ext/*.so $(VENV)
