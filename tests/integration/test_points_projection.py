"""The points projection on a real node: the scripted year through the application, ranked per
period, each point traced to its stored event; incremental, rebuilt, and re-priced by new rules.

The year is the one of ``tests/unit/points_helpers.py`` (hand-computed there, point by point),
driven here through :class:`LedgerApp` on policy 13710-v2 so the events come from the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from points_year import Q1_TOTALS, RAISING, YEAR_TOTALS, number, play_year, rules, totals

from ledger13710.application.mapper import decode_event
from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.points_rules import PointsRules
from ledger13710.node.points import open_points
from ledger13710.projections.points_queries import ScoreQuery, explain, parse_period, scores

MakeNode = Callable[..., Node]


@pytest.fixture
def v2_node(make_node: MakeNode) -> Node:
    """A province node on policy 13710-v2 (reviews timed)."""
    return make_node("sqlite", policy="builtin:13710-v2")


def test_the_scripted_year_ranks_as_computed_by_hand(v2_node: Node, clock: ManualClock) -> None:
    """Year and quarter totals match the hand computation; departments rank by total."""
    play_year(v2_node.app, clock)

    async def run() -> None:
        async with open_points(v2_node.dir, v2_node.id, v2_node.app.recorder, rules()) as p:
            assert await totals(p, "2016") == YEAR_TOTALS
            assert await totals(p, "2016-Q1") == Q1_TOTALS
            assert await totals(p, "2017") == {}
            ranked = await scores(p.store, ScoreQuery(parse_period("2016"), kind="department"))
            assert [(s.rank, s.unit) for s in ranked] == [
                (1, "sx/transport"), (2, RAISING), (3, "sx/public-security"),
            ]  # fmt: skip

    asyncio.run(run())


def test_every_point_is_traced_to_its_stored_event(v2_node: Node, clock: ManualClock) -> None:
    """Each explained point names a stored record whose event is the item's event of that
    version, recorded at the point's time; the explained points add up to the unit's total."""
    play_year(v2_node.app, clock)
    app = v2_node.app

    async def run() -> None:
        async with open_points(v2_node.dir, v2_node.id, app.recorder, rules()) as p:
            await p.catch_up()
            lines = await explain(p.store, "sx/public-security", parse_period("2016"))
        assert sum(line.centi for line in lines) == YEAR_TOTALS["sx/public-security"]
        assert {line.item for line in lines} == {number(2), number(4)}
        for line in lines:
            (record,) = app.recorder.select_notifications(start=line.seq, limit=1)
            event = decode_event(record.topic, bytes(record.state))
            assert (line.origin, record.topic) == ("sx", line.topic)
            assert (event.originator_version, event.timestamp) == (line.version, line.at)
            assert event.originator_id.hex == line.item_id
            assert line.rules_version == "points-v1"

    asyncio.run(run())


def test_incremental_catch_up_equals_a_rebuild(v2_node: Node, clock: ManualClock) -> None:
    """Pricing the year in three sittings, the store reopened between them, gives the same
    rows as one rebuild from the first event."""
    app = v2_node.app
    query = "SELECT origin, seq, unit, rule, clock, quantity, centi FROM points ORDER BY 1, 2, 4"

    async def sitting() -> list[tuple[Any, ...]]:
        async with open_points(v2_node.dir, v2_node.id, app.recorder, rules()) as p:
            await p.catch_up()
            return await p.store.fetchall(query)

    play_year(app, clock, stop=9)
    asyncio.run(sitting())
    play_year(app, clock, start=9, stop=20)
    asyncio.run(sitting())
    play_year(app, clock, start=20)
    incremental = asyncio.run(sitting())

    async def rebuilt() -> list[tuple[Any, ...]]:
        async with open_points(v2_node.dir, v2_node.id, app.recorder, rules()) as p:
            await p.rebuild()
            return await p.store.fetchall(query)

    assert incremental == asyncio.run(rebuilt())
    assert sum(int(r[6]) for r in incremental) == sum(YEAR_TOTALS.values())


def test_new_rules_reprice_everything_by_replay(v2_node: Node, clock: ManualClock) -> None:
    """Opened with another rules version (an urge now costs 3), the store is priced again
    from the first event: public security's one urge costs 2 x 1.5 more, nothing else moves."""
    play_year(v2_node.app, clock)
    app = v2_node.app

    async def priced(r: PointsRules) -> dict[str, int]:
        async with open_points(v2_node.dir, v2_node.id, app.recorder, r) as p:
            return await totals(p, "2016")

    assert asyncio.run(priced(rules())) == YEAR_TOTALS
    changed = asyncio.run(priced(rules("points-v1-strict", urged="3.0")))
    assert changed == {**YEAR_TOTALS, "sx/public-security": YEAR_TOTALS["sx/public-security"] - 300}


def test_a_process_that_lost_a_race_starts_again(
    v2_node: Node, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When another process prices the same events while this one folds, this one's commit
    is refused and it starts again from the store: no point is written twice."""
    play_year(v2_node.app, clock)
    app = v2_node.app

    async def run() -> list[tuple[Any, ...]]:
        async with (
            open_points(v2_node.dir, v2_node.id, app.recorder, rules()) as first,
            open_points(v2_node.dir, v2_node.id, app.recorder, rules()) as second,
        ):
            await first.store.reset("points-v1")
            commit = first.store.commit
            raced: list[int] = []

            async def racing(*args: Any) -> None:
                if not raced:
                    raced.append(await second.catch_up())
                await commit(*args)

            monkeypatch.setattr(first.store, "commit", racing)
            await first.catch_up()
            assert raced == [app.recorder.max_notification_id()]  # the other one priced all
            return await first.store.fetchall("SELECT origin, seq, rule, centi FROM points")

    found = asyncio.run(run())
    assert len(found) == len(set(found))
    assert sum(int(r[3]) for r in found) == sum(YEAR_TOTALS.values())
