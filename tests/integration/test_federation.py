"""The federation end to end: real node processes, a real nats-server 2.15, the real CLI.

Province ``sx``, city ``sx.xinzhou``, county ``sx.xinzhou.dingxiang`` and township
``sx.xinzhou.dingxiang.jinchang`` each run as their own ``ledger13710 node run`` process with
their own SQLite stores (:class:`LocalFederation`). Replicas are compared record by record, by
content hash, against each origin's own log.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import statistics
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from ledger13710.application.bootstrap import init_node, open_node, parse_time
from ledger13710.application.inbound import Assignment, accept
from ledger13710.config import load_node_configs
from ledger13710.domain.clock import ManualClock
from ledger13710.replication.envelope import H_MSG_ID, headers_of
from ledger13710.replication.localfed import DEFAULT_NODES_DIR, CliError, LocalFederation
from ledger13710.replication.publisher import PUBLISHED
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.subjects import (
    INBOX_STREAM,
    consumer_name,
    events_subject,
    inbox_subject,
)

SX, CITY, COUNTY, TOWN = "sx", "sx.xinzhou", "sx.xinzhou.dingxiang", "sx.xinzhou.dingxiang.jinchang"
TIERS = [SX, CITY, COUNTY, TOWN]
OFFICE, TRANSPORT = "sx-general-office-sup1", "sx-transport-head"
HEADS = {
    CITY: "sx-xinzhou-head",
    COUNTY: "sx-xinzhou-dingxiang-head",
    TOWN: "sx-xinzhou-dingxiang-jinchang-head",
}
TOP = "sx-2016-0001"
PART = {CITY: f"{TOP}-1", COUNTY: f"{TOP}-1-1", TOWN: f"{TOP}-1-1-1"}
ITEM = {SX: TOP, **PART}  # the item each tier holds of the worked example
BELOW = {SX: CITY, CITY: COUNTY, COUNTY: TOWN}
ABOVE = {v: k for k, v in BELOW.items()}
NOW = "2016-10-20T09:00"
WAIT = 20.0  # seconds: a bound for anything that should take well under a second


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[LocalFederation]:
    """The four tiers running, each node its own process; everything stopped afterwards."""
    with LocalFederation(tmp_path / "fed", TIERS, clock_env=NOW) as federation:
        yield federation


# --- helpers -----------------------------------------------------------------------------------


def show(fed: LocalFederation, node: str, number: str) -> dict[str, Any] | None:
    """``item show`` on ``node``, or None while the item is not there."""
    try:
        item: dict[str, Any] = fed.cli(node, "item", "show", number)
    except CliError:
        return None
    return item


def children(item: dict[str, Any] | None) -> dict[str, str]:
    """The roll-up an upper item holds: part number -> state."""
    return {} if item is None else {c["number"]: c["state"] for c in item["children"].values()}


def wait_state(fed: LocalFederation, node: str, number: str, state: str) -> dict[str, Any]:
    """Wait until item ``number`` on ``node`` is in ``state``."""

    def check() -> dict[str, Any] | None:
        item = show(fed, node, number)
        return item if item is not None and item["state"] == state else None

    found: dict[str, Any] = fed.wait_until(check, WAIT, what=f"{number}@{node} {state}")
    return found


def wait_part(fed: LocalFederation, node: str, number: str, part: str, state: str) -> None:
    """Wait until ``node``'s item ``number`` holds its part ``part`` in ``state``."""
    fed.wait_until(
        lambda: children(show(fed, node, number)).get(part) == state,
        WAIT,
        what=f"{number}@{node} sees {part} {state}",
    )


def act(fed: LocalFederation, node: str, action: str, *args: str, now: str) -> dict[str, Any]:
    """One lifecycle command on the node's item of the worked example, by its head."""
    actor = TRANSPORT if node == SX else HEADS[node]
    out: dict[str, Any] = fed.cli(
        node, "item", action, ITEM[node], "--actor", actor, *args, now=now
    )
    return out


def register_top(fed: LocalFederation) -> None:
    """The general office registers the seed's item for transport, with public security."""
    item = fed.cli(
        SX,
        *["item", "register", "--actor", OFFICE, "--assign", "--severity", "major"],
        *["--title", "定襄县风电法兰、塔筒企业产品运输受阻", "--board", "key-work"],
        *["--source", "key_work", "--raising-unit", "sx/general-office"],
        *["--lead-unit", "sx/transport", "--co-unit", "sx/public-security"],
        now="2016-10-20T09:30",
    )
    assert (item["number"], item["state"]) == (TOP, "assigned")


def cascade_down(fed: LocalFederation) -> None:
    """Each tier deploys its part and sub-assigns a part to the next tier down."""
    register_top(fed)
    for node in (SX, CITY, COUNTY):
        below = BELOW[node]
        assert act(fed, node, "deploy", now="2016-10-20T10:00")["state"] == "deployed"
        act(fed, node, "sub-assign", "--to-unit", below, "--part", f"{below} 落实",
            now="2016-10-20T10:30")  # fmt: skip
        part = wait_state(fed, below, PART[below], "assigned")
        assert part["parent_number"] == ITEM[node]
        assert part["lead_unit"] == below
        if node != SX:  # the deploy above has rolled up by now (it came before the part)
            wait_part(fed, ABOVE[node], ITEM[ABOVE[node]], PART[node], "deployed")


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


def close_out(fed: LocalFederation) -> None:
    """The general office closes the item out; the close-out cascades to every tier."""
    closed = fed.cli(
        SX, "item", "close-out", TOP, "--actor", OFFICE, "--verdict", "同意销号",
        now="2016-11-18T10:00",
    )  # fmt: skip
    assert closed["state"] == "closed"
    for node in (CITY, COUNTY, TOWN):
        item = wait_state(fed, node, PART[node], "closed")
        assert item["light"] == "done"
    for node in (SX, CITY, COUNTY):
        wait_part(fed, node, ITEM[node], PART[BELOW[node]], "closed")


def wait_replicated(fed: LocalFederation, node: str, origins: list[str]) -> None:
    """Wait until ``node`` holds exactly every record of every origin (by content hash)."""

    def complete() -> bool:
        held = fed.replica_hashes(node)
        return all(held.get(o, []) == fed.own_hashes(o) for o in origins)

    fed.wait_until(complete, WAIT, what=f"{node} holds {origins} completely")


def assert_exact_replicas(fed: LocalFederation, node: str, origins: list[str]) -> None:
    """Every record once, in order (each prev is the previous seq), counted per origin."""
    held, chains, positions = (
        fed.replica_hashes(node), fed.replica_chains(node), fed.replica_positions(node)
    )  # fmt: skip
    assert sorted(held) == sorted(origins)
    for origin in origins:
        own = fed.own_hashes(origin)
        assert held[origin] == own, origin
        assert len({h for _s, h in held[origin]}) == len(own)
        chain = chains[origin]
        assert [p for _s, p, _h in chain] == [0, *(s for s, _p, _h in chain[:-1])], origin
        assert all(a[0] < b[0] for a, b in itertools.pairwise(chain))
        assert positions[origin]["count"] == len(own)
        assert positions[origin]["last_seq"] == own[-1][0]
        assert positions[origin]["blocked"] == ""


def local_roles(node: str) -> tuple[str, str, str, str]:
    """(supervisor, raising unit, lead unit, lead head) for a node's own local item."""
    cfg = load_node_configs(DEFAULT_NODES_DIR)[node]
    sup_unit = next(u for u in cfg.units if u.supervisors and "/" in u.id)
    lead = next(u for u in cfg.units if u.head and "/" in u.id and u.id != sup_unit.id)
    return sup_unit.supervisors[0], sup_unit.id, lead.id, lead.head


def local_item(fed: LocalFederation, node: str, now: str = "2016-10-20T11:00") -> str:
    """Register, assign and deploy an item of the node's own (through the CLI)."""
    sup, raising, lead, head = local_roles(node)
    item = fed.cli(
        node, "item", "register", "--actor", sup, "--assign", "--title", f"{node} 本级事项",
        "--source", "key_work", "--board", "key-work", "--raising-unit", raising,
        "--lead-unit", lead, now=now,
    )  # fmt: skip
    number: str = item["number"]
    fed.cli(node, "item", "deploy", number, "--actor", head, now=now)
    return number


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
def test_tampered_record_is_quarantined_and_blocks_only_its_origin(fed: LocalFederation) -> None:
    """A record whose hash does not match is never applied; its origin waits, others flow."""
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

    def blocked(node: str) -> bool:
        replicas = {r["origin"]: r for r in fed.status(node)["replicas"]}
        town = replicas.get(TOWN, {})
        return bool(town.get("blocked")) and town.get("quarantined") == 1

    for node in (COUNTY, CITY, SX):
        fed.wait_until(functools.partial(blocked, node), WAIT, what=f"{node} quarantines")
    fed.start_node(TOWN)
    county_head = local_roles(COUNTY)[3]
    fed.cli(COUNTY, "item", "feedback", county_item, "--actor", county_head, "--content", "县反馈")
    fed.cli(TOWN, "item", "progress", town_item, "--actor", town_head, "--content", "继续")
    wait_replicated(fed, SX, [COUNTY])  # other origins flow on
    wait_replicated(fed, CITY, [COUNTY])
    for node in (COUNTY, CITY, SX):
        held = fed.replica_hashes(node)[TOWN]
        assert held == fed.own_hashes(TOWN)[:good], node  # waits at the forged record
        assert real.hash not in {h for _s, h in held}
        (row,) = (r for r in fed.status(node)["replicas"] if r["origin"] == TOWN)
        assert "content hash" in row["blocked"]
        assert row["last_applied"] == real.prev
    assert fed.own_records(TOWN)[-1].seq > real.seq  # the township itself went on
