"""Arguments several commands share: integers within the range a command can use, and who acts.

A number outside its range (``--year 99999999999999999999``) is refused by argparse with the
flag's name and the range, before anything is opened.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from ledger13710.domain.errors import InputError

#: Where ``--actor`` comes from when it is not given: an operator sets it once for a session.
ACTOR_ENV = "LEDGER13710_ACTOR"

#: Registration years a ledger can hold.
YEARS = (1900, 9999)
#: Page numbers, page sizes, counts and positions: well inside SQLite's 64-bit integers.
COUNT_MAX = 10**12


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer from ``low`` to ``high`` inclusive."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    parse.__name__ = "integer"
    return parse


def add_actor(parser: argparse.ArgumentParser, who: str = "acts") -> None:
    """``--actor CONTACT_ID``, defaulting to ``$LEDGER13710_ACTOR``."""
    parser.add_argument(
        "--actor", default=os.environ.get(ACTOR_ENV, ""), metavar="CONTACT_ID",
        help=f"contact id of who {who} (default ${ACTOR_ENV}); their unit acts",
    )  # fmt: skip


def actor_of(args: argparse.Namespace, who: str = "acts") -> str:
    """The contact id of who acts; a command that changes the ledger refuses to guess it."""
    if not args.actor:
        raise InputError(f"say who {who}: --actor CONTACT_ID (or ${ACTOR_ENV})")
    return str(args.actor)


__all__ = ["ACTOR_ENV", "COUNT_MAX", "YEARS", "actor_of", "add_actor", "int_in"]
