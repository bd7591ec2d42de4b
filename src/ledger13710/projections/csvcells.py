"""Text cells of the CSV files we write and read, safe to open in a spreadsheet.

A spreadsheet that opens a CSV runs a cell beginning with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before one of them) as a formula: ``=HYPERLINK(...)`` in an item title
would become a live link on the supervisor's screen ("CSV injection"). Such text is written
with a leading apostrophe, which spreadsheets show as "this cell is text" and do not display;
a text that itself begins with an apostrophe gets one more, so reading a cell back (import)
removes exactly one and every text round-trips. The ``.xlsx`` export needs none of this: its
cells are typed, and a text cell is never a formula (``workbook.add_sheet``).
"""

from __future__ import annotations

#: First characters a spreadsheet takes as the start of a formula, and our own escape.
_ESCAPED = ("=", "+", "-", "@", "\t", "\r", "'")


def to_csv(text: str) -> str:
    """``text`` as a CSV cell a spreadsheet shows as text, never runs."""
    return "'" + text if text.startswith(_ESCAPED) else text


def from_csv(cell: str) -> str:
    """The text a cell written by :func:`to_csv` holds (a cell without the escape as it is)."""
    return cell[1:] if cell.startswith("'") else cell


__all__ = ["from_csv", "to_csv"]
