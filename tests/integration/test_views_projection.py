"""The views against a plain replay of the events: incrementally, after restarts, rebuilt."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.errors import LedgerError
from ledger13710.domain.lights import behind_plan, item_light, overdue_clocks
from ledger13710.domain.state import ItemState, evolve
from ledger13710.node.views import open_views
from ledger13710.projections import rows
from ledger13710.projections.projector import Projector
from ledger13710.projections.queries import LedgerQuery, ledger_page
from ledger13710.projections.stats import statistics
from ledger13710.projections.timeline import timeline

MakeNode = Callable[..., Node]

SUP = "sx-general-office-sup1"
LEADS = {"sx/transport": "sx-transport-head", "sx/finance": "sx-finance-head"}
BOARDS = ["daily", "key-work", "major-reform"]


def drive(app: LedgerApp, clock: ManualClock, items: int, seed: int = 1) -> None:
    """Register ``items`` items and move each a random way through its lifecycle."""
    rng = random.Random(seed)
    numbers: list[tuple[str, str]] = []
    for i in range(items):
        clock.advance(timedelta(hours=rng.randint(1, 30)))
        lead = rng.choice(list(LEADS))
        s = app.register(
            title=f"事项{i}", source="executive", board=rng.choice(BOARDS),
            severity=rng.choice(["general", "major"]), raising_unit="sx", lead_unit=lead,
            co_units=["sx/public-security"] if i % 3 == 0 else [], actor=SUP, assign=i % 5 != 0,
        )  # fmt: skip
        numbers.append((s.number, LEADS[lead]))
    steps: list[Callable[[str, str], object]] = [
        lambda n, h: app.deploy(n, actor=h),
        lambda n, h: app.feedback(n, actor=h, content="已调研"),
        lambda n, h: app.request_extension(
            n, actor=h, clock="resolve", until=clock.now() + timedelta(days=20), reason="施工"
        ),
        lambda n, h: app.decide_extension(n, actor=SUP, clock="resolve", approve=True),
        lambda n, h: app.plan(
            n,
            actor=h,
            reason="需分步",
            target_at=clock.now() + timedelta(days=40),
            milestones=[("设计", clock.now() + timedelta(days=5))],
        ),
        lambda n, h: app.resolve(n, actor=h, content="已解决"),
        lambda n, h: app.return_for_rework(n, actor=SUP, reason="不彻底"),
        lambda n, h: app.resolve(n, actor=h, content="已彻底解决"),
        lambda n, h: app.close_out(n, actor=SUP, verdict="同意销号"),
    ]
    for number, head in numbers:
        for step in steps[: rng.randint(0, len(steps))]:
            clock.advance(timedelta(hours=rng.randint(1, 60)))
            try:
                step(number, head)
            except LedgerError:
                break  # e.g. an unassigned item cannot be deployed: it stays where it is
        with contextlib.suppress(LedgerError):  # not every state allows these
            if rng.random() < 0.1:
                app.urge(number, actor=SUP, message="请加快")
            if rng.random() < 0.05:
                app.cancel(number, actor=SUP, reason="重复", approved_by="sx-head")


def replay(app: LedgerApp) -> dict[str, ItemState]:
    """Every item folded straight from the node's log: what the views must show."""
    states: dict[str, ItemState] = {}
    for n in app.recorder.select_notifications(start=1, limit=1_000_000):
        if n.topic in rows.ITEM_TOPICS:
            e = decode_event(n.topic, n.state)
            states[e.originator_id.hex] = evolve(states.get(e.originator_id.hex), e)
    return states


async def stored(views: Projector) -> dict[str, Any]:
    """Every row of the ledger and timeline views, keyed for comparison."""
    items = await views.store.fetchall("SELECT * FROM items ORDER BY id")
    line = await views.store.fetchall("SELECT * FROM timeline ORDER BY origin, seq")
    blobs = await views.store.fetchall("SELECT * FROM item_states ORDER BY id")
    return {"items": items, "states": blobs, "timeline": line}


def expected_rows(app: LedgerApp) -> dict[str, Any]:
    """The rows a correct view holds, computed from :func:`replay`."""
    states = sorted(replay(app).values(), key=lambda s: s.id.hex)
    line = []
    for n in app.recorder.select_notifications(start=1, limit=1_000_000):
        if n.topic in rows.ITEM_TOPICS:
            line.append(rows.timeline_row(decode_event(n.topic, n.state), "sx", n.id, n.state))
    return {
        "items": [rows.item_row(s, "sx") for s in states],
        "states": [rows.state_row(s) for s in states],
        "timeline": line,
    }


class Crash(Exception):
    """Stands for a process killed in the middle of a catch-up."""


def run(node: Node, action: Callable[[Projector], Any], batch: int = 7) -> Any:
    """Open the node's views (like a fresh process), run ``action``, close them."""

    async def go() -> Any:
        async with open_views(node.dir, node.id, node.app.recorder, batch=batch) as views:
            return await action(views)

    return asyncio.run(go())


@pytest.fixture
def driven(make_node: MakeNode, clock: ManualClock) -> Node:
    """A province node with 40 items in assorted lifecycle states."""
    node = make_node("sqlite")
    drive(node.app, clock, 40)
    return node


def test_incremental_view_equals_replay_across_restarts(driven: Node, clock: ManualClock) -> None:
    """A catch-up killed mid-stream resumes exactly; later events fold onto stored state."""

    def crash_after_three(views: Projector) -> Any:
        def progress(done: int, total: int) -> None:
            if done >= 3 * 7:
                raise Crash

        return views.catch_up(progress=progress)

    with pytest.raises(Crash):
        run(driven, crash_after_three)
    partial = run(driven, lambda v: v.store.positions())
    assert partial == {("ledger", "sx"): 21, ("timeline", "sx"): 21}
    run(driven, lambda v: v.catch_up())
    assert expected_rows(driven.app) == run(driven, stored)
    drive(driven.app, clock, 15, seed=2)  # more events for items the views already hold
    run(driven, lambda v: v.catch_up(), batch=500)
    assert expected_rows(driven.app) == run(driven, stored)
    again = run(driven, lambda v: v.catch_up())
    assert again == 0


def test_rebuild_gives_the_incremental_rows(driven: Node) -> None:
    """Rebuilding every view, or one of them, yields the rows the incremental fold holds."""
    run(driven, lambda v: v.catch_up(), batch=3)
    incremental = run(driven, stored)
    run(driven, lambda v: v.rebuild(), batch=1000)
    assert incremental == run(driven, stored)
    run(driven, lambda v: v.rebuild(["timeline"]), batch=5)
    assert incremental == run(driven, stored)
    assert expected_rows(driven.app) == incremental


def test_sql_lights_agree_with_item_light(driven: Node, clock: ManualClock) -> None:
    """At many instants the SQL light, overdue and behind-plan filters match the domain's."""
    states = replay(driven.app)
    run(driven, lambda v: v.catch_up())
    first = min(s.registered_at for s in states.values())
    instants = [first + timedelta(hours=h) for h in range(0, 24 * 90, 37)]

    async def check(views: Projector) -> None:
        for now in instants:
            await agree(views, states, now)

    run(driven, check)


async def agree(views: Projector, states: dict[str, ItemState], now: datetime) -> None:
    """One instant's comparison of the SQL filters with the domain's functions."""
    for light in ("green", "yellow", "red", "done"):
        page = await ledger_page(views.store, LedgerQuery(light=light, page_size=0), now)
        expected = sorted(s.number for s in states.values() if item_light(s, now) == light)
        assert expected == [r.number for r in page.items], (light, now)
    page = await ledger_page(views.store, LedgerQuery(overdue=True, page_size=0), now)
    assert sorted(s.number for s in states.values() if overdue_clocks(s, now)) == [
        r.number for r in page.items
    ]
    page = await ledger_page(views.store, LedgerQuery(behind_plan=True, page_size=0), now)
    assert sorted(s.number for s in states.values() if behind_plan(s, now)) == [
        r.number for r in page.items
    ]


def per_clock(states: dict[str, ItemState], now: datetime) -> list[tuple[Any, ...]]:
    """(kind, total, met, on time, late, open and overdue), counted clock by clock."""
    at = rows.us(now)
    counts: dict[str, list[int]] = {}
    for s in states.values():
        for _iid, _clock, kind, due, met, is_open, _before in rows.clock_rows(s):
            c = counts.setdefault(kind, [0] * 5)
            done = met is not None
            c[0], c[1] = c[0] + 1, c[1] + done
            c[2], c[3] = c[2] + (done and met <= due), c[3] + (done and met > due)
            c[4] += bool(is_open) and at > due
    order = ("deploy", "feedback", "resolve", "plan", "milestone")
    return [(k, *counts[k]) for k in order if k in counts]


def test_clock_columns_units_and_timeline_clocks_agree_with_the_states(
    driven: Node, clock: ManualClock
) -> None:
    """Clock statistics summed from item columns match a clock-by-clock count of the folded
    states; the unit filter finds lead and co-handling units; timelines list every clock."""
    states = replay(driven.app)
    run(driven, lambda v: v.catch_up())
    first = min(s.registered_at for s in states.values())
    instants = [first + timedelta(days=d) for d in (0, 2, 5, 12, 30, 60, 120)]
    assert any(k == "milestone" for k, *_ in per_clock(states, instants[0]))

    async def check(views: Projector) -> None:
        for now in instants:
            found = await statistics(views.store, LedgerQuery(), now)
            got = [
                (c.clock, c.total, c.met, c.on_time, c.late, c.open_overdue) for c in found.clocks
            ]
            assert got == per_clock(states, now), now
        for unit in ("sx/transport", "sx/public-security", "sx/finance", "sx"):
            page = await ledger_page(views.store, LedgerQuery(unit=unit, page_size=0), now)
            held = [s.number for s in states.values() if unit in (s.lead_unit, *s.co_units)]
            assert [r.number for r in page.items] == sorted(held), unit
        for s in list(states.values())[:10]:
            line = await timeline(views.store, s.number)
            want = sorted(rows.clock_rows(s), key=lambda r: (r[3], r[1]))
            assert [(c.clock, rows.us(c.due_at), c.open) for c in line.clocks] == [
                (r[1], r[3], bool(r[5])) for r in want
            ]

    run(driven, check)
