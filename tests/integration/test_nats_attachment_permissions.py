"""The server enforces who may write and read each attachment bucket: only the origin writes
its own; its ancestors read it; a node outside the subtree cannot (hub topology, real nodes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats_helpers import connect_as, real_nodes, run

from ledger13710.replication.nats import topology as natstopology
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.nats.server import NatsServer, ensure_streams, free_port
from ledger13710.replication.subjects import attachment_bucket, attachment_stream

TOWNSHIP = "sx.xinzhou.dingxiang.jinchang"
COUNTY = "sx.xinzhou.dingxiang"
OTHER_CITY = "sx.taiyuan"
PHOTO = b"\xff\xd8 lanes"

Hub = tuple[NatsServer, dict[str, str]]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub server for ``nodes/`` with every stream, the attachment buckets included."""
    nodes = real_nodes()
    creds = natsusers.make_credentials(nodes, seed="attachments-test")
    base = tmp_path_factory.mktemp("nats-att")
    port, http_port = free_port(), free_port()
    text = natstopology.hub_config(
        nodes, creds, port=port, store_dir=base / "js", http_port=http_port
    )
    with NatsServer(base, text, port=port, http_port=http_port, name="hub") as server:
        streams = natstopology.stream_configs("hub", nodes)[natstopology.HUB]
        run(ensure_streams(server.url, "admin", creds["admin"], streams))
        yield server, creds


def test_every_node_has_a_bucket_and_only_ancestors_read_it() -> None:
    """A node may write its own bucket and read its descendants' buckets, nothing else."""
    nodes = list(real_nodes())
    allowed = natsusers.attachment_permissions(COUNTY, nodes)
    assert f"$O.{attachment_bucket(COUNTY)}.>" in allowed
    assert f"$JS.API.CONSUMER.CREATE.{attachment_stream(TOWNSHIP)}" in allowed
    tokens = {token for a in allowed for token in a.split(".")}
    assert attachment_stream("sx.xinzhou") not in tokens  # the city above: not readable
    assert not [a for a in allowed if a.startswith(f"$O.{attachment_bucket(TOWNSHIP)}.")]
    streams = natstopology.stream_configs("hub", real_nodes())[natstopology.HUB]
    assert {attachment_stream(n) for n in nodes} <= {s.name for s in streams}


def test_the_origin_writes_and_an_ancestor_reads_byte_identical(hub: Hub) -> None:
    """The township puts a photo into its bucket; the county gets the same bytes."""
    server, creds = hub

    async def body() -> None:
        town = await connect_as(server.url, TOWNSHIP, creds[TOWNSHIP])
        obs = await town.nc.jetstream().object_store(attachment_bucket(TOWNSHIP))
        await obs.put("ab" * 32, PHOTO)
        county = await connect_as(server.url, COUNTY, creds[COUNTY])
        bucket = await county.nc.jetstream().object_store(attachment_bucket(TOWNSHIP))
        got = await bucket.get("ab" * 32)
        assert got.data == PHOTO
        assert not town.errors + county.errors
        await town.nc.close()
        await county.nc.close()

    run(body())


def test_nobody_writes_another_nodes_bucket_nor_reads_outside_their_subtree(hub: Hub) -> None:
    """The county cannot write the township's bucket; another city cannot read it."""
    server, creds = hub

    async def body() -> None:
        county = await connect_as(server.url, COUNTY, creds[COUNTY])
        forged = f"$O.{attachment_bucket(TOWNSHIP)}.C.forged"
        await county.nc.publish(forged, b"forged")
        await county.violation(f'publish to "{forged}"')
        other = await connect_as(server.url, OTHER_CITY, creds[OTHER_CITY])
        with pytest.raises(NatsTimeoutError):
            await other.nc.jetstream(timeout=1).object_store(attachment_bucket(TOWNSHIP))
        await other.violation(attachment_stream(TOWNSHIP))
        await county.nc.close()
        await other.nc.close()

    run(body())
