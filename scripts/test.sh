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

# The AsyncAPI document, checked by the official parser (tools/asyncapi/package-lock.json pins it).
npm ci --prefix tools/asyncapi --ignore-scripts --no-audit --no-fund --silent
node tools/asyncapi/validate.mjs schemas/asyncapi.json

exec .venv/bin/pytest "$@"
