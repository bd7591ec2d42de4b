#!/usr/bin/env bash
# Install ledger13710 into .venv exactly as uv.lock says. Only python3 (3.11+) is assumed: uv
# itself, pinned below, is installed into .tools/ from PyPI first.
# Usage: bash scripts/bootstrap.sh run    the package and what it needs to run (the demo)
#        bash scripts/bootstrap.sh dev    plus the test, lint and type-check tools
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
mode=${1:-dev}
case "$mode" in
  run) extras=(--inexact) ;;  # keeps the dev tools of a checkout that has them (demo, then tests)
  dev) extras=(--extra dev) ;;
  *) echo "usage: bash scripts/bootstrap.sh run|dev" >&2; exit 2 ;;
esac

if [ "$(.tools/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv .tools
  .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# The machine's python3 makes .venv; uv never downloads an interpreter of its own.
export UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=.venv UV_COMPILE_BYTECODE=1
.tools/bin/uv sync --quiet --locked --python python3 "${extras[@]}"

# Bytecode for our own sources too (uv compiled site-packages above): where the environment
# sets PYTHONDONTWRITEBYTECODE, as CI machines often do, every command would otherwise compile
# ~170 modules from source before doing anything (0.2 s of CPU a command; scripts/bench_startup.py).
.venv/bin/python -m compileall -q src >/dev/null
