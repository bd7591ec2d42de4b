"""Periods and appeals on a real node: an appeal reverses a deduction; a closed period keeps
its recorded totals while new rules re-price the open ones and show what it would be now."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from points_year import YEAR_TOTALS, play_year, rules, totals

from ledger13710.application.node import Node
from ledger13710.application.points_decisions import close_period, decide_appeal, file_appeal
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.errors import InputError
from ledger13710.domain.points_ledger import PointRef, UnitTotal
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.points import open_points
from ledger13710.projections.points_queries import (
    ScoreQuery,
    explain,
    find_point,
    frozen,
    parse_period,
    scores,
)

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
SECURITY_HEAD = "sx-public-security-head"


@pytest.fixture
def year_node(make_node: MakeNode, clock: ManualClock) -> Node:
    """A 13710-v2 province node with the scripted year played, the clock in January 2017."""
    node = make_node("sqlite", policy="builtin:13710-v2")
    play_year(node.app, clock)
    clock.set(clock.now().replace(year=2017, month=1, day=5, tzinfo=SHANGHAI))
    return node


def test_an_appeal_reverses_a_deduction(year_node: Node) -> None:
    """Public security appeals its urge deduction; the general office reverses it: the unit's
    total rises by exactly that deduction, and the point is shown as reversed."""
    app = year_node.app

    async def run() -> None:
        async with open_points(year_node.dir, year_node.id, app.recorder, rules()) as p:
            await p.catch_up()
            (urge,) = [
                line
                for line in await explain(p.store, "sx/public-security", parse_period("2016"))
                if line.rule == "urged"
            ]
            point = PointRef(
                origin=urge.origin, seq=urge.seq, unit="sx/public-security", rule="urged"
            )
            file_appeal(app, point=point, item=urge.item, centi=urge.centi,
                        reason="催办时已在办理", actor=SECURITY_HEAD)  # fmt: skip
            assert await totals(p, "2016") == YEAR_TOTALS  # filed, not yet decided
            with pytest.raises(InputError, match="decided by its government"):
                decide_appeal(app, point=point, reverse=True, reason="x", actor=SECURITY_HEAD)
            decide_appeal(app, point=point, reverse=True, reason="催办有误", actor=SUP)
            after = await totals(p, "2016")
            assert after["sx/public-security"] == YEAR_TOTALS["sx/public-security"] - urge.centi
            assert after["sx/transport"] == YEAR_TOTALS["sx/transport"]
            found = await find_point(p.store, urge.origin, urge.seq, point.unit, "urged", "")
            assert found is not None
            assert found.reversed

    asyncio.run(run())


def test_a_closed_period_stays_frozen_when_the_rules_change(year_node: Node) -> None:
    """2016-Q1 is closed under points-v1. Stricter rules (an urge costs 3) re-price the year by
    replay: Q1's recorded totals do not move, and the new figures show beside them."""
    app = year_node.app

    async def close_q1() -> list[UnitTotal]:
        async with open_points(year_node.dir, year_node.id, app.recorder, rules()) as p:
            await p.catch_up()
            ranked = await scores(p.store, ScoreQuery(period=parse_period("2016-Q1")))
            q1 = [UnitTotal(unit=s.unit, centi=s.total, points=s.points) for s in ranked]
            close_period(app, period="2016-Q1", rules_version="points-v1", totals=q1, actor=SUP)
            return q1

    q1 = asyncio.run(close_q1())

    async def reprice() -> tuple[dict[str, int], dict[str, int]]:
        strict = rules("points-v1-strict", urged="3.0")
        async with open_points(year_node.dir, year_node.id, app.recorder, strict) as p:
            now = await totals(p, "2016-Q1")
            closed = {f.unit: f.centi for f in await frozen(p.store, "2016-Q1")}
            assert {f.rules_version for f in await frozen(p.store, "2016-Q1")} == {"points-v1"}
            return now, closed

    now, closed = asyncio.run(reprice())
    assert closed == {t.unit: t.centi for t in q1}
    assert now == {**closed, "sx/public-security": closed["sx/public-security"] - 300}
