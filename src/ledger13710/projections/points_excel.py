"""Excel export for the annual assessment: the ranked scores of a period with every point
behind them and the event that earned it, and the list of accountability cases."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from ledger13710.domain.points_rules import RULE_ZH
from ledger13710.projections.labels import TIER_ZH
from ledger13710.projections.points_queries import PointLine, UnitScore
from ledger13710.projections.workbook import DATE_FORMAT

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


CASE_HEADERS = ("编号", "对象", "触发情形", "情形", "状态", "处理方式")
CASE_STATE_ZH = {
    "proposed": "拟立案",
    "investigated": "已调查核实",
    "decided": "已作出处理决定",
    "closed": "已结案",
    "dismissed": "不予追究",
}


def write_cases_xlsx(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """``path``: one sheet 责任追究, a row per case."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new workbook always has its first sheet
    ws.title = "责任追究"
    _sheet(
        ws,
        CASE_HEADERS,
        (
            (r["id"], r["subject"], r["trigger"], r["circumstances"],
             CASE_STATE_ZH.get(r["state"], r["state"]), r["form"])
            for r in rows
        ),
    )  # fmt: skip
    wb.save(path)
