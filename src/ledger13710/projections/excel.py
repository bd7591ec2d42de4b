"""Export of the ledger and its statistics: Excel (a 总台账 sheet of every item, then one sheet
per board, then one per statistics table; styled by :mod:`.workbook`) and CSV. Units and boards
appear by their names, which the importer reads back."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from ledger13710.config.boards import Board
from ledger13710.domain.item import item_id
from ledger13710.domain.text import display
from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.csvcells import to_csv
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
from ledger13710.projections.workbook import Rate, add_sheet

UnitName = Callable[[str], str]

#: The columns an import reads (the export writes them first, in this order).
IMPORT_HEADERS = (
    "编号", "事项", "来源", "板块", "性质", "立项单位", "牵头单位", "协办单位", "说明/备注",
)  # fmt: skip
_CLOCK_HEADERS = tuple(h for c in CLOCK_NAMES for h in (f"{CLOCK_ZH[c]}时限", f"{CLOCK_ZH[c]}完成"))
LEDGER_HEADERS = (
    *IMPORT_HEADERS, "层级", "年度", "状态", "灯", "滞后于计划", *_CLOCK_HEADERS,
    "退回次数", "延期申请", "延期批准", "催办次数", "上级事项", "立项时间", "办结时间",
    "附件数", "附件",
)  # fmt: skip
ALL_ITEMS = "总台账"


def _local(t: datetime | None) -> datetime | None:
    """Shanghai wall time without tzinfo (Excel has no time zones)."""
    return None if t is None else t.astimezone(SHANGHAI).replace(tzinfo=None)


def ledger_values(
    row: LedgerRow,
    boards: Mapping[str, Board],
    unit_name: UnitName = str,
    evidence: Sequence[str] = (),
) -> list[Any]:
    """One ledger row as cell values, in :data:`LEDGER_HEADERS` order; ``evidence`` names the
    item's attachments; text as :func:`display` shows it."""
    board = boards.get(row.board)
    clocks: list[Any] = []
    for c in CLOCK_NAMES:
        cell = row.clocks[c]
        clocks += [_local(cell.due_at), _local(cell.done_at)]
    values = [
        row.number, row.title, SOURCE_ZH.get(row.source, row.source),
        board.name if board else row.board, SEVERITY_ZH.get(row.severity, row.severity),
        unit_name(row.raising_unit), unit_name(row.lead_unit),
        ",".join(unit_name(u) for u in row.co_units), row.detail,
        TIER_ZH.get(row.tier, row.tier), row.year, STATE_ZH.get(row.state, row.state),
        LIGHT_ZH.get(row.light, row.light), "是" if row.behind_plan else "",
        *clocks, row.returns, row.extensions_requested, row.extensions_granted, row.urges,
        row.parent_number, _local(row.registered_at), _local(row.finished_at),
        len(evidence), "、".join(evidence),
    ]  # fmt: skip
    return [display(v, lines=True) if isinstance(v, str) else v for v in values]


#: item id (hex) -> the names of its attachments (:func:`projections.evidence.evidence_names`)
EvidenceNames = Mapping[str, Sequence[str]]


def _values(
    row: LedgerRow, boards: Mapping[str, Board], unit_name: UnitName, names: EvidenceNames
) -> list[Any]:
    return ledger_values(row, boards, unit_name, names.get(item_id(row.number).hex, ()))


def add_ledger_sheets(
    wb: Workbook,
    rows: list[LedgerRow],
    boards: Mapping[str, Board],
    unit_name: UnitName = str,
    names: EvidenceNames | None = None,
) -> None:
    """The 总台账 sheet of every item, then one sheet per board that has items (board order)."""
    found = names or {}
    add_sheet(wb, ALL_ITEMS, LEDGER_HEADERS, (_values(r, boards, unit_name, found) for r in rows))
    order = {b: i for i, b in enumerate(boards)}
    by_board: dict[str, list[LedgerRow]] = {}
    for r in rows:
        by_board.setdefault(r.board, []).append(r)
    for board in sorted(by_board, key=lambda b: (order.get(b, len(order)), b)):
        title = boards[board].name if board in boards else board
        values = (_values(r, boards, unit_name, found) for r in by_board[board])
        add_sheet(wb, title, LEDGER_HEADERS, values)


def stats_tables(stats: Stats) -> dict[str, tuple[tuple[str, ...], list[list[Any]]]]:
    """The statistics as titled tables: sheet title -> (headers, rows)."""

    def counts(label: Callable[[str], str], cs: list[Count]) -> list[list[Any]]:
        return [[label(c.key), c.items] for c in cs]

    same: Callable[[str], str] = str
    summary: list[list[Any]] = [
        ["概况", stats.headline], ["事项总数", stats.total], ["已销号", stats.closed],
        ["已撤销", stats.cancelled], ["销号清零率", _rate(stats.close_out_rate)],
        ["平均解决天数", stats.avg_days_to_resolve], ["平均销号天数", stats.avg_days_to_close_out],
        ["被退回事项", stats.items_returned], ["退回次数", stats.returns],
        ["延期申请", stats.extensions_requested], ["延期批准", stats.extensions_granted],
        ["获批延期事项", stats.items_extended],
    ]  # fmt: skip
    clocks = [
        [CLOCK_ZH.get(c.clock, c.clock), c.total, c.met, c.on_time, c.late, c.open_overdue,
         _rate(c.on_time_rate)]
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


def _rate(value: float | None) -> Rate | None:
    return None if value is None else Rate(value)


def add_stats_sheets(
    wb: Workbook, stats: Stats, boards: Mapping[str, Board], unit_name: UnitName = str
) -> None:
    """One sheet per statistics table, boards and units by name."""
    for title, (headers, rows) in stats_tables(stats).items():
        if title == "按板块":
            rows = [[boards[k].name if k in boards else k, *rest] for k, *rest in rows]  # noqa: PLW2901
        if title == "按单位":
            rows = [[unit_name(k), *rest] for k, *rest in rows]  # noqa: PLW2901
        add_sheet(wb, title, headers, rows)


def write_xlsx(path: Path, fill: Callable[[Workbook], None]) -> None:
    """Write a new workbook at ``path``, filled by ``fill``."""
    wb = Workbook()
    if wb.active is not None:
        wb.remove(wb.active)
    fill(wb)
    wb.save(path)


def write_ledger_csv(
    path: Path,
    rows: list[LedgerRow],
    boards: Mapping[str, Board],
    unit_name: UnitName = str,
    names: EvidenceNames | None = None,
) -> None:
    """The ledger as one CSV (UTF-8 with BOM, so Excel reads the Chinese headers); text that a
    spreadsheet would run as a formula is escaped (:mod:`~ledger13710.projections.csvcells`)."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(LEDGER_HEADERS)
        for r in rows:
            w.writerow(_csv_cell(v) for v in _values(r, boards, unit_name, names or {}))


def write_stats_csv(path: Path, stats: Stats) -> None:
    """The statistics as one long CSV: table, then the row's cells."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        for title, (headers, rows) in stats_tables(stats).items():
            w.writerow([title, *headers])
            for values in rows:
                w.writerow([title, *(_csv_cell(v) for v in values)])


def _csv_cell(value: Any) -> Any:
    """A cell value as the CSV writes it: a time in local minutes, a rate as its percentage,
    text escaped so a spreadsheet never runs it; numbers as they are."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Rate):
        return str(value)
    return to_csv(value) if isinstance(value, str) else value
