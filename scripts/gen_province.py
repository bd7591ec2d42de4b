"""Write a full-size synthetic province as node TOML files: see ledger13710.testing.synthetic."""

from __future__ import annotations

import argparse
import sys

from ledger13710.domain.errors import LedgerError
from ledger13710.testing.synthetic import generate


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, generate, print a one-line summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True, help="directory to write the node files into")
    parser.add_argument("--cities", type=int, default=11)
    parser.add_argument("--counties", type=int, default=117)
    parser.add_argument("--townships", type=int, default=1200)
    parser.add_argument("--departments", type=int, default=106, help="provincial departments")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        summary = generate(
            args.out,
            cities=args.cities,
            counties=args.counties,
            townships=args.townships,
            departments=args.departments,
            seed=args.seed,
        )
    except LedgerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {summary.line()} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
