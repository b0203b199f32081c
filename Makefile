# Every target CI runs is here, so a developer runs exactly what CI runs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# checkov pins an older 'packaging' than the project's dev tools: it lives in a venv of its own.
TOOLS_VENV := .venv-tools
BUF := node_modules/.bin/buf
# buf breaking compares the contract with this git ref (CI sets it to the previous commit).
BUF_AGAINST ?= .git\#branch=main

.PHONY: install demo test lint fmt proto proto-check buf-breaking ci clean lock services evaluate tools bench

install: $(VENV)/.installed node_modules/.installed $(TOOLS_VENV)/.installed

DISTRIBUTIONS := enrichment_client/pyproject.toml pyproject.toml enrichment_sandbox/pyproject.toml \
	scrapers/pyproject.toml

# Four distributions, each installable alone: the client (grpcio + protobuf only), the server,
# the sandbox (upstream imitations + demo: tools, never in the server's wheel), the scrapers.
$(VENV)/.installed: requirements.lock $(DISTRIBUTIONS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps \
		-e ./enrichment_client -e . -e ./enrichment_sandbox -e ./scrapers
	touch $@

$(TOOLS_VENV)/.installed: requirements-tools.lock
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.lock
	touch $@

# Not `npm ci`: this npm records only the platform packages it can fetch in the lock, and
# `npm ci` then refuses the lock. `npm install --no-save` installs the exact pinned version
# (package.json pins 1.75.0) and leaves package-lock.json untouched. The buf binary ships in
# the platform package, so the postinstall script is not needed (--ignore-scripts).
node_modules/.installed: package.json package-lock.json
	npm install --no-save --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

demo: install
	$(BIN)/enrichment-demo

test: install services tools
	$(BIN)/pytest

services:
	scripts/ensure-services.sh

tools:
	scripts/ensure-tools.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BUF) lint
	$(MAKE) --no-print-directory proto-check

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

proto: install
	$(BIN)/python scripts/gen_proto.py

# Regenerate, then compare with what git has (index): changed or new files are drift.
proto-check: proto
	@if ! git diff --quiet -- enrichment_client/pb || \
		[ -n "$$(git ls-files --others --exclude-standard -- enrichment_client/pb)" ]; then \
		git status --short -- enrichment_client/pb; \
		echo "generated code drifted from proto/: run 'make proto' and commit the result"; \
		exit 1; \
	fi

buf-breaking: install
	$(BUF) breaking --against '$(BUF_AGAINST)'

bench: install
	$(BIN)/python -m bench

evaluate: install
	$(BIN)/python -m tests.evaluation

ci: lint test

clean:
	rm -rf $(VENV) $(TOOLS_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache

lock: install
	{ echo '# Exact versions installed by `make install` (runtime + dev tools); refresh with `make lock`.'; \
	  $(BIN)/pip freeze --exclude-editable | grep -Ev '^(metadata-enrichment|enrichment-client|enrichment-sandbox|tracklist-scrapers)'; } > requirements.lock
