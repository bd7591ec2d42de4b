#!/usr/bin/env bash
# Move uv.lock to the newest versions pyproject.toml allows, install them, and run the whole
# suite (lint, types, tests) on them. Prints what moved. Commit uv.lock only if it passes.
# Usage: bash scripts/update-deps.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh dev >/dev/null   # makes sure .tools/bin/uv is the pinned uv
export UV_PYTHON_DOWNLOADS=never
cp uv.lock "${TMPDIR:-/tmp}/uv.lock.before"
.tools/bin/uv lock --upgrade --python python3
echo "what moved:"
diff <(grep -A1 '^name = ' "${TMPDIR:-/tmp}/uv.lock.before" | paste - - - | awk '{print $3, $6}') \
     <(grep -A1 '^name = ' uv.lock | paste - - - | awk '{print $3, $6}') || true
exec bash scripts/test.sh "$@"
