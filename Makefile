# Two commands do all the set-up: `make quickstart` and `make test` (see README.md).
VENV ?= .venv
STAMP := $(VENV)/.tracemill-installed

.PHONY: setup quickstart test lint bench lock upgrade

$(STAMP): pyproject.toml requirements/cpu.lock.txt scripts/setup.sh
	bash scripts/setup.sh $(VENV)
	touch $(STAMP)

setup: $(STAMP)

quickstart: $(STAMP)
	$(VENV)/bin/tracemill run recipes/quickstart.yaml

test: $(STAMP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

# Re-compile the lock from pyproject.toml (keeping pins), or take the newest allowed
# releases and prove them: re-lock, rebuild the environment from the lock, run the tests.
lock:
	bash scripts/lock.sh

upgrade:
	bash scripts/lock.sh --upgrade
	rm -rf $(VENV)
	$(MAKE) setup test
