"""``python -m ledger13710 …``: the same as the ``ledger13710`` command."""

from __future__ import annotations

import sys

from ledger13710.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
