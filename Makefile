# Tinct: `make demo` colorizes the sample photo; `make test` runs lint + the whole suite
# (after building the standalone backend, which the bundle and host tests run);
# `make bundle` builds dist/tinct-backend/ (PyInstaller, one folder, no Python needed).
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

# pyinstaller; torch stays the pinned CPU build installed above (-e: the checkout stays live).
$(VENV)/.installed-build: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[build]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Rebuilt when the spec, the package (code, model) or a plugin changes.
BUNDLE        := dist/tinct-backend/tinct-backend
BUNDLE_INPUTS := installer/tinct-backend.spec installer/tinct_backend.py pyproject.toml \
	$(shell find backend/tinct krita_plugin gimp_plugin -type f \
		-not -path '*/__pycache__/*' -not -path '*/tinct_protocol/*' 2>/dev/null)

bundle: $(BUNDLE)

$(BUNDLE): $(VENV)/.installed-build $(BUNDLE_INPUTS)
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build \
		installer/tinct-backend.spec
	touch $@
	@du -sh dist/tinct-backend

demo: $(VENV)/.installed
	mkdir -p out
	$(BIN)/tinct colorize docs/sample-bw.png -o out/sample-color.png
	@echo "wrote out/sample-color.png (from docs/sample-bw.png)"

lint: $(VENV)/.installed-test
	$(BIN)/ruff check backend tests benchmarks scripts krita_plugin gimp_plugin installer
	$(BIN)/ruff format --check backend tests benchmarks scripts krita_plugin gimp_plugin installer
	$(BIN)/lint-imports  # the layering contracts in pyproject.toml

# Real GIMP 3 and Krita for the host tests (apt; needs root, as CI has).
hosts:
	bash scripts/install_hosts.sh

test: lint hosts bundle
	$(BIN)/python -m pytest -q -ra

clean:
	rm -rf $(VENV) out build dist
