"""User text: how long each field may be, and how it is shown safely to a person.

Text a user typed (titles, notes, reasons, names) is stored exactly as given, within the limits
of :data:`LIMITS` (``docs/limits.md`` lists them). On display — terminal, SMS, workbook, and
later HTML — it goes through :func:`display`, which escapes what could change how the rest of
the screen reads: C0 and C1 control characters (ESC starts terminal escape sequences) and the
Unicode bidi controls (U+202A–U+202E, U+2066–U+2069 and the bidi marks) that reorder text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ledger13710.domain.errors import InputError

#: The longest value (in characters) each free-text field of a command accepts.
LIMITS: Mapping[str, int] = {
    "title": 200,
    "detail": 4000,
    "reference": 200,
    "part": 2000,
    "milestone": 200,
    "note": 2000,
    "content": 4000,
    "reason": 2000,
    "message": 1000,
    "verdict": 2000,
    "text": 2000,
    "approved_by": 100,
}

_UNSAFE = re.compile(
    r"[\x00-\x09\x0b-\x1f\x7f-\x9f"  # C0 but the newline, DEL, C1
    r"\u061c\u200e\u200f\u2028\u2029"  # bidi marks, line and paragraph separators
    r"\u202a-\u202e\u2066-\u2069]"  # bidi embeddings, overrides and isolates
)
_UNSAFE_OR_NEWLINE = re.compile(_UNSAFE.pattern + r"|\n")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def display(text: str, *, lines: bool = False) -> str:
    """``text`` safe to show: control and bidi characters become visible escapes (``\\x1b``).

    With ``lines`` a newline stays a line break; otherwise it is escaped too (a table cell, a
    one-line message).
    """
    return (_UNSAFE if lines else _UNSAFE_OR_NEWLINE).sub(_escape, text)


def check_lengths(**fields: str) -> None:
    """Refuse the first field longer than its limit in :data:`LIMITS`, naming both."""
    for name, value in fields.items():
        limit = LIMITS[name]
        if len(value) > limit:
            raise InputError(
                f"{name.replace('_', ' ')} is {len(value)} characters long; "
                f"the limit is {limit} (see docs/limits.md)",
                field="" if name == "text" else name,
            )


__all__ = ["LIMITS", "check_lengths", "display"]
