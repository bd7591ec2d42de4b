"""``ledger13710 points``: incentive points (激励积分) per unit and period, ranked, explained.

Every call first prices the events the points store has not seen (cheap when current), with
the rules given (``--rules``, default the shipped example ``builtin:points-v1``); rules of
another version recompute everything by replay.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NamedTuple

from rich.table import Table

from ledger13710.application.node import Node
from ledger13710.cli import render as show
from ledger13710.cli.points_common import DEFAULT_RULES, load_points_rules, with_points
from ledger13710.cli.points_decisions import add_decision_commands
from ledger13710.domain.points_rules import RULE_ZH
from ledger13710.domain.types import Tier
from ledger13710.projections.labels import TIER_ZH
from ledger13710.projections.points import PointsProjector
from ledger13710.projections.points_excel import KIND_ZH, write_points_xlsx
from ledger13710.projections.points_queries import (
    FrozenTotal,
    Period,
    PointLine,
    ScoreQuery,
    UnitScore,
    explain,
    frozen,
    parse_period,
    points_text,
    scores,
)


class _Shown(NamedTuple):
    period: Period
    ranked: list[UnitScore]
    lines: dict[str, list[PointLine]]
    frozen: list[FrozenTotal]


def cmd_points(args: argparse.Namespace) -> int:
    """``points``: catch up, then the ranked scores of a period, or one unit's points."""

    async def work(projector: PointsProjector, node: Node) -> _Shown:
        period = parse_period(args.period or str(node.app.clock.now().year))
        store = projector.store
        if args.explain:
            node.app.directory.unit(args.explain)
            return _Shown(
                period, [], {args.explain: await explain(store, args.explain, period)}, []
            )
        query = ScoreQuery(period=period, tier=args.tier, kind=args.kind, within=args.within)
        ranked = await scores(store, query)
        lines = (
            {s.unit: await explain(store, s.unit, period) for s in ranked} if args.export else {}
        )
        return _Shown(period, ranked, lines, await frozen(store, period.name))

    shown = with_points(args, work)
    period, ranked = shown.period, shown.ranked
    version = load_points_rules(args.rules).version
    if args.export:
        write_points_xlsx(Path(args.export), period.name, ranked, shown.lines)
    head = {"period": period.name, "rules_version": version}
    if args.explain:
        _show_explained(args, head, shown.lines[args.explain])
    elif args.json:
        show.emit_json({**head, "units": [_score_json(s) for s in ranked], "frozen": shown.frozen})
    else:
        show.print_all([_score_table(period.name, version, ranked, shown.frozen)])
    if args.export and not args.json:
        show.out(f"exported {len(ranked)} units to {args.export}")
    return 0


def _score_json(s: UnitScore) -> dict[str, Any]:
    return {
        "unit": s.unit, "tier": s.tier, "kind": s.kind, "rank": s.rank,
        "total": points_text(s.total), "awarded": points_text(s.awarded),
        "deducted": points_text(s.deducted), "points": s.points,
    }  # fmt: skip


def _line_json(unit: str, p: PointLine) -> dict[str, Any]:
    return {
        "at": p.at.isoformat(), "item": p.item, "event": {
            "origin": p.origin, "seq": p.seq, "topic": p.topic, "item_id": p.item_id,
            "version": p.version,
        },
        "rule": p.rule, "rules_version": p.rules_version, "clock": p.clock,
        "quantity": p.quantity, "points": points_text(p.centi), "reversed": p.reversed,
        "point": f"{p.origin}:{p.seq}:{unit}:{p.rule}:{p.clock}",
    }  # fmt: skip


def _show_explained(args: argparse.Namespace, head: dict[str, Any], lines: list[PointLine]) -> None:
    total = points_text(sum(p.centi for p in lines if not p.reversed))
    if args.json:
        points = [_line_json(args.explain, p) for p in lines]
        show.emit_json({**head, "unit": args.explain, "total": total, "points": points})
        return
    table = Table(title=f"{args.explain} 积分明细 {head['period']} ({head['rules_version']})")
    for col in ("时间", "事项", "事件", "来源:位置", "规则", "时限", "数量", "积分"):
        table.add_column(col)
    for p in lines:
        table.add_row(
            show.local(p.at), p.item, p.topic.split(".")[2], f"{p.origin}:{p.seq}",
            RULE_ZH.get(p.rule, p.rule), p.clock, str(p.quantity),
            points_text(p.centi) + (" 申诉撤销" if p.reversed else ""),
        )  # fmt: skip
    table.add_row("合计", "", "", "", "", "", "", total)
    show.print_all([table])


def _score_table(
    period: str, version: str, ranked: list[UnitScore], frozen_totals: list[FrozenTotal]
) -> Table:
    """The ranking; for a closed period, the frozen total beside what it would be now."""
    closed = {f.unit: f for f in frozen_totals}
    title = f"激励积分 {period} ({version})"
    if frozen_totals:
        title += f" 已冻结 ({frozen_totals[0].rules_version}): 现行规则下的积分仅供对照"
    table = Table(title=title)
    headers = ["层级", "类别", "名次", "单位", "积分", "加分", "减分"]
    for col in headers + (["冻结积分"] if frozen_totals else []):
        table.add_column(col)
    for s in ranked:
        row = [
            TIER_ZH.get(s.tier, s.tier), KIND_ZH.get(s.kind, s.kind), str(s.rank), s.unit,
            points_text(s.total), points_text(s.awarded), points_text(s.deducted),
        ]  # fmt: skip
        if frozen_totals:
            row.append(points_text(closed[s.unit].centi) if s.unit in closed else "—")
        table.add_row(*row)
    return table


def add_points_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``points`` and its actions (``close``, ``appeal``, ``decide``) to the command tree."""
    p = sub.add_parser("points", parents=[common], help="激励积分: scores, rankings, drill-down")
    p.add_argument("--period", help="2016, 2016-Q4 or 2016-10 (default: this year)")
    p.add_argument("--tier", choices=[t.value for t in Tier], help="rank within one tier")
    p.add_argument("--kind", choices=["government", "department"], help="governments or depts")
    p.add_argument("--within", metavar="UNIT", help="only units in this subtree")
    p.add_argument("--explain", metavar="UNIT", help="every point of UNIT and its event")
    p.add_argument("--rules", default=DEFAULT_RULES, help="points rules: builtin:NAME or a file")
    p.add_argument("--rebuild", action="store_true", help="price every event again")
    p.add_argument("--export", metavar="FILE.xlsx", help="write the points table to Excel")
    p.set_defaults(handler=cmd_points)
    add_decision_commands(p, common)
