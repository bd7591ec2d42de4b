"""An integrator asks a node for its public key and latest signed checkpoint (real processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import msgspec
import nats

from ledger13710.audit.keys import signature_ok
from ledger13710.node.daemon import NodeInfo
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.subjects import info_subject
from ledger13710.testing.localfed import LocalFederation

CITY = "sx.xinzhou"
CADENCE = ["--checkpoint-every-events", "1", "--checkpoint-check-seconds", "0.2"]


async def _ask(url: str, password: str, node: str) -> NodeInfo:
    nc = await nats.connect(
        url, user=natsusers.INTEGRATOR, password=password, allow_reconnect=False
    )
    try:
        reply = await nc.request(info_subject(node), b"", timeout=5)
    finally:
        await nc.close()
    return msgspec.json.decode(reply.data, type=NodeInfo)


def test_integrator_gets_key_and_a_checkpoint_it_can_verify(tmp_path: Path) -> None:
    """The reply's checkpoint is signed by the node's key, which matches `node show`."""
    with LocalFederation(
        tmp_path / "fed", ["sx", CITY], clock_env="2016-10-20T09:00", node_args=CADENCE
    ) as fed:
        fed.cli(CITY, "item", "register", "--actor", "sx-xinzhou-head", "--title", "测试事项",
                "--source", "executive", "--board", "daily", "--raising-unit", CITY,
                "--lead-unit", "sx.xinzhou/transport", "--assign")  # fmt: skip
        password = fed.creds[natsusers.INTEGRATOR]

        def checkpointed() -> bool:
            info = asyncio.run(_ask(fed.url, password, CITY))
            return info.checkpoint is not None and info.checkpoint.last_seq == info.last_seq

        fed.wait_until(checkpointed, 30.0)
        info = asyncio.run(_ask(fed.url, password, CITY))
        shown = fed.cli(CITY, "node", "show")
    assert info.checkpoint is not None
    assert shown["public_key"] == info.public_key
    assert info.checkpoint.public_key == info.public_key
    assert signature_ok(info.public_key, info.checkpoint.body(), info.checkpoint.signature)
