"""The federation on the leaf topology: a leaf server for the city, the hub at the province.

The same four tiers as ``test_federation.py`` run as ``ledger13710 node run`` processes, but
the city, the county and the township connect to the city's own nats-server (a leafnode of
the province hub, with its own JetStream domain). With the hub down, the city keeps serving its
subtree: assignments flow down and results flow up below the province. When the hub returns
it catches up by stream sourcing (nats-server retries a failed source on a backoff of 10 s,
20 s, …, so this takes up to about a minute) and the province ends with every record exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from federation_helpers import (
    BELOW,
    CITY,
    COUNTY,
    ITEM,
    NOW,
    PART,
    SX,
    TIERS,
    TOWN,
    act,
    assert_exact_replicas,
    cascade_down,
    close_out,
    wait_part,
    wait_replicated,
)

from ledger13710.replication.nats.topology import HUB, domain_of
from ledger13710.testing.localfed import LocalFederation

CATCH_UP = 150.0  # seconds: the hub's source retry backoff after it restarts


@pytest.fixture
def leaf(tmp_path: Path) -> Iterator[LocalFederation]:
    """The four tiers on the leaf topology (hub plus the Xinzhou leaf), each its own process."""
    with LocalFederation(tmp_path / "fed", TIERS, topology="leaf", clock_env=NOW) as federation:
        yield federation


@pytest.mark.slow
def test_the_city_serves_its_subtree_while_the_hub_is_down(leaf: LocalFederation) -> None:
    """Down the tree and back up through the city's leaf server, the hub away in between; the
    province then holds every record of every tier below it, each once and in order."""
    city_server = leaf.servers[domain_of(CITY)]
    assert [leaf.url_for(n) for n in TIERS] == [leaf.url, *[city_server.url] * 3]
    cascade_down(leaf)
    leaf.kill_server(HUB)
    # the province is cut off; the city, the county and the township go on without it
    act(leaf, TOWN, "deploy", now="2016-10-20T16:00")
    wait_part(leaf, COUNTY, ITEM[COUNTY], PART[TOWN], "deployed")
    act(leaf, TOWN, "feedback", "--content", "已部署", now="2016-10-21T09:00")
    wait_part(leaf, COUNTY, ITEM[COUNTY], PART[TOWN], "in_progress")
    act(leaf, TOWN, "resolve", "--content", "施工区域清障完成", now="2016-11-08T10:00")
    wait_part(leaf, COUNTY, ITEM[COUNTY], PART[TOWN], "resolved")
    for node in (COUNTY, CITY):
        wait_part(leaf, node, ITEM[node], PART[BELOW[node]], "resolved")
        act(leaf, node, "feedback", "--content", "已反馈", now="2016-10-21T10:00")
        act(leaf, node, "resolve", "--content", "已解决", now="2016-11-09T10:00")
    wait_replicated(leaf, CITY, [COUNTY, TOWN])
    behind = leaf.replica_hashes(SX).get(TOWN, [])
    assert behind == leaf.own_hashes(TOWN)[: len(behind)] != leaf.own_hashes(TOWN)
    leaf.restart_server(name=HUB)

    def caught_up() -> bool:
        held = leaf.replica_hashes(SX)
        return all(held.get(o, []) == leaf.own_hashes(o) for o in (CITY, COUNTY, TOWN))

    leaf.wait_until(caught_up, CATCH_UP, interval=0.5, what="the province caught up")
    wait_part(leaf, SX, ITEM[SX], PART[CITY], "resolved")
    act(leaf, SX, "feedback", "--content", "已反馈", now="2016-10-21T10:00")
    act(leaf, SX, "resolve", "--content", "车道已拓宽", now="2016-11-14T10:00")
    close_out(leaf)  # the decision flows down from the hub through the city's leaf server
    for node, below in ((SX, [CITY, COUNTY, TOWN]), (CITY, [COUNTY, TOWN]), (COUNTY, [TOWN])):
        wait_replicated(leaf, node, below)
        assert_exact_replicas(leaf, node, below)
