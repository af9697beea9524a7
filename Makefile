# Tinct: `make demo` colorizes the sample photo; `make test` runs lint + the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch==2.13.0 is the lean CPU build; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint hosts install install-test bundle clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	mkdir -p out
	$(BIN)/tinct colorize docs/sample-bw.png -o out/sample-color.png
	@echo "wrote out/sample-color.png (from docs/sample-bw.png)"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check backend tests benchmarks scripts krita_plugin gimp_plugin
	$(BIN)/ruff format --check backend tests benchmarks scripts krita_plugin gimp_plugin

# Real GIMP 3 and Krita for the host tests (apt; needs root, as CI has).
hosts:
	bash scripts/install_hosts.sh

test: lint hosts
	$(BIN)/python -m pytest -q -ra

clean:
	rm -rf $(VENV) out build dist
