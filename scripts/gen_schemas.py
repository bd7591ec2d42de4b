"""Regenerate ``schemas/`` from the code, or check that it has not drifted.

python scripts/gen_schemas.py            write schemas/ (and remove stale files)
python scripts/gen_schemas.py --check    exit 1 naming every drifted file; write nothing
python scripts/gen_schemas.py --freeze   also add a golden sample and a frozen schema to
                                         tests/golden/ for every topic that has none
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ledger13710.contract import schemas as schemas_gen

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
GOLDEN = ROOT / "tests" / "golden"


def main(argv: list[str] | None = None) -> int:
    """Run the command; the exit status is 1 when ``--check`` finds drift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report drift (exit 1)")
    mode.add_argument("--freeze", action="store_true", help="also freeze samples of new topics")
    parser.add_argument("--dir", type=Path, default=SCHEMAS, help="schemas directory")
    args = parser.parse_args(argv)
    wanted = schemas_gen.render_all(GOLDEN / "schemas")
    if args.check:
        drifted = schemas_gen.drifted(args.dir, wanted)
        for name in drifted:
            print(f"{args.dir / name}: differs from the code", file=sys.stderr)
        if drifted:
            print("run: python scripts/gen_schemas.py", file=sys.stderr)
        return 1 if drifted else 0
    for name in schemas_gen.write(args.dir, wanted):
        print(f"wrote {args.dir / name}")
    if args.freeze:
        for topic in schemas_gen.freeze_new(GOLDEN):
            print(f"froze {topic} in {GOLDEN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
