"""How the CLI shows things: rich tables for people, JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console
from rich.table import Table

from ledger13710.domain.lights import behind_plan, item_light
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import SHANGHAI

if TYPE_CHECKING:  # only their types are used; the modules bring in aiosqlite and asyncio
    from ledger13710.projections.importer import ImportReport
    from ledger13710.projections.stats import Stats

_encoder = msgspec.json.Encoder()


def out(text: str = "") -> None:
    """Print plain text to stdout."""
    sys.stdout.write(text + "\n")


def emit_json(value: Any) -> None:
    """Print ``value`` as one JSON document."""
    sys.stdout.buffer.write(_encoder.encode(value) + b"\n")


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
    """Render rich objects to stdout."""
    console = Console(soft_wrap=False, width=max(Console().width, 140))
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
            table.add_row(*("—" if v is None else str(v) for v in values))
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
        table.add_row(r.sheet, r.number, style[r.outcome], r.message)
    return table
