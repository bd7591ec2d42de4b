#!/usr/bin/env bash
# Install ledger13710 into .venv, then run the demo federation on loopback: Shanxi province,
# its 11 cities, Dingxiang county and Jinchang township as separate node processes over a real
# nats-server, playing the seed's worked example through its clocks (see scripts/demo.py).
# Usage: bash scripts/demo.sh [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .

exec .venv/bin/python scripts/demo.py "$@"
