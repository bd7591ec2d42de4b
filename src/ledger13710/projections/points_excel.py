"""Excel export of the points table for the annual assessment: the ranked scores of a period,
and every point behind them with the event that earned it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger13710.domain.points_rules import RULE_ZH
from ledger13710.projections.excel import DATE_FORMAT
from ledger13710.projections.labels import TIER_ZH
from ledger13710.projections.points_queries import PointLine, UnitScore

SCORE_HEADERS = ("层级", "类别", "名次", "单位", "积分", "加分", "减分", "积分条数")
LINE_HEADERS = (
    "单位", "时间", "事项", "事件", "来源节点", "位置", "规则", "规则名称", "规则版本", "时限",
    "数量", "积分", "申诉撤销",
)  # fmt: skip
KIND_ZH = {"government": "政府", "department": "部门"}


def _sheet(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    ws.append(list(headers))
    ws.freeze_panes = "A2"
    for row in rows:
        ws.append(list(row))


def write_points_xlsx(
    path: Path, period: str, scores: Sequence[UnitScore], lines: dict[str, list[PointLine]]
) -> None:
    """``path``: sheet 积分 (the ranked scores of ``period``), sheet 明细 (each point)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = f"积分 {period}"
    _sheet(
        ws,
        SCORE_HEADERS,
        (
            (TIER_ZH.get(s.tier, s.tier), KIND_ZH.get(s.kind, s.kind), s.rank, s.unit,
             s.total / 100, s.awarded / 100, s.deducted / 100, s.points)
            for s in scores
        ),
    )  # fmt: skip
    detail = wb.create_sheet("明细")
    _sheet(
        detail,
        LINE_HEADERS,
        (
            (unit, p.at.replace(tzinfo=None), p.item, p.topic.split(".")[2], p.origin, p.seq,
             p.rule, RULE_ZH.get(p.rule, p.rule), p.rules_version, p.clock, p.quantity,
             p.centi / 100, "是" if p.reversed else "")
            for unit, points in lines.items()
            for p in points
        ),
    )  # fmt: skip
    for cell in detail["B"][1:]:
        cell.number_format = DATE_FORMAT
    wb.save(path)
