# `make demo` and `make test` are the whole quick start: each creates .venv when it is
# missing and installs minicnn editable with the extras it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,viz,h5]'
	touch $(STAMP)

demo: $(STAMP)
	@for d in demos/*.py; do \
		echo "==================== $$d ===================="; \
		$(BIN)/python $$d || exit 1; \
		echo; \
	done

lint: $(STAMP)
	$(BIN)/ruff format --check minicnn tests demos benchmarks tools
	$(BIN)/ruff check minicnn tests demos benchmarks tools

test: lint
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/targets.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
