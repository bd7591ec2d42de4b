"""Reminder text: the catalog's Chinese templates, and the length rules of an SMS.

A Chinese SMS is UCS-2: 70 characters fit one message; a longer text goes out as a concatenated
SMS of parts of 67 characters each (the other 3 carry the concatenation header). A character
outside the Basic Multilingual Plane takes two UCS-2 units.

**Length rule.** A text up to 70 units is one SMS. A longer one is split into concatenated parts
(at most ``max_parts``). When even that is too long, the item title is shortened first and then
a supervisor's words, each cut with an ellipsis "…"; number, clock, due time and unit always
stay whole, so the recipient can find the item.
"""

from __future__ import annotations

from datetime import datetime

from ledger13710.domain.text import display
from ledger13710.domain.types import SHANGHAI
from ledger13710.i18n import Catalog

SINGLE = 70
PART = 67
ELLIPSIS = "…"

#: Reminders go out in Chinese: the recipients are the units' heads and operators.
_ZH = Catalog("zh-CN")


def clock_label(clock: str) -> str:
    """The Chinese name of a clock in an SMS (``milestone-2`` → ``时间节点2``)."""
    return _ZH.sms_clock(clock)


def due_text(due: datetime) -> str:
    """A due time as the recipient reads it, e.g. ``10月20日23:59``."""
    local = due.astimezone(SHANGHAI)
    return _ZH.sms_template("due").format(month=local.month, day=local.day, time=f"{local:%H:%M}")


def units(text: str) -> int:
    """Length of ``text`` in UCS-2 units."""
    return len(text.encode("utf-16-be")) // 2


def parts(text: str) -> int:
    """How many SMS a text takes: 1 up to 70 units, else ``ceil(units / 67)``."""
    n = units(text)
    return 1 if n <= SINGLE else -(-n // PART)


def split(text: str) -> list[str]:
    """The parts of a concatenated SMS (a surrogate pair is never cut)."""
    if units(text) <= SINGLE:
        return [text]
    chunks: list[str] = []
    current, used = "", 0
    for ch in text:
        width = units(ch)
        if used + width > PART:
            chunks.append(current)
            current, used = "", 0
        current += ch
        used += width
    chunks.append(current)
    return chunks


def _cut(text: str, budget: int) -> str:
    """``text`` shortened to ``budget`` units, ending with an ellipsis when cut."""
    if units(text) <= budget:
        return text
    out, used = "", 0
    for ch in text:
        if used + units(ch) > budget - 1:
            break
        out += ch
        used += units(ch)
    return out + ELLIPSIS


def render(kind: str, *, unit: str, number: str, title: str, clock: str,
           due: datetime | None, words: str = "", max_parts: int = 3) -> str:  # fmt: skip
    """The reminder text of ``kind``, fitted into ``max_parts`` parts (see the length rule).

    User text (unit name, title, the supervisor's words) is shown through :func:`display`.
    """
    unit, title, words = display(unit), display(title), display(words)
    template = _ZH.sms_template(kind)
    fields = {
        "unit": unit,
        "number": number,
        "clock": clock_label(clock),
        "due": due_text(due) if due is not None else "",
    }
    limit = SINGLE if max_parts <= 1 else PART * max_parts
    text = template.format(title=title, words=words, **fields)
    if units(text) <= limit:
        return text
    fixed = units(template.format(title="", words="", **fields))
    budget = max(limit - fixed, 2)
    title_budget = max(min(units(title), budget - min(units(words), budget // 2)), 2)
    title = _cut(title, title_budget)
    words = _cut(words, max(budget - units(title), 1)) if words else ""
    return template.format(title=title, words=words, **fields)
