#!/usr/bin/env bash
# Install everything the tests need into .venv, then run lint, types and the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# The tests talk to a real PostgreSQL on 127.0.0.1:5432 (trust auth, database "test").
bash scripts/ensure_postgres.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/pytest "$@"
