# Tinct: `make demo` colorizes the sample photo; `make test` runs lint + the whole suite
# (after building the standalone backend, which the bundle and host tests run);
# `make bundle` builds dist/tinct-backend/ (PyInstaller, one folder, no Python needed).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch==2.13.0 is the lean CPU build; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0
# Exact versions of everything else: requirements/runtime.txt (what the demo and a user's
# backend need) and requirements/dev.txt (that plus tests, training and the bundle build).
# `make lock` refreshes both; see requirements/README.md.
UV     ?= uv==0.13.9

.PHONY: demo test lint hosts install install-test bundle clean lock test-latest

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# --no-deps on the project itself: every dependency comes from the lock, none is resolved anew.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements/runtime.txt
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -r requirements/runtime.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements/dev.txt
	$(BIN)/pip install -q -r requirements/dev.txt
	touch $@

# pyinstaller comes with the dev set; torch stays the pinned CPU build installed above.
$(VENV)/.installed-build: $(VENV)/.installed-test
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
	$(BIN)/python scripts/count_docstrings.py  # >= 90 % of public definitions documented

# Real GIMP 3 and Krita for the host tests (apt; needs root, as CI has).
hosts:
	bash scripts/install_hosts.sh

test: lint hosts bundle
	$(BIN)/python -m pytest -q -ra

# Refresh the lock after changing a dependency in pyproject.toml, or to take upstream
# releases on purpose (then run `make test` before committing the new lock).
LOCK_FLAGS := --universal --python-version 3.10 -c requirements/constraints.txt --no-header -q
lock: $(BIN)/python
	$(BIN)/pip install -q $(UV)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra build --extra train \
		$(LOCK_FLAGS) -o requirements/dev.txt
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c requirements/dev.txt \
		-o requirements/runtime.txt

# The newest upstream releases in a throwaway venv: the fast suite, then the bundle built
# from them and started.  Run it before `make lock`, or to learn early what will break.
test-latest:
	bash scripts/test_latest.sh

clean:
	rm -rf $(VENV) out build dist
