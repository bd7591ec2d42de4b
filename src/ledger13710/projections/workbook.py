"""How a sheet looks: a number format per cell type, a bold frozen header with an autofilter,
widths from the content, and the header repeated on every printed page.

The format follows the value, never the header's wording: a count is an integer, a
:class:`Rate` a percentage, a time a date, so no column of counts can turn into dates.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

DATE_FORMAT = "yyyy-mm-dd hh:mm"
COUNT_FORMAT = "0"
RATE_FORMAT = "0.0%"
DECIMAL_FORMAT = "0.0"
SHEET_TITLE_MAX = 31
_MIN_WIDTH, _MAX_WIDTH = 6, 50


class Rate(float):
    """A share between 0 and 1, shown as a percentage (``0.5`` is ``50.0%``)."""

    def __str__(self) -> str:
        return f"{self * 100:.1f}%"


def number_format(value: Any) -> str | None:
    """The Excel number format of a cell holding ``value`` (None: general)."""
    if isinstance(value, datetime):
        return DATE_FORMAT
    if isinstance(value, Rate):
        return RATE_FORMAT
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return COUNT_FORMAT if isinstance(value, int) else DECIMAL_FORMAT


def display_width(value: Any) -> int:
    """How many columns ``value`` takes on screen (a CJK character takes two)."""
    if value is None:
        return 0
    text = "yyyy-mm-dd hh:mm" if isinstance(value, datetime) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def add_sheet(wb: Workbook, title: str, headers: Iterable[str], rows: Iterable[list[Any]]) -> None:
    """A sheet of ``rows`` under a bold, frozen, filtered header row that prints on each page."""
    ws: Worksheet = wb.create_sheet(title[:SHEET_TITLE_MAX])
    header = list(headers)
    ws.append(header)
    widths = [display_width(h) for h in header]
    for values in rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text that starts with "=" is text here, never a formula
                cell.data_type = "s"
        for i, value in enumerate(values, 1):
            fmt = number_format(value)
            if fmt is not None:
                ws.cell(row=ws.max_row, column=i).number_format = fmt
            widths[i - 1] = max(widths[i - 1], display_width(value))
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(vertical="center")
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = min(
            _MAX_WIDTH, max(_MIN_WIDTH, width + 2)
        )
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(ws.max_row, 1)}"
    ws.print_title_rows = "1:1"
