"""The points projection on a real node: the scripted year through the application, ranked per
period, each point traced to its stored event; incremental, rebuilt, and re-priced by new rules.

The year is the one of ``tests/unit/points_helpers.py`` (hand-computed there, point by point),
driven here through :class:`LedgerApp` on policy 13710-v2 so the events come from the store.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any

import pytest

from ledger13710.application.bootstrap import Node
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.points_rules import PointsRules, parse_points_rules
from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.points import PointsProjector, open_points
from ledger13710.projections.points_queries import ScoreQuery, explain, parse_period, scores

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
HEADS = {"sx/transport": "sx-transport-head", "sx/public-security": "sx-public-security-head"}
RAISING = "sx/general-office"

#: (day, hour, item 1-4, action): the scripted year, in time order.
YEAR: list[tuple[str, int, int, str]] = [
    ("2016-01-04", 9, 1, "register"), ("2016-01-04", 10, 1, "deploy"),
    ("2016-01-05", 10, 1, "feedback"), ("2016-01-06", 10, 1, "accept"),
    ("2016-01-08", 10, 1, "resolve"), ("2016-01-09", 10, 1, "close-out"),
    ("2016-03-01", 9, 2, "register"), ("2016-03-02", 10, 2, "deploy"),
    ("2016-03-03", 10, 2, "feedback"), ("2016-03-10", 10, 2, "untrue"),
    ("2016-03-11", 10, 2, "feedback"), ("2016-03-12", 10, 2, "urge"),
    ("2016-03-12", 11, 2, "accept"), ("2016-03-20", 10, 2, "resolve"),
    ("2016-03-25", 10, 2, "close-out"),
    ("2016-06-01", 9, 3, "register"), ("2016-06-01", 10, 3, "deploy"),
    ("2016-06-02", 10, 3, "feedback"), ("2016-06-03", 10, 3, "accept"),
    ("2016-06-30", 10, 3, "resolve"), ("2016-07-14", 10, 3, "close-out"),
    ("2016-09-01", 9, 4, "register"), ("2016-09-01", 10, 4, "deploy"),
    ("2016-09-02", 10, 4, "feedback"), ("2016-09-02", 11, 4, "accept"),
    ("2016-09-07", 10, 4, "extend"), ("2016-09-12", 10, 4, "approve"),
    ("2016-09-19", 10, 4, "resolve"),
]  # fmt: skip
ITEMS = {
    1: ("sx/transport", "daily", "general"),
    2: ("sx/public-security", "key-work", "general"),
    3: ("sx/transport", "daily", "major"),
    4: ("sx/public-security", "daily", "general"),
}
#: Hundredths per unit, as added up by hand in tests/unit/points_helpers.py.
YEAR_TOTALS = {"sx/transport": 1475, "sx/public-security": -2200, RAISING: -1625}
Q1_TOTALS = {"sx/transport": 650, "sx/public-security": -2550, RAISING: -575}


def _at(day: str, hour: int) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, tzinfo=SHANGHAI)


def _act(app: LedgerApp, number: str, action: str, lead: str) -> None:
    head = HEADS[lead]
    match action:
        case "deploy":
            app.deploy(number, actor=head, note="研究部署")
        case "feedback":
            app.feedback(number, actor=head, content="办理情况")
        case "resolve":
            app.resolve(number, actor=head, content="已解决")
        case "accept":
            app.accept_feedback(number, actor=SUP)
        case "untrue":
            app.return_for_rework(number, actor=SUP, reason="反馈不实", untrue=True)
        case "urge":
            app.urge(number, actor=SUP, message="请加快")
        case "close-out":
            app.close_out(number, actor=SUP, verdict="同意销号")
        case "extend":
            until = _at("2016-09-20", 23)
            app.request_extension(number, actor=head, clock="resolve", until=until, reason="供货")
        case "approve":
            app.decide_extension(number, actor=SUP, clock="resolve", approve=True)


def play_year(app: LedgerApp, clock: ManualClock, start: int = 0, stop: int = len(YEAR)) -> None:
    """Play steps ``start`` to ``stop`` of :data:`YEAR`; item ``i`` is ``sx-2016-000i``."""
    for day, hour, item, action in YEAR[start:stop]:
        clock.set(_at(day, hour))
        lead, board, severity = ITEMS[item]
        if action == "register":
            registered = app.register(
                title=f"事项{item}", source="executive", board=board, severity=severity,
                raising_unit=RAISING, lead_unit=lead, actor=SUP, assign=True,
            )  # fmt: skip
            assert registered.number == number(item)
        else:
            _act(app, number(item), action, lead)


def number(item: int) -> str:
    """The number the node issues to the ``item``-th item of the year."""
    return f"sx-2016-{item:04d}"


def rules(version: str = "points-v1", urged: str = "1.0") -> PointsRules:
    """The example rules, optionally as another version with another price of an urge."""
    text = resources.files("ledger13710").joinpath("data/points-v1.toml").read_text("utf-8")
    text = text.replace('"points-v1"', f'"{version}"').replace("urged = 1.0", f"urged = {urged}")
    return parse_points_rules(text, version)


async def totals(projector: PointsProjector, period: str) -> dict[str, int]:
    """Each unit's total in ``period`` after catching up."""
    await projector.catch_up()
    ranked = await scores(projector.store, ScoreQuery(period=parse_period(period)))
    return {s.unit: s.total for s in ranked}


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
