"""Argument types of the command line: integers within the range a command can use.

A number outside its range (``--year 99999999999999999999``) is refused by argparse with the
flag's name and the range, before anything is opened.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

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


__all__ = ["COUNT_MAX", "YEARS", "int_in"]
