"""``ledger13710 points close|appeal|decide``: freeze a period, contest a deduction, decide it.

A point is named as ``--explain --json`` prints it: ``ORIGIN:SEQ:UNIT:RULE:CLOCK`` (the record
that earned it, the unit, the rule, the clock; the clock may be empty).
"""

from __future__ import annotations

import argparse
from typing import Any

from ledger13710.application.node import Node
from ledger13710.application.points_decisions import close_period, decide_appeal, file_appeal
from ledger13710.cli import render as show
from ledger13710.cli.args import actor_of, add_actor
from ledger13710.cli.points_common import DEFAULT_RULES, with_points
from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.points_ledger import PointRef, UnitTotal
from ledger13710.projections.points import PointsProjector
from ledger13710.projections.points_queries import (
    ScoreQuery,
    find_point,
    parse_period,
    points_text,
    scores,
)


def parse_point(text: str) -> PointRef:
    """``ORIGIN:SEQ:UNIT:RULE:CLOCK`` as printed by ``points --explain UNIT --json``."""
    parts = text.split(":")
    if len(parts) != 5 or not parts[1].isdigit():
        raise InputError(
            f"bad point {text!r}: write ORIGIN:SEQ:UNIT:RULE:CLOCK as "
            "'points --explain UNIT --json' prints it"
        )
    origin, seq, unit, rule, clock = parts
    return PointRef(origin=origin, seq=int(seq), unit=unit, rule=rule, clock=clock)


def cmd_close(args: argparse.Namespace) -> int:
    """``points close --period P``: record every unit's total of P as frozen."""
    actor = actor_of(args)

    async def work(projector: PointsProjector, node: Node) -> dict[str, Any]:
        period = parse_period(args.period)
        ranked = await scores(projector.store, ScoreQuery(period=period))
        totals = [UnitTotal(unit=s.unit, centi=s.total, points=s.points) for s in ranked]
        close_period(
            node.app, period=period.name, rules_version=projector.rules.version, totals=totals,
            actor=actor,
        )  # fmt: skip
        return {"period": period.name, "rules_version": projector.rules.version,
                "units": {t.unit: points_text(t.centi) for t in totals}}  # fmt: skip

    result = with_points(args, work)
    if args.json:
        show.emit_json(result)
    else:
        show.out(f"period {result['period']} closed: {len(result['units'])} units frozen")
    return 0


def cmd_appeal(args: argparse.Namespace) -> int:
    """``points appeal POINT --reason R``: the unit contests one of its deductions."""
    actor, point = actor_of(args), parse_point(args.point)

    async def work(projector: PointsProjector, node: Node) -> str:
        found = await find_point(
            projector.store, point.origin, point.seq, point.unit, point.rule, point.clock
        )
        if found is None:
            raise NotFoundError(f"no point {args.point} on node {node.id}")
        file_appeal(
            node.app, point=point, item=found.item, centi=found.centi, reason=args.reason,
            actor=actor,
        )  # fmt: skip
        return found.item

    item = with_points(args, work)
    _done(args, {"point": args.point, "item": item, "appealed": True})
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    """``points decide POINT --uphold|--reverse --reason R``: a supervisor decides an appeal."""
    actor, point = actor_of(args), parse_point(args.point)

    async def work(_projector: PointsProjector, node: Node) -> None:
        decide_appeal(node.app, point=point, reverse=args.reverse, reason=args.reason, actor=actor)

    with_points(args, work)
    _done(args, {"point": args.point, "reversed": args.reverse})
    return 0


def _done(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.json:
        show.emit_json(result)
    else:
        show.out(", ".join(f"{k}: {v}" for k, v in result.items()))


def add_decision_commands(points: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """Add ``points close|appeal|decide`` under the ``points`` parser."""
    acting = argparse.ArgumentParser(add_help=False, parents=[common])
    add_actor(acting)
    acting.add_argument("--rules", default=DEFAULT_RULES, help="points rules in force")
    sub = points.add_subparsers(dest="points_cmd", metavar="ACTION")
    close = sub.add_parser("close", parents=[acting], help="freeze a period (冻结)")
    close.add_argument("--period", required=True, help="2016, 2016-Q4 or 2016-10")
    close.set_defaults(handler=cmd_close)
    appeal = sub.add_parser("appeal", parents=[acting], help="申诉: contest a deduction")
    appeal.add_argument("point", help="ORIGIN:SEQ:UNIT:RULE:CLOCK (from --explain --json)")
    appeal.add_argument("--reason", required=True, help="why the deduction is contested")
    appeal.set_defaults(handler=cmd_appeal)
    decide = sub.add_parser("decide", parents=[acting], help="uphold or reverse an appeal")
    decide.add_argument("point", help="ORIGIN:SEQ:UNIT:RULE:CLOCK")
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--reverse", action="store_true", help="the deduction no longer counts")
    verdict.add_argument("--uphold", action="store_true", help="the deduction stands")
    decide.add_argument("--reason", required=True, help="the grounds of the decision")
    decide.set_defaults(handler=cmd_decide)
