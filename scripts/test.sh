#!/usr/bin/env bash
# Install exactly what uv.lock says into .venv, then run lint, types and the whole test suite.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh dev

# The tests talk to a real PostgreSQL on 127.0.0.1:5432 (trust auth, database "test").
bash scripts/ensure_postgres.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports  # the layers of ARCHITECTURE.md (contracts in pyproject.toml)
exec .venv/bin/pytest "$@"
