# Weft developer entry points. On a fresh clone, `make run` installs what is
# needed (uv, the locked environment) and starts the whole suite locally.
#
#   make run [FRESH=1] [ARGS="--services membership"]   the dev stack (weft dev)
#   make test [ARGS="-k ladder -x"]                     the test suite
#   make lint                                           ruff, ruff format, mypy, import contracts
#   make bench                                          speed and memory numbers
#   make contract [ARGS="--max-examples 100"]           schemathesis against the running suite
#   make strings                                        refresh the web app's string catalogue (gettext)
#   make chaos [ARGS="--seconds 60"]                    faults under load, then an audit (all counts 0)

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
ARGS ?=
# uv's path, installing uv from PyPI first if needed (evaluated when used).
UV = "$$(tools/ensure-uv)"

.PHONY: help sync run test lint bench contract chaos strings

help:
	@sed -n 's/^#   //p' Makefile

sync:
	@$(UV) sync --locked

run:
	@$(UV) sync --locked
	exec $(VENV)/bin/weft dev $(if $(FRESH),--fresh) $(ARGS)

test:
	@$(UV) sync --locked --quiet
	$(VENV)/bin/pytest $(ARGS)

# Every checker runs even if an earlier one fails, so one CI run shows all problems.
lint:
	@$(UV) sync --locked --quiet
	@status=0; \
	for check in "ruff check ." "ruff format --check ." "mypy" "lint-imports"; do \
		echo "==> $$check"; \
		$(VENV)/bin/$$check || status=1; \
	done; \
	exit $$status

bench:
	@$(UV) sync --locked --quiet
	$(VENV)/bin/python bench/run.py $(ARGS)

contract:
	@$(UV) sync --locked --quiet
	$(VENV)/bin/weft contract $(ARGS)

# Bounded (--seconds, --max-requests); prints its figures; exits 1 if any count is not 0.
chaos:
	@$(UV) sync --locked --quiet
	PYTHONPATH=bench $(VENV)/bin/python -m chaos $(ARGS)

# The web app's strings, for translators (a test fails when the committed catalogue is stale).
strings:
	@$(UV) sync --locked --quiet
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-o services/web/weft_web/locale/messages.pot .
