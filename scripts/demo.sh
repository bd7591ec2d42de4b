#!/usr/bin/env bash
# Install ledger13710 into .venv from uv.lock, then run the demo federation on loopback: Shanxi province,
# its 11 cities, Dingxiang county and Jinchang township as separate node processes over a real
# nats-server, playing the seed's worked example through its clocks (see scripts/demo.py).
# Usage: bash scripts/demo.sh [--keep DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh run

exec .venv/bin/python scripts/demo.py "$@"
