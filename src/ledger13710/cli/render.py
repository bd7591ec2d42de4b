"""How the CLI shows things: rich tables for people, JSON for scripts.

Text that came from a user or a file goes into a table through :func:`cell`: control and bidi
characters escaped (:func:`~ledger13710.domain.text.display`) and rich markup taken literally.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ledger13710.domain.lights import behind_plan, item_light
from ledger13710.domain.state import ItemState
from ledger13710.domain.text import display
from ledger13710.domain.types import SHANGHAI

if TYPE_CHECKING:  # only their types are used; the modules bring in aiosqlite and asyncio
    from ledger13710.projections.importer import ImportReport
    from ledger13710.projections.stats import Stats

_encoder = msgspec.json.Encoder()
#: C1 and bidi controls: JSON may carry them raw, a terminal must not get them.
_JSON_UNSAFE = re.compile("[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def cell(value: object) -> str:
    """User or file text for a rich table cell: shown safely, markup characters literal."""
    return escape(display(str(value)))


def out(text: str = "") -> None:
    """Print plain text to stdout (control and bidi characters escaped)."""
    sys.stdout.write(display(text, lines=True) + "\n")


def emit_json(value: Any) -> None:
    """Print ``value`` as one JSON document (C1 and bidi characters as ``\\u`` escapes)."""
    text = _JSON_UNSAFE.sub(_json_escape, _encoder.encode(value).decode())
    sys.stdout.buffer.write(text.encode() + b"\n")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def local(t: datetime | None) -> str:
    """A short local (Shanghai) time for tables."""
    return "" if t is None else t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def item_json(item: ItemState, now: datetime) -> dict[str, Any]:
    """An item as JSON-ready builtins, with its light computed at ``now``."""
    data: dict[str, Any] = msgspec.to_builtins(item)
    data["light"] = item_light(item, now).value
    data["behind_plan"] = behind_plan(item, now)
    return data


def print_all(renderables: Iterable[Any]) -> None:
    """Render rich objects to stdout. ``emoji=False``: rich would turn a ``:red_circle:`` typed
    in a title into 🔴 (markup escaping does not cover emoji codes); text shows as it was typed."""
    console = Console(soft_wrap=False, emoji=False)
    console.width = max(console.width, 140)
    for r in renderables:
        console.print(r)


# -- the read side (views) ------------------------------------------------------------------


def stats_tables(stats: Stats, now: datetime) -> list[Table]:
    """The statistics as tables (the same tables an export writes)."""
    # imported here: openpyxl takes a noticeable share of every command's start-up
    from ledger13710.projections.excel import stats_tables as workbook_tables  # noqa: PLC0415

    tables = []
    for title, (headers, rows) in workbook_tables(stats).items():
        table = Table(title=f"{title}（截至 {local(now)}）" if title == "概况" else title)
        for h in headers:
            table.add_column(h)
        for values in rows:
            table.add_row(*("—" if v is None else cell(v) for v in values))
        tables.append(table)
    return tables


def import_table(report: ImportReport) -> Table:
    """What an import did, row by row."""
    done = "可登记" if report.dry_run else "登记"
    accepted = sum(1 for r in report.rows if r.outcome == "accepted")
    title = f"导入结果：{done}{accepted if report.dry_run else report.registered}项，"
    table = Table(title=f"{title}跳过{report.skipped}项，拒绝{report.refused}项")
    for header in ("工作表", "编号", "结果", "说明"):
        table.add_column(header)
    style = {"registered": "[green]登记[/]", "accepted": "[green]可登记[/]",
             "skipped": "[dim]跳过[/]", "refused": "[red]拒绝[/]"}  # fmt: skip
    for r in report.rows:
        table.add_row(cell(r.sheet), cell(r.number), style[r.outcome], cell(r.message))
    return table
