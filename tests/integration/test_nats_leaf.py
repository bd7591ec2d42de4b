"""Leaf topology smoke test: the province hub plus one city leaf server (``sx.xinzhou``).

Both servers run on free 127.0.0.1 ports and are always stopped at teardown. Catching up after
the hub restarts waits on nats-server's source retry backoff (10 s, 20 s, … per failed
attempt), so this test takes about 40 seconds. A SIGKILLed hub may also forget the latest
consumer acks: messages acknowledged just before the kill are delivered again after it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from nats.aio.msg import Msg
from nats.js.client import JetStreamContext
from nats_helpers import PATIENCE, WAIT, Session, connect_as, eventually, real_nodes, run

from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import NatsServer, ensure_streams, free_port
from ledger13710.replication.subjects import (
    EVENTS_STREAM,
    INBOX_STREAM,
    consumer_name,
    descendants_subject,
    events_subject,
    fetch_subject,
    inbox_subject,
)

TOWNSHIP = "sx.xinzhou.dingxiang.jinchang"
CITY = "sx.xinzhou"
DOMAIN = "sx_xinzhou"


@dataclass
class Leaf:
    """The hub, the city's leaf server and everyone's passwords."""

    hub: NatsServer
    city: NatsServer
    creds: dict[str, str]

    async def at(self, node: str) -> Session:
        """Connect as ``node`` to the server the topology assigns it."""
        where = natstopology.server_for(node, real_nodes(), cities=[CITY])
        server = self.hub if where == natstopology.HUB else self.city
        return await connect_as(server.url, node, self.creds[node])

    async def count(self, server: NatsServer, stream: str) -> int:
        """How many messages ``stream`` holds on ``server`` (asked as admin)."""
        admin = await connect_as(server.url, "admin", self.creds["admin"])
        try:
            return (await admin.nc.jetstream().stream_info(stream)).state.messages
        finally:
            await admin.nc.close()


async def _take(sub: JetStreamContext.PullSubscription, timeout: float = PATIENCE) -> list[Msg]:
    """Fetch what is there and acknowledge it (waiting for the server's confirmation)."""
    msgs = await sub.fetch(10, timeout=timeout)
    for msg in msgs:
        await msg.ack_sync(timeout=PATIENCE)
    return msgs


@pytest.fixture
def leaf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Leaf]:
    """Hub and ``sx.xinzhou`` leaf, linked, with the leaf topology's streams created."""
    nodes = real_nodes()
    creds = natsusers.make_credentials(nodes, seed="leaf-test")
    base = tmp_path_factory.mktemp("nats-leaf")
    hub_port, leaf_port, city_port = free_port(), free_port(), free_port()
    hub_http, city_http = free_port(), free_port()
    texts = natstopology.leaf_configs(
        nodes,
        creds,
        hub_port=hub_port,
        hub_leaf_port=leaf_port,
        city_ports={CITY: (city_port, city_http)},
        store_dir_base=base / "js",
        hub_http_port=hub_http,
    )
    hub = NatsServer(base / "hub", texts["hub"], port=hub_port, http_port=hub_http, name="hub")
    city = NatsServer(
        base / DOMAIN, texts[DOMAIN], port=city_port, http_port=city_http, name=DOMAIN
    )
    streams = natstopology.stream_configs("leaf", nodes, cities=[CITY])
    with hub, city:
        run(ensure_streams(hub.url, "admin", creds["admin"], streams[natstopology.HUB]))
        run(ensure_streams(city.url, "admin", creds["admin"], streams[DOMAIN]))
        yield Leaf(hub, city, creds)


@pytest.mark.slow
def test_city_works_alone_and_the_hub_catches_up(leaf: Leaf) -> None:
    """Events published at the city are ingested there and sourced to the hub exactly once;
    with the hub down the city goes on; after the hub restarts it catches up."""

    async def body() -> None:
        town, city, province = await leaf.at(TOWNSHIP), await leaf.at(CITY), await leaf.at("sx")
        ack = await town.nc.jetstream().publish(events_subject(TOWNSHIP), b"e1", timeout=PATIENCE)
        assert ack.domain == DOMAIN
        ingest = await city.nc.jetstream().pull_subscribe(
            descendants_subject(CITY), durable=consumer_name("ingest", CITY), stream=EVENTS_STREAM
        )
        assert [m.data for m in await _take(ingest)] == [b"e1"]

        async def hub_has(n: int) -> bool:
            return await leaf.count(leaf.hub, EVENTS_STREAM) >= n

        await eventually(lambda: hub_has(1), timeout=WAIT)
        up = await province.nc.jetstream().pull_subscribe(
            descendants_subject("sx"), durable=consumer_name("ingest", "sx"), stream=EVENTS_STREAM
        )
        assert [m.data for m in await _take(up)] == [b"e1"]

        # Down the tree: the province writes the city's inbox at the hub; the city reads it.
        await province.nc.jetstream().publish(inbox_subject(CITY), b"assign", timeout=PATIENCE)
        inbox = await city.nc.jetstream().pull_subscribe(
            inbox_subject(CITY), durable=consumer_name("inbox", CITY), stream=INBOX_STREAM
        )
        assert [m.data for m in await _take(inbox, timeout=WAIT)] == [b"assign"]

        # Core request/reply crosses the link: the province asks the city for its events.
        async def answer(msg: Msg) -> None:
            await msg.respond(b"after " + msg.data)

        await city.nc.subscribe(fetch_subject(CITY), cb=answer)
        await city.nc.flush(timeout=PATIENCE)

        async def asked() -> bool:
            try:
                reply = await province.nc.request(fetch_subject(CITY), b"0", timeout=0.5)
            except Exception:  # no responders until the interest has crossed the link
                return False
            return reply.data == b"after 0"

        await eventually(asked, timeout=WAIT)
        await province.nc.close()

        leaf.hub.kill()
        ack = await town.nc.jetstream().publish(events_subject(TOWNSHIP), b"e2", timeout=PATIENCE)
        assert ack.seq == 2
        assert [m.data for m in await _take(ingest)] == [b"e2"]

        leaf.hub.start()
        await eventually(lambda: hub_has(2), timeout=100, step=1)
        province = await leaf.at("sx")
        up = await province.nc.jetstream().pull_subscribe(
            descendants_subject("sx"), durable=consumer_name("ingest", "sx"), stream=EVENTS_STREAM
        )
        got = await _take(up)
        # A SIGKILLed server may lose the consumer's latest acks (they are flushed lazily), so
        # e1 can come again, marked redelivered: the ingester must be idempotent.
        assert [m.data for m in got if m.metadata.num_delivered == 1] == [b"e2"]
        assert [m.metadata.sequence.stream for m in got][-1] == 2
        # Stored once per domain: no copy came over the link outside the sources.
        assert await leaf.count(leaf.hub, EVENTS_STREAM) == 2
        assert await leaf.count(leaf.city, EVENTS_STREAM) == 2
        assert await leaf.count(leaf.hub, INBOX_STREAM) == 1
        assert await leaf.count(leaf.city, INBOX_STREAM) == 1
        assert town.errors == city.errors == province.errors == []
        for s in (town, city, province):
            await s.nc.close()

    run(body(), timeout=150)
