"""The federation end to end: real node processes, a real nats-server 2.15, the real CLI.

Province ``sx``, city ``sx.xinzhou``, county ``sx.xinzhou.dingxiang`` and township
``sx.xinzhou.dingxiang.jinchang`` each run as their own ``ledger13710 node run`` process with
their own SQLite stores (:class:`LocalFederation`). Replicas are compared record by record, by
content hash, against each origin's own log.
"""

from __future__ import annotations

import statistics

import pytest
from federation_helpers import (
    BELOW,
    CITY,
    COUNTY,
    ITEM,
    PART,
    SX,
    TIERS,
    TOP,
    TOWN,
    act,
    assert_exact_replicas,
    cascade_down,
    children,
    close_out,
    fed_fixture,  # noqa: F401  (pytest finds the fixture: fed)
    show,
    wait_part,
    wait_replicated,
)

from ledger13710.testing.localfed import LocalFederation


def resolve_up(fed: LocalFederation) -> None:
    """From the township up, each tier resolves its part once the part below is resolved."""
    for node in (TOWN, COUNTY, CITY, SX):
        if node == TOWN:
            assert act(fed, node, "deploy", now="2016-10-20T14:00")["state"] == "deployed"
        else:
            wait_part(fed, node, ITEM[node], PART[BELOW[node]], "resolved")
        act(fed, node, "feedback", "--content", f"{node} 已反馈", now="2016-10-21T10:00")
        done = act(fed, node, "resolve", "--content", f"{node} 已解决", now="2016-11-10T10:00")
        assert done["state"] == "resolved"


# --- a. four tiers ------------------------------------------------------------------------------


@pytest.mark.slow
def test_worked_example_across_four_tiers(fed: LocalFederation) -> None:
    """Raised at the province, resolved from the township up, closed out down every tier."""
    cascade_down(fed)
    assert children(show(fed, SX, TOP)) == {PART[CITY]: "deployed"}
    assert children(show(fed, CITY, PART[CITY])) == {PART[COUNTY]: "deployed"}
    assert children(show(fed, COUNTY, PART[COUNTY])) == {PART[TOWN]: "assigned"}
    resolve_up(fed)
    assert show(fed, SX, TOP)["state"] == "resolved"  # type: ignore[index]
    close_out(fed)
    for node in TIERS:
        assert show(fed, node, ITEM[node])["state"] == "closed", node  # type: ignore[index]
    wait_replicated(fed, SX, [CITY, COUNTY, TOWN])
    wait_replicated(fed, CITY, [COUNTY, TOWN])
    wait_replicated(fed, COUNTY, [TOWN])
    assert_exact_replicas(fed, SX, [CITY, COUNTY, TOWN])
    assert_exact_replicas(fed, CITY, [COUNTY, TOWN])
    assert_exact_replicas(fed, COUNTY, [TOWN])
    status = fed.status(SX)
    assert {r["origin"]: r["records"] for r in status["replicas"]} == {
        o: len(fed.own_hashes(o)) for o in (CITY, COUNTY, TOWN)
    }
    for node in TIERS:
        own = fed.status(node)["own"]
        assert own["backlog"] == 0, node
        if node != SX:
            assert own["last_acked_by_parent"] == own["last_local"], node
    # Records that came by the stream carry their publish time; a record the ingester refetched
    # from its origin first (a probe can beat the stream) carries none, so only bounds hold.
    lags = fed.lags_ms(SX)
    assert 0 < len(lags) <= sum(len(fed.own_hashes(o)) for o in (CITY, COUNTY, TOWN))
    print(  # the figures for the record (pytest -s)
        f"\nprovince ingest lag over {len(lags)} events: p50 {statistics.median(lags):.1f} ms, "
        f"max {max(lags):.1f} ms"
    )
    assert min(lags) >= 0.0
