"""Statistics straight from the ledger view: the seed's figures and the clock rates."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.views import open_views
from ledger13710.projections.queries import LedgerQuery
from ledger13710.projections.stats import Stats, statistics

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"


def stats_of(node: Node, now: datetime, query: LedgerQuery | None = None) -> Stats:
    """Catch the node's views up and compute its statistics at ``now``."""

    async def go() -> Stats:
        async with open_views(node.dir, node.id, node.app.recorder) as views:
            await views.catch_up()
            return await statistics(views.store, query or LedgerQuery(), now)

    return asyncio.run(go())


def test_seed_figures_come_straight_out(make_node: MakeNode, clock: ManualClock) -> None:
    """380 items registered in 2016 and 366 in 2017 read as the report puts them."""
    node = make_node("sqlite")
    for year, count in ((2016, 380), (2017, 366)):
        clock.set(datetime(year, 3, 1, 9, tzinfo=SHANGHAI))
        for i in range(count):
            node.app.register(
                title=f"事项{i}", source="executive", board="daily", severity="general",
                raising_unit="sx", lead_unit="sx/transport", actor=SUP,
            )  # fmt: skip
    stats = stats_of(node, clock.now())
    assert stats.headline == "共交办事项746件（2016年380件、2017年366件）"
    assert [(c.key, c.items) for c in stats.by_year] == [("2016", 380), ("2017", 366)]
    assert stats_of(node, clock.now(), LedgerQuery(year=2017)).total == 366


def test_clock_rates_close_out_rate_and_returns(make_node: MakeNode, clock: ManualClock) -> None:
    """On-time and late clocks, the close-out rate, returns and extensions are counted."""
    node = make_node("sqlite")
    app = node.app
    numbers = [
        app.register(
            title=f"事项{i}",
            source="executive",
            board="daily",
            severity="general",
            raising_unit="sx",
            lead_unit="sx/transport",
            actor=SUP,
            assign=True,
        ).number
        for i in range(3)
    ]
    app.deploy(numbers[0], actor=HEAD)  # on time
    clock.advance(timedelta(days=2))
    app.deploy(numbers[1], actor=HEAD)  # late; numbers[2] never deployed: open and overdue
    for n in numbers[:2]:
        app.feedback(n, actor=HEAD, content="已反馈")
        app.resolve(n, actor=HEAD, content="已解决")
    app.return_for_rework(numbers[1], actor=SUP, reason="不彻底")
    app.close_out(numbers[0], actor=SUP, verdict="同意")
    stats = stats_of(node, clock.now())
    deploy = next(c for c in stats.clocks if c.clock == "deploy")
    expected = {"met": 2, "on_time": 1, "late": 1, "open_overdue": 1, "rate": 0.3333}
    assert expected == {
        "met": deploy.met, "on_time": deploy.on_time, "late": deploy.late,
        "open_overdue": deploy.open_overdue, "rate": deploy.on_time_rate,
    }  # fmt: skip
    summary = (1, 0.3333, 1, 1, 2.0)
    assert summary == (
        stats.closed, stats.close_out_rate, stats.items_returned, stats.returns,
        stats.avg_days_to_close_out,
    )  # fmt: skip
