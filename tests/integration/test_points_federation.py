"""Points at the province rank a township from the replicas (four tiers, real records).

A part goes down province → city → county → township by the real inbox messages; the township
deploys and reports on time; its log reaches the province's ``replicas.sqlite`` through
``read_log`` → ``ReplicaStore.apply`` (the data path NATS replication takes). The province's
points then rank the township among the townships, each point traced to the township's log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from points_year import rules
from test_views_federation import NODES, TIERS, TOWN, deliver, replicate

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.node.points import open_points
from ledger13710.projections.points_queries import ScoreQuery, UnitScore, explain, parse_period
from ledger13710.projections.points_queries import scores as ranked_scores


@pytest.fixture
def four_tiers(tmp_path: Path, clock: ManualClock) -> Iterator[dict[str, Node]]:
    """Province, city, county and township nodes sharing one clock."""
    nodes = {t: open_node(init_node(NODES / f"{t}.toml", tmp_path / t), clock) for t in TIERS}
    yield nodes
    for n in nodes.values():
        n.close()


def test_the_province_ranks_a_township(four_tiers: dict[str, Node], clock: ManualClock) -> None:
    """The township's on-time deploy and feedback on a key-work part earn it 2 x 1.5 points,
    counted at the province from the township's own records."""
    sx, city, county, town = (four_tiers[t] for t in TIERS)
    top = sx.app.register(
        title="风电法兰运输受阻", source="key_work", board="key-work", severity="general",
        raising_unit="sx", lead_unit="sx/transport", actor="sx-general-office-sup1", assign=True,
    )  # fmt: skip
    sx.app.sub_assign(top.number, to_unit="sx.xinzhou", part="协调", actor="sx-transport-head")
    deliver(sx, city)
    city.app.sub_assign(
        f"{top.number}-1", to_unit="sx.xinzhou.dingxiang", part="县里落实", actor="sx-xinzhou-head"
    )
    deliver(city, county)
    county.app.sub_assign(
        f"{top.number}-1-1", to_unit=TOWN, part="镇里落实", actor="sx-xinzhou-dingxiang-head"
    )
    deliver(county, town)
    head, part = "sx-xinzhou-dingxiang-jinchang-head", f"{top.number}-1-1-1"
    clock.advance(timedelta(hours=1))
    town.app.deploy(part, actor=head)
    clock.advance(timedelta(days=1))
    town.app.feedback(part, actor=head, content="已完成调研")
    replicate(four_tiers)

    async def run() -> tuple[list[UnitScore], list[str]]:
        async with open_points(sx.dir, sx.id, sx.app.recorder, rules()) as p:
            await p.catch_up()
            period = parse_period(str(clock.now().year))
            found = await ranked_scores(p.store, ScoreQuery(period=period, tier="township"))
            lines = await explain(p.store, TOWN, period)
            return found, [f"{line.origin}:{line.rule}:{line.clock}" for line in lines]

    township, lines = asyncio.run(run())
    assert [(s.unit, s.rank, s.total) for s in township] == [(TOWN, 1, 300)]
    assert lines == [f"{TOWN}:clock_on_time:deploy", f"{TOWN}:clock_on_time:feedback"]
