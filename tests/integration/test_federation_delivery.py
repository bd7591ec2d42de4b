"""What the federation's delivery never does: apply twice, skip a gap, or apply a forged record.

An inbox assignment delivered again (or republished) is applied once; records lost on the way are
fetched from their origin; a record whose content hash does not match is quarantined, and only
its own origin waits. Real node processes, a real nats-server 2.15, the real CLI.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from federation_helpers import (
    CITY,
    COUNTY,
    HEADS,
    NOW,
    PART,
    SX,
    TOWN,
    WAIT,
    act,
    assert_exact_replicas,
    fed_fixture,  # noqa: F401  (pytest finds the fixture: fed)
    local_item,
    local_roles,
    register_top,
    wait_replicated,
    wait_state,
)

from ledger13710.application.inbound import Assignment, accept
from ledger13710.domain.clock import ManualClock
from ledger13710.log.record import H_MSG_ID, headers_of
from ledger13710.node.bootstrap import init_node, open_node, parse_time
from ledger13710.replication.publisher import PUBLISHED
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.subjects import (
    INBOX_STREAM,
    consumer_name,
    events_subject,
    inbox_subject,
)
from ledger13710.testing.localfed import DEFAULT_NODES_DIR, LocalFederation

# --- c. the same assignment twice ----------------------------------------------------------------


def test_same_assignment_twice_creates_nothing_new(tmp_path: Path) -> None:
    """An inbox assignment applied twice (or replayed at another position) is a no-op."""
    node_dir = init_node(DEFAULT_NODES_DIR / f"{COUNTY}.toml", tmp_path / "county")
    node = open_node(node_dir, ManualClock(parse_time(NOW)))
    try:
        app = node.app
        message = Assignment(
            upper=CITY, upper_seq=7, id=uuid4(), number=PART[CITY], title="运输受阻",
            source="key_work", board="key-work", severity="major", reference="",
            lead_unit=CITY, child_number=PART[COUNTY], to_unit=COUNTY, part="定襄县落实",
            actor=HEADS[CITY], unit=CITY, at=parse_time("2016-10-20T10:30"),
        )  # fmt: skip
        assert accept(app, message) == "applied"
        position = app.recorder.max_notification_id()
        item = app.item(PART[COUNTY])
        assert (item.state.value, item.parent_number) == ("assigned", PART[CITY])
        assert accept(app, message) == "duplicate"
        replayed = Assignment(**{**_fields(message), "upper_seq": 9})
        assert accept(app, replayed) == "applied"  # tracked, but no event: the part exists
        assert app.recorder.max_notification_id() == position
        assert app.item(PART[COUNTY]).version == item.version
    finally:
        node.close()


def _fields(message: Assignment) -> dict[str, Any]:
    """The message's fields by name, to build a copy with some of them changed."""
    return {f: getattr(message, f) for f in message.__struct_fields__}


@pytest.mark.slow
def test_inbox_message_republished_is_applied_once(tmp_path: Path) -> None:
    """The city's assignment republished under a new Nats-Msg-Id adds nothing on the county."""
    with LocalFederation(tmp_path / "fed", [SX, CITY, COUNTY], clock_env=NOW) as fed:
        register_top(fed)
        act(fed, SX, "deploy", now="2016-10-20T10:00")
        act(fed, SX, "sub-assign", "--to-unit", CITY, "--part", "市级落实", now="2016-10-20T10:30")
        wait_state(fed, CITY, PART[CITY], "assigned")
        act(fed, CITY, "deploy", now="2016-10-20T11:00")
        act(fed, CITY, "sub-assign", "--to-unit", COUNTY, "--part", "县级落实",
            now="2016-10-20T11:30")  # fmt: skip
        wait_state(fed, COUNTY, PART[COUNTY], "assigned")
        before = fed.own_hashes(COUNTY)

        async def replay() -> None:
            nc = await fed.admin()
            try:
                js = nc.jetstream(timeout=5)
                msg = await js.get_msg(
                    INBOX_STREAM, seq=1, subject=inbox_subject(COUNTY), next=True
                )
                headers = {**(msg.headers or {}), H_MSG_ID: "replayed-by-admin"}
                ack = await js.publish(inbox_subject(COUNTY), msg.data or b"", headers=headers)
                assert not ack.duplicate
                durable = consumer_name("inbox", COUNTY)

                async def drained() -> bool:
                    info = await js.consumer_info(INBOX_STREAM, durable)
                    delivered = info.delivered.stream_seq if info.delivered else 0
                    return bool(delivered >= ack.seq and info.num_ack_pending == 0)

                await fed.async_wait_until(drained, WAIT, what="county inbox drained")
            finally:
                await nc.close()

        asyncio.run(asyncio.wait_for(replay(), 60))
        assert fed.own_hashes(COUNTY) == before
        assert '"outcome": "duplicate"' in fed.log_tail(COUNTY, 50)


# --- d. gaps ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_gap_is_refetched_from_the_origin_never_skipped(tmp_path: Path) -> None:
    """Records lost on the way (a skipping back-link arrives) are fetched from the origin."""
    with LocalFederation(tmp_path / "fed", [SX, CITY, COUNTY], clock_env=NOW) as fed:
        number = local_item(fed, COUNTY)
        wait_replicated(fed, SX, [COUNTY])
        known = len(fed.own_hashes(COUNTY))
        head = local_roles(COUNTY)[3]
        fed.stop_node(COUNTY)
        fed.cli(COUNTY, "item", "feedback", number, "--actor", head, "--content", "反馈")
        for i in range(3):
            fed.cli(COUNTY, "item", "progress", number, "--actor", head, "--content", f"进展{i}")
        records = fed.own_records(COUNTY)
        assert len(records) == known + 4
        # As if JetStream had acknowledged and then lost them: the publisher never resends.
        store = ReplicaStore(fed.node_dir(COUNTY) / "replicas.sqlite")
        store.set_position(PUBLISHED, records[-1].seq)
        store.close()

        async def publish_last() -> None:
            nc = await fed.admin()
            try:
                last = records[-1]  # its back-link skips the three records before it
                await nc.jetstream().publish(events_subject(COUNTY), last.state,
                                             headers=headers_of(last))  # fmt: skip
            finally:
                await nc.close()

        asyncio.run(asyncio.wait_for(publish_last(), 30))

        def seen_but_waiting(node: str) -> bool:
            (replica,) = (r for r in fed.status(node)["replicas"] if r["origin"] == COUNTY)
            return bool(replica["seen"] == records[-1].seq and replica["last_applied"] == known)

        for node in (SX, CITY):
            fed.wait_until(functools.partial(seen_but_waiting, node), WAIT, what=f"{node} sees gap")
        assert len(fed.replica_hashes(SX)[COUNTY]) == known  # nothing skipped ahead
        fed.start_node(COUNTY)
        for node in (SX, CITY):
            wait_replicated(fed, node, [COUNTY])
            assert_exact_replicas(fed, node, [COUNTY])
            assert '"event": "gap_filled"' in fed.log_path(node).read_text("utf-8")
        # the four refetched records never came through the stream: no publish time
        assert len(fed.lags_ms(SX, COUNTY)) == known


# --- e. quarantine ------------------------------------------------------------------------------


@pytest.mark.slow
def test_tampered_record_is_quarantined_and_the_real_one_flows_on(fed: LocalFederation) -> None:
    """A record whose hash does not match is never applied, and does not stop its origin (a
    forgery must not): the real record, whose message id it took, is fetched from the
    township once it runs, and applied once signed."""
    town_item, county_item = local_item(fed, TOWN), local_item(fed, COUNTY)
    wait_replicated(fed, SX, [COUNTY, TOWN])
    good = len(fed.own_hashes(TOWN))
    fed.stop_node(TOWN)
    town_head = local_roles(TOWN)[3]
    fed.cli(TOWN, "item", "feedback", town_item, "--actor", town_head, "--content", "按时反馈")
    real = fed.own_records(TOWN)[-1]
    assert "按时反馈".encode() in real.state
    forged = real.state.replace("按时反馈".encode(), "从未反馈".encode())

    async def publish_forged() -> None:
        nc = await fed.admin()
        try:
            await nc.jetstream().publish(events_subject(TOWN), forged, headers=headers_of(real))
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(publish_forged(), 30))

    def quarantined(node: str) -> bool:
        replicas = {r["origin"]: r for r in fed.status(node)["replicas"]}
        town = replicas.get(TOWN, {})
        return town.get("quarantined") == 1 and not town.get("blocked")

    for node in (COUNTY, CITY, SX):
        fed.wait_until(functools.partial(quarantined, node), WAIT, what=f"{node} quarantines")
    fed.start_node(TOWN)
    county_head = local_roles(COUNTY)[3]
    fed.cli(COUNTY, "item", "feedback", county_item, "--actor", county_head, "--content", "县反馈")
    fed.cli(TOWN, "item", "progress", town_item, "--actor", town_head, "--content", "继续")
    wait_replicated(fed, SX, [COUNTY, TOWN])  # every origin flows on, the township too
    wait_replicated(fed, CITY, [COUNTY, TOWN])
    wait_replicated(fed, COUNTY, [TOWN])
    for node in (COUNTY, CITY, SX):
        held = fed.replica_hashes(node)[TOWN]
        assert len(held) > good
        assert real.hash in {h for _s, h in held}
        (row,) = (r for r in fed.status(node)["replicas"] if r["origin"] == TOWN)
        assert (row["blocked"], row["quarantined"]) == ("", 1)
    assert fed.own_records(TOWN)[-1].seq > real.seq  # the township itself went on
