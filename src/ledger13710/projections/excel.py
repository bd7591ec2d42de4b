"""Export of the ledger and its statistics: Excel (one sheet per board or per table, frozen
header row, due times as dates) and CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ledger13710.config.boards import Board
from ledger13710.domain.text import display
from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.labels import (
    CLOCK_ZH,
    LIGHT_ZH,
    SEVERITY_ZH,
    SOURCE_ZH,
    STATE_ZH,
    TIER_ZH,
)
from ledger13710.projections.queries import CLOCK_NAMES, LedgerRow
from ledger13710.projections.stats import Count, Stats

#: The columns an import reads (the export writes them first, in this order).
IMPORT_HEADERS = (
    "编号", "事项", "来源", "板块", "性质", "立项单位", "牵头单位", "协办单位", "说明/备注",
)  # fmt: skip
_CLOCK_HEADERS = tuple(h for c in CLOCK_NAMES for h in (f"{CLOCK_ZH[c]}时限", f"{CLOCK_ZH[c]}完成"))
LEDGER_HEADERS = (
    *IMPORT_HEADERS, "层级", "年度", "状态", "灯", "滞后于计划", *_CLOCK_HEADERS,
    "退回次数", "延期申请", "延期批准", "催办次数", "上级事项", "立项时间", "办结时间",
)  # fmt: skip
DATE_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_TITLE_MAX = 31


def _local(t: datetime | None) -> datetime | None:
    """Shanghai wall time without tzinfo (Excel has no time zones)."""
    return None if t is None else t.astimezone(SHANGHAI).replace(tzinfo=None)


def ledger_values(row: LedgerRow, boards: Mapping[str, Board]) -> list[Any]:
    """One ledger row as cell values, in :data:`LEDGER_HEADERS` order; text as :func:`display`
    shows it."""
    board = boards.get(row.board)
    clocks: list[Any] = []
    for c in CLOCK_NAMES:
        cell = row.clocks[c]
        clocks += [_local(cell.due_at), _local(cell.done_at)]
    values = [
        row.number, row.title, SOURCE_ZH.get(row.source, row.source),
        board.name if board else row.board, SEVERITY_ZH.get(row.severity, row.severity),
        row.raising_unit, row.lead_unit, ",".join(row.co_units), row.detail,
        TIER_ZH.get(row.tier, row.tier), row.year, STATE_ZH.get(row.state, row.state),
        LIGHT_ZH.get(row.light, row.light), "是" if row.behind_plan else "",
        *clocks, row.returns, row.extensions_requested, row.extensions_granted, row.urges,
        row.parent_number, _local(row.registered_at), _local(row.finished_at),
    ]  # fmt: skip
    return [display(v, lines=True) if isinstance(v, str) else v for v in values]


def _sheet(wb: Workbook, title: str, headers: Iterable[str], rows: Iterable[list[Any]]) -> None:
    ws: Worksheet = wb.create_sheet(title[:SHEET_TITLE_MAX])
    header = list(headers)
    ws.append(header)
    for values in rows:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text that starts with "=" is text here, never a formula
                cell.data_type = "s"
    ws.freeze_panes = "A2"
    for i, name in enumerate(header, 1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(40, 2 * len(name) + 4))
        if name.endswith(("时限", "完成", "时间")):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = DATE_FORMAT


def add_ledger_sheets(wb: Workbook, rows: list[LedgerRow], boards: Mapping[str, Board]) -> None:
    """One ledger sheet per board (in board order), or an empty 台账 sheet."""
    order = {b: i for i, b in enumerate(boards)}
    by_board: dict[str, list[LedgerRow]] = {}
    for r in rows:
        by_board.setdefault(r.board, []).append(r)
    if not by_board:
        _sheet(wb, "台账", LEDGER_HEADERS, [])
    for board in sorted(by_board, key=lambda b: (order.get(b, len(order)), b)):
        title = boards[board].name if board in boards else board
        _sheet(wb, title, LEDGER_HEADERS, (ledger_values(r, boards) for r in by_board[board]))


def stats_tables(stats: Stats) -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """The statistics as titled tables: sheet title -> (headers, rows)."""

    def counts(label: Callable[[str], str], cs: list[Count]) -> list[list[Any]]:
        return [[label(c.key), c.items] for c in cs]

    same: Callable[[str], str] = str
    summary: list[list[Any]] = [
        ["概况", stats.headline], ["事项总数", stats.total], ["已销号", stats.closed],
        ["已撤销", stats.cancelled], ["销号清零率", stats.close_out_rate],
        ["平均解决天数", stats.avg_days_to_resolve], ["平均销号天数", stats.avg_days_to_close_out],
        ["被退回事项", stats.items_returned], ["退回次数", stats.returns],
        ["延期申请", stats.extensions_requested], ["延期批准", stats.extensions_granted],
        ["获批延期事项", stats.items_extended],
    ]  # fmt: skip
    clocks = [
        [CLOCK_ZH.get(c.clock, c.clock), c.total, c.met, c.on_time, c.late, c.open_overdue,
         c.on_time_rate]
        for c in stats.clocks
    ]  # fmt: skip
    return {
        "概况": (("项目", "数值"), summary),
        "按年度": (("年度", "事项数"), counts(same, stats.by_year)),
        "按板块": (("板块", "事项数"), counts(same, stats.by_board)),
        "按层级": (("层级", "事项数"), counts(lambda k: TIER_ZH.get(k, k), stats.by_tier)),
        "按单位": (("牵头单位", "事项数"), counts(same, stats.by_unit)),
        "按状态": (("状态", "事项数"), counts(lambda k: STATE_ZH.get(k, k), stats.by_state)),
        "时限": (
            ("时限", "总数", "已完成", "按时完成", "超时完成", "超期未完成", "按时率"),
            clocks,
        ),
        "在办账龄": (("天数", "事项数"), counts(same, stats.open_by_age)),
    }


def add_stats_sheets(wb: Workbook, stats: Stats, boards: Mapping[str, Board]) -> None:
    """One sheet per statistics table."""
    for title, (headers, rows) in stats_tables(stats).items():
        if title == "按板块":
            rows = [[boards[k].name if k in boards else k, *rest] for k, *rest in rows]  # noqa: PLW2901
        _sheet(wb, title, headers, rows)


def write_xlsx(path: Path, fill: Callable[[Workbook], None]) -> None:
    """Write a new workbook at ``path``, filled by ``fill``."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    fill(wb)
    wb.save(path)


def write_ledger_csv(path: Path, rows: list[LedgerRow], boards: Mapping[str, Board]) -> None:
    """The ledger as one CSV (UTF-8 with BOM, so Excel reads the Chinese headers)."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(LEDGER_HEADERS)
        for r in rows:
            w.writerow(
                v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v
                for v in ledger_values(r, boards)
            )


def write_stats_csv(path: Path, stats: Stats) -> None:
    """The statistics as one long CSV: table, then the row's cells."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        for title, (headers, rows) in stats_tables(stats).items():
            w.writerow([title, *headers])
            for values in rows:
                w.writerow([title, *values])
