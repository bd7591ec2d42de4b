"""The server, not the client, enforces what each node may do (hub topology, real ``nodes/``).

One nats-server on free 127.0.0.1 ports serves the module; it is always stopped at teardown.
Permission denials show up in nats-py as an ``error_cb`` call ("permissions violation for
publish/subscription to ...") while the denied request itself just times out.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import ConsumerConfig, DiscardPolicy, StorageType
from nats.js.errors import NotFoundError
from nats_helpers import PATIENCE, Session, connect_as, real_nodes, run

from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import (
    NatsServer,
    ensure_streams,
    find_nats_server,
    free_port,
)
from ledger13710.replication.subjects import (
    EVENTS_STREAM,
    INBOX_STREAM,
    PUBLIC_STREAM,
    ack_subject,
    consumer_name,
    descendants_subject,
    events_subject,
    fetch_subject,
    inbox_subject,
    reply_prefix,
)

TOWNSHIP = "sx.xinzhou.dingxiang.jinchang"
COUNTY = "sx.xinzhou.dingxiang"
CITY = "sx.xinzhou"


@dataclass
class Hub:
    """The running server and everyone's passwords."""

    server: NatsServer
    creds: dict[str, str]

    @property
    def url(self) -> str:
        """The client URL."""
        return self.server.url


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub-topology server for all of ``nodes/``, with the two streams created by admin."""
    nodes = real_nodes()
    creds = natsusers.make_credentials(nodes, seed="permissions-test")
    base = tmp_path_factory.mktemp("nats-hub")
    port, http_port = free_port(), free_port()
    text = natstopology.hub_config(
        nodes, creds, port=port, store_dir=base / "js", http_port=http_port
    )
    server = NatsServer(base, text, port=port, http_port=http_port, name="hub")
    with server:
        streams = natstopology.stream_configs("hub")[natstopology.HUB]
        run(ensure_streams(server.url, "admin", creds["admin"], streams))
        yield Hub(server, creds)


def test_generated_configs_are_accepted_by_nats_server(tmp_path: Path) -> None:
    """``nats-server -t`` accepts the hub, the 3-server cluster and the leaf configurations."""
    nodes = real_nodes()
    creds = natsusers.make_credentials(nodes, seed="t")
    texts = [natstopology.hub_config(nodes, creds, port=14001, store_dir=tmp_path / "h")]
    texts += natstopology.hub_cluster_configs(
        nodes,
        creds,
        [14011, 14012, 14013],
        [14021, 14022, 14023],
        [tmp_path / f"c{i}" for i in range(3)],
    )
    texts += natstopology.leaf_configs(
        nodes,
        creds,
        hub_port=14031,
        hub_leaf_port=14032,
        city_ports={"sx.xinzhou": (14033, 14034), "sx.taiyuan": (14035,)},
        store_dir_base=tmp_path / "leaf",
    ).values()
    binary = find_nats_server()
    for i, text in enumerate(texts):
        conf = tmp_path / f"{i}.conf"
        conf.write_text(text, "utf-8")
        done = subprocess.run(
            [str(binary), "-t", "-c", str(conf)],
            check=False,
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_admin_creates_streams_idempotently(hub: Hub) -> None:
    """ensure_streams twice more changes nothing; the events stream is as specified."""

    async def body() -> None:
        streams = natstopology.stream_configs("hub")[natstopology.HUB]
        await ensure_streams(hub.url, "admin", hub.creds["admin"], streams)
        await ensure_streams(hub.url, "admin", hub.creds["admin"], streams)
        admin = await connect_as(hub.url, "admin", hub.creds["admin"])
        info = (await admin.nc.jetstream().stream_info(EVENTS_STREAM)).config
        assert info.subjects == ["l13710.ev.>"]
        assert info.allow_direct is True
        assert info.storage == StorageType.FILE
        assert info.duplicate_window == 120.0
        assert info.discard == DiscardPolicy.NEW
        assert info.max_msgs == -1
        inbox = (await admin.nc.jetstream().stream_info(INBOX_STREAM)).config
        assert inbox.subjects == ["l13710.inbox.>"]
        await admin.nc.close()

    run(body())


def test_node_publishes_its_own_events_and_reads_back_the_last(hub: Hub) -> None:
    """A township's JetStream publish on its own subject is acked; direct-get returns it."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        js = town.nc.jetstream(timeout=PATIENCE)
        ack = await js.publish(events_subject(TOWNSHIP), b"own-1", headers={"Nats-Msg-Id": "t-1"})
        assert ack.stream == EVENTS_STREAM
        last = await js.get_last_msg(EVENTS_STREAM, events_subject(TOWNSHIP), direct=True)
        assert last.data == b"own-1"
        assert town.errors == []
        await town.nc.close()

    run(body())


def test_publishing_another_nodes_events_is_refused(hub: Hub) -> None:
    """Publishing on the county's events subject is a server-side permissions violation."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        with pytest.raises(NatsTimeoutError):
            await town.nc.jetstream().publish(events_subject(COUNTY), b"forged", timeout=1)
        err = await town.violation(f'publish to "{events_subject(COUNTY)}"')
        assert "permissions violation" in err
        with pytest.raises(NatsTimeoutError):  # nor may it read the county's last event
            await town.nc.jetstream(timeout=1).get_last_msg(
                EVENTS_STREAM, events_subject(COUNTY), direct=True
            )
        await town.nc.close()
        admin = await connect_as(hub.url, "admin", hub.creds["admin"])
        with pytest.raises(NotFoundError):
            await admin.nc.jetstream().get_last_msg(EVENTS_STREAM, events_subject(COUNTY))
        await admin.nc.close()

    run(body())


def test_wrong_password_is_refused(hub: Hub) -> None:
    """Logging in as the county with the township's password is an authorization violation."""

    async def body() -> None:
        errors: list[str] = []

        async def on_error(err: Exception) -> None:
            errors.append(str(err))

        # nats-py raises a plain nats.errors.Error here, not its AuthorizationError, and leaves
        # the socket open: close the client ourselves.
        nc = Client()
        with pytest.raises(nats.errors.Error, match=r"(?i)authorization violation"):
            await nc.connect(
                hub.url,
                user=COUNTY,
                password=hub.creds[TOWNSHIP],
                error_cb=on_error,
                allow_reconnect=False,
                connect_timeout=3,
            )
        await nc.close()
        assert any("authorization violation" in e.lower() for e in errors)

    run(body())


def test_consumers_only_on_own_subtree(hub: Hub) -> None:
    """The city may create and use its own ingest consumer; nobody may filter another subtree."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        await town.nc.jetstream().publish(
            events_subject(TOWNSHIP), b"for-the-city", timeout=PATIENCE
        )
        city_name = consumer_name("ingest", CITY)
        stolen = ConsumerConfig(
            name=city_name, durable_name=city_name, filter_subject=descendants_subject(CITY)
        )
        with pytest.raises(NatsTimeoutError):  # the township posing as the city's consumer
            await town.nc.jetstream().add_consumer(EVENTS_STREAM, stolen, timeout=1)
        await town.violation("$JS.API.CONSUMER.CREATE.L13710_EV.ingest-sx_xinzhou.")
        county = await connect_as(hub.url, COUNTY, hub.creds[COUNTY])
        own = consumer_name("ingest", COUNTY)
        wider = ConsumerConfig(name=own, durable_name=own, filter_subject="l13710.ev.sx.xinzhou.>")
        with pytest.raises(NatsTimeoutError):  # its own name, a wider filter
            await county.nc.jetstream().add_consumer(EVENTS_STREAM, wider, timeout=1)
        await county.violation("permissions violation for publish to")

        city = await connect_as(hub.url, CITY, hub.creds[CITY])
        # A filter in the body other than the one in the (allowed) subject: the API refuses it.
        req = {
            "stream_name": EVENTS_STREAM,
            "config": {**stolen.as_dict(), "filter_subject": "l13710.ev.>"},
        }
        subject = f"$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.{city_name}.{descendants_subject(CITY)}"
        reply = json.loads(
            (await city.nc.request(subject, json.dumps(req).encode(), PATIENCE)).data
        )
        assert reply["error"]["err_code"] == 10131, reply
        sub = await city.nc.jetstream().pull_subscribe(
            descendants_subject(CITY), durable=city_name, stream=EVENTS_STREAM
        )
        msgs = await sub.fetch(100, timeout=PATIENCE)
        assert b"for-the-city" in [m.data for m in msgs]
        assert all(m.subject.startswith("l13710.ev.sx.xinzhou.") for m in msgs)
        for m in msgs:
            await m.ack()
        assert city.errors == []
        for s in (town, county, city):
            await s.nc.close()

    run(body())


def test_subscribe_only_to_own_fetch_subject(hub: Hub) -> None:
    """A node may subscribe to its own fetch subject but not to another node's."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        await town.nc.subscribe(fetch_subject(TOWNSHIP))
        await town.nc.subscribe(fetch_subject(COUNTY))
        await town.nc.flush(timeout=PATIENCE)
        err = await town.violation("subscription to")
        assert fetch_subject(COUNTY) in err
        assert all(fetch_subject(TOWNSHIP) + '"' not in e for e in town.errors)
        await town.nc.close()

    run(body())


async def _request_once_subscribed(session: Session, subject: str, data: bytes) -> Msg:
    """A request, retried while the server still reports no responders for the subject.

    Under heavy load the responder's interest has (rarely) not reached the requester's view of
    the subject yet although the responder's flush returned; that is not what is tested here.
    """
    for _ in range(20):
        try:
            return await session.nc.request(subject, data, timeout=PATIENCE)
        except NoRespondersError:
            await asyncio.sleep(0.1)
    return await session.nc.request(subject, data, timeout=PATIENCE)


def test_child_replies_once_to_its_parents_fetch(hub: Hub) -> None:
    """allow_responses: the child answers a request it received, once, and nothing else."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        county = await connect_as(hub.url, COUNTY, hub.creds[COUNTY])
        seen_acks: list[bytes] = []

        async def on_fetch(msg: Msg) -> None:
            await msg.respond(b"events after " + msg.data)
            await msg.respond(b"a second answer")  # max 1: refused by the server

        async def on_ack(msg: Msg) -> None:
            seen_acks.append(msg.data)

        await town.nc.subscribe(fetch_subject(TOWNSHIP), cb=on_fetch)
        await town.nc.subscribe(ack_subject(TOWNSHIP), cb=on_ack)
        await town.nc.flush(timeout=PATIENCE)
        answer = await _request_once_subscribed(county, fetch_subject(TOWNSHIP), b"7")
        assert answer.data == b"events after 7"
        assert answer.subject.startswith(reply_prefix(COUNTY) + ".")
        await town.violation("permissions violation for publish to")
        await county.nc.publish(ack_subject(TOWNSHIP), b"ingested 7")
        await county.nc.flush(timeout=PATIENCE)
        await asyncio.sleep(0.2)
        assert seen_acks == [b"ingested 7"]
        town.errors.clear()
        # Publishing into the parent's inbox space uninvited is refused.
        await town.nc.publish(f"{reply_prefix(COUNTY)}.forged.1", b"x")
        await town.violation(f'publish to "{reply_prefix(COUNTY)}.forged.1"')
        assert county.errors == []
        await town.nc.close()
        await county.nc.close()

    run(body())


def test_inboxes_flow_down_only(hub: Hub) -> None:
    """The province writes a city's inbox, which the city consumes; a child cannot write up."""

    async def body() -> None:
        province = await connect_as(hub.url, "sx", hub.creds["sx"])
        await province.nc.jetstream().publish(inbox_subject(CITY), b"assign", timeout=PATIENCE)
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        with pytest.raises(NatsTimeoutError):
            await town.nc.jetstream().publish(inbox_subject(CITY), b"upward", timeout=1)
        await town.violation(f'publish to "{inbox_subject(CITY)}"')
        city = await connect_as(hub.url, CITY, hub.creds[CITY])
        name = consumer_name("inbox", CITY)
        sub = await city.nc.jetstream().pull_subscribe(
            inbox_subject(CITY), durable=name, stream=INBOX_STREAM
        )
        msgs = await sub.fetch(10, timeout=PATIENCE)
        assert [m.data for m in msgs] == [b"assign"]
        await msgs[0].ack()
        assert city.errors == []
        assert province.errors == []
        for s in (province, town, city):
            await s.nc.close()

    run(body())


def test_integrator_reads_the_public_mirror_and_writes_nothing(hub: Hub) -> None:
    """The integrator consumes a subtree from the mirror; it may not publish or use L13710_EV."""

    async def body() -> None:
        town = await connect_as(hub.url, TOWNSHIP, hub.creds[TOWNSHIP])
        await town.nc.jetstream().publish(events_subject(TOWNSHIP), b"{}", timeout=PATIENCE)
        await town.nc.close()
        errors: list[str] = []

        async def on_error(err: Exception) -> None:
            errors.append(str(err))

        nc = await nats.connect(
            hub.url, user=natsusers.INTEGRATOR, password=hub.creds[natsusers.INTEGRATOR],
            error_cb=on_error, allow_reconnect=False, connect_timeout=PATIENCE,
        )  # fmt: skip
        js = nc.jetstream(timeout=2)
        sub = await js.pull_subscribe(f"l13710.ev.{COUNTY}.>", "desk", stream=PUBLIC_STREAM)
        msgs = await sub.fetch(1, timeout=PATIENCE)
        assert [events_subject(TOWNSHIP)] == [m.subject for m in msgs]
        await msgs[0].ack()
        with pytest.raises(NatsTimeoutError):
            await js.publish(events_subject(TOWNSHIP), b"forged", timeout=1)
        with pytest.raises(NatsTimeoutError):
            await js.pull_subscribe(f"l13710.ev.{COUNTY}.>", "desk2", stream=EVENTS_STREAM)
        await nc.close()
        assert any("permissions violation" in e for e in errors)

    run(body())
