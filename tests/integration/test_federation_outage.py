"""The federation through an outage: a SIGKILLed nats-server, an offline township, a crashed county.

Real node processes, a real nats-server 2.15 and the real CLI (:class:`LocalFederation`); after
it all, replicas are compared record by record, by content hash, against each origin's own log.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from federation_helpers import (
    BELOW,
    CITY,
    COUNTY,
    ITEM,
    PART,
    SX,
    TIERS,
    TOWN,
    act,
    assert_exact_replicas,
    cascade_down,
    close_out,
    fed_fixture,  # noqa: F401  (pytest finds the fixture: fed)
    local_item,
    local_roles,
    wait_part,
    wait_replicated,
)

from ledger13710.domain.clock import ManualClock
from ledger13710.node.bootstrap import open_node, parse_time
from ledger13710.testing.localfed import LocalFederation


def load(fed: LocalFederation, node: str, count: int, pause: float) -> None:
    """``count`` progress reports on a fresh local item, one transaction each (in-process)."""
    number = local_item(fed, node)
    _sup, _raising, _lead, head = local_roles(node)
    clock = ManualClock(parse_time("2016-10-21T09:00"))
    opened = open_node(fed.node_dir(node), clock)
    try:
        opened.app.feedback(number, actor=head, content="开始办理")
        for i in range(count):
            clock.advance(timedelta(minutes=1))
            opened.app.progress(number, actor=head, content=f"进展 {i}")
            threading.Event().wait(pause)
    finally:
        opened.close()


# --- b. outage ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_server_killed_and_township_offline_lose_and_duplicate_nothing(
    fed: LocalFederation,
) -> None:
    """SIGKILLed nats-server, an offline township, a crashed county: every event arrives once."""
    cascade_down(fed)
    workers = [
        threading.Thread(target=load, args=(fed, node, 200, 0.02), daemon=True) for node in TIERS
    ]
    for w in workers:
        w.start()
    threading.Event().wait(1.5)
    fed.kill_server()  # mid-load: publishes fail, acks are lost, consumers are cut off
    assert all(w.is_alive() for w in workers)
    act(fed, TOWN, "deploy", now="2016-10-20T14:00")
    threading.Event().wait(2.0)
    fed.restart_server()
    for w in workers:
        w.join(60)
        assert not w.is_alive()
    fed.stop_node(TOWN)
    act(fed, TOWN, "feedback", "--content", "离线反馈", now="2016-10-21T10:00")
    for day in (22, 23, 24):
        act(fed, TOWN, "progress", "--content", f"离线进展 {day}", now=f"2016-10-{day}T10:00")
    fed.kill_node(COUNTY)
    offline = threading.Thread(target=load, args=(fed, TOWN, 40, 0.0), daemon=True)
    offline.start()
    offline.join(60)
    fed.start_node(COUNTY)
    assert fed.status(TOWN)["own"]["backlog"] > 40  # its store is the outbox meanwhile
    fed.kill_server()
    threading.Event().wait(1.0)
    fed.restart_server()
    fed.start_node(TOWN)
    act(fed, TOWN, "resolve", "--content", "恢复后解决", now="2016-11-10T10:00")
    for node in (COUNTY, CITY, SX):
        wait_part(fed, node, ITEM[node], PART[BELOW[node]], "resolved")
        act(fed, node, "feedback", "--content", f"{node} 已反馈", now="2016-11-10T11:00")
        act(fed, node, "resolve", "--content", f"{node} 已解决", now="2016-11-11T10:00")
    close_out(fed)
    wait_replicated(fed, SX, [CITY, COUNTY, TOWN])
    wait_replicated(fed, COUNTY, [TOWN])
    assert_exact_replicas(fed, SX, [CITY, COUNTY, TOWN])
    assert_exact_replicas(fed, CITY, [COUNTY, TOWN])
    assert_exact_replicas(fed, COUNTY, [TOWN])
    assert len(fed.own_hashes(TOWN)) > 250
