# termgate: `make demo` to try it, `make test` for the whole suite. Nothing else to set up.
PYTHON ?= python3
UV := $(PYTHON) -m uv
export UV_PYTHON_DOWNLOADS := never
# Each server, CLI call and test worker is a new Python process: without cached bytecode each one
# compiles every module it imports again (5.4 s to import the gateway instead of 2.1 on a 2-core
# machine). The environment's installs are compiled once by `uv sync`; the project's own modules
# are cached on first import, also where the shell sets PYTHONDONTWRITEBYTECODE.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test lint typecheck unit bench screenshots env mutation

env: .venv/.synced

.venv/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

demo: env
	$(UV) run termgate demo

test: lint typecheck unit

lint: env
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

typecheck: env
	$(UV) run mypy

unit: env
	$(UV) run pytest -n 2 --dist loadfile

bench: env
	bash bench/run.sh

# Pictures of the portal and console for the README, taken by the browser tests.
screenshots: env
	TERMGATE_SCREENSHOTS=docs/screenshots $(UV) run pytest -q tests/browser

# Mutation score of the enforcement code (slow; not part of `make test`): modules and tests are
# listed in pyproject.toml [tool.mutmut]; the scores and survivors go to docs/testing.md.
mutation: env
	rm -rf mutants
	$(UV) run mutmut run --max-children 1
	$(UV) run python mutation/report.py
