"""The command tree at the province counts a township's items (four tiers, real records).

The province's ``replicas.sqlite`` is filled with the real records of real city, county and
township nodes (``read_log`` → ``ReplicaStore.apply``): exactly the data path the views read
when NATS replication delivered them. Sub-assignments travel down by the real inbox messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from ledger13710.application.inbound import accept, outbound_message
from ledger13710.application.mapper import decode_event
from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.node.views import open_views
from ledger13710.projections.queries import LedgerQuery, chain, ledger_page
from ledger13710.projections.tree import TreeNode, command_tree
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore

NODES = Path(__file__).resolve().parents[2] / "nodes"
TIERS = ["sx", "sx.xinzhou", "sx.xinzhou.dingxiang", "sx.xinzhou.dingxiang.jinchang"]
TOWN = TIERS[3]


@pytest.fixture
def fed(tmp_path: Path, clock: ManualClock) -> Iterator[dict[str, Node]]:
    """Province, city, county and township nodes sharing one clock."""
    nodes = {t: open_node(init_node(NODES / f"{t}.toml", tmp_path / t), clock) for t in TIERS}
    yield nodes
    for n in nodes.values():
        n.close()


def deliver(upper: Node, lower: Node) -> None:
    """Hand ``lower`` the inbox messages ``upper``'s log calls for."""
    for r in read_log(upper.app, upper.id, 0, 10_000):
        found = outbound_message(upper.app, r.seq, decode_event(r.topic, r.state))
        if found is not None and found[0] == lower.id:
            accept(lower.app, found[1])


def replicate(fed: dict[str, Node]) -> None:
    """Apply every lower node's new records to the province's replica store."""
    store = ReplicaStore(fed["sx"].dir / "replicas.sqlite")
    try:
        for t in TIERS[1:]:
            store.apply(read_log(fed[t].app, t, store.last_seq(t), 10_000))
    finally:
        store.close()


def find(node: TreeNode, unit: str) -> TreeNode:
    """The tree node of ``unit``."""
    if node.unit == unit:
        return node
    for child in node.children:
        if unit == child.unit or unit.startswith((child.unit + ".", child.unit + "/")):
            return find(child, unit)
    raise KeyError(unit)


def test_province_tree_counts_township_items(fed: dict[str, Node], clock: ManualClock) -> None:
    """A part sub-assigned down four tiers and the township's own items count at the province."""
    sx, city, county, town = (fed[t] for t in TIERS)
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
    head = "sx-xinzhou-dingxiang-jinchang-head"
    town.app.deploy(f"{top.number}-1-1-1", actor=head)
    for title in ("道路维修", "饮水工程"):
        town.app.register(
            title=title, source="executive", board="daily", severity="general",
            raising_unit=TOWN, lead_unit=f"{TOWN}/service-center", actor=head, assign=True,
        )  # fmt: skip
    replicate(fed)
    now = clock.now() + timedelta(hours=1)

    async def views() -> tuple[TreeNode, list[str], int]:
        async with open_views(sx.dir, sx.id, sx.app.recorder) as v:
            await v.catch_up()
            tree = await command_tree(v.store, "sx", now, sx.app.directory)
            links = await chain(v.store, f"{top.number}-1-1-1", now)
            page = await ledger_page(v.store, LedgerQuery(tier="township"), now)
            return tree, [r.number for _d, r in links], page.total

    tree, links, township_items = asyncio.run(views())
    assert tree.total == 6
    township = find(tree, TOWN)
    expected = {"total": 3, "states": {"deployed": 1, "assigned": 2}}
    assert expected == {"total": township.total, "states": township.states}
    assert find(tree, "sx.xinzhou.dingxiang").total == 4
    assert find(tree, "sx.xinzhou").total == 5
    assert find(tree, f"{TOWN}/service-center").total == 2
    chain_numbers = [top.number + s for s in ("", "-1", "-1-1", "-1-1-1")]
    assert chain_numbers == links
    assert township_items == 3
    town.app.feedback(f"{top.number}-1-1-1", actor=head, content="已完成调研")
    replicate(fed)

    async def again() -> dict[str, int]:
        async with open_views(sx.dir, sx.id, sx.app.recorder) as v:
            await v.catch_up()
            return find(await command_tree(v.store, "sx", now, sx.app.directory), TOWN).states

    assert asyncio.run(again()) == {"in_progress": 1, "assigned": 2}
