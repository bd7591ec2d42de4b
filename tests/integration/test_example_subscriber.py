"""The example subscriber against a live federation (real node processes, real nats-server).

It runs as its own process, as the read-only ``integrator`` user on the public mirror stream,
with a durable consumer on the city's subtree, and is stopped and started again in between.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger13710.config.node import load_node_configs
from ledger13710.replication.nats import users as natsusers
from ledger13710.replication.subjects import PUBLIC_STREAM
from ledger13710.testing.localfed import DEFAULT_NODES_DIR, LocalFederation

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "example_subscriber.py"
SX, CITY, COUNTY = "sx", "sx.xinzhou", "sx.xinzhou.dingxiang"
DURABLE = "integrator-audit-desk"
WAIT = 30.0


class Subscriber:
    """``scripts/example_subscriber.py`` as a process; its stdout lines go to a file."""

    def __init__(self, fed: LocalFederation, out: Path) -> None:
        self.fed, self.out = fed, out
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the script on ``CITY``'s subtree with the durable consumer ``DURABLE``."""
        env = {**os.environ, "NATS_USER": natsusers.INTEGRATOR}
        env["NATS_PASSWORD"] = self.fed.creds[natsusers.INTEGRATOR]
        with self.out.open("ab") as out, (self.out.with_suffix(".err")).open("ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(SCRIPT), self.fed.url, CITY, DURABLE],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip

    def stop(self) -> None:
        """Stop the process (SIGTERM, SIGKILL after 10 s)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def lines(self) -> list[list[str]]:
        """Every event line printed so far, split into its fields."""
        text = self.out.read_text("utf-8") if self.out.exists() else ""
        return [line.split() for line in text.splitlines()]

    def rejected(self) -> str:
        """What the script wrote to stderr (rejected messages, errors)."""
        err = self.out.with_suffix(".err")
        return err.read_text("utf-8") if err.exists() else ""


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[LocalFederation]:
    """Province, city and county running, each node its own process."""
    with LocalFederation(tmp_path / "fed", [SX, CITY, COUNTY], clock_env="2016-10-20T09:00") as f:
        yield f


@pytest.fixture
def subscriber(fed: LocalFederation, tmp_path: Path) -> Iterator[Subscriber]:
    """The example subscriber (not started yet); always stopped afterwards."""
    sub = Subscriber(fed, tmp_path / "subscriber.out")
    yield sub
    sub.stop()


def local_item(fed: LocalFederation, node: str) -> str:
    """Register, assign and deploy an item of the node's own, through the CLI."""
    cfg = load_node_configs(DEFAULT_NODES_DIR)[node]
    sup_unit = next(u for u in cfg.units if u.supervisors and "/" in u.id)
    lead = next(u for u in cfg.units if u.head and "/" in u.id and u.id != sup_unit.id)
    item = fed.cli(
        node, "item", "register", "--actor", sup_unit.supervisors[0], "--assign",
        "--title", f"{node} 本级事项", "--source", "key_work", "--board", "key-work",
        "--raising-unit", sup_unit.id, "--lead-unit", lead.id, now="2016-10-20T11:00",
    )  # fmt: skip
    number: str = item["number"]
    fed.cli(node, "item", "deploy", number, "--actor", lead.head, now="2016-10-20T11:30")
    return number


def expected(fed: LocalFederation) -> set[tuple[str, str]]:
    """(origin, seq) of every record in the city's subtree, from the nodes' own logs."""
    return {(o, str(r.seq)) for o in (CITY, COUNTY) for r in fed.own_records(o)}


def seen(sub: Subscriber) -> set[tuple[str, str]]:
    """(origin, seq) of every line the subscriber printed."""
    return {(line[0], line[1]) for line in sub.lines()}


def all_acknowledged(fed: LocalFederation) -> bool:
    """The durable consumer has nothing pending and nothing unacknowledged."""

    async def check() -> bool:
        nc = await fed.admin()
        try:
            info = await nc.jetstream().consumer_info(PUBLIC_STREAM, DURABLE)
        finally:
            await nc.close()
        return bool(info.num_pending == 0 and info.num_ack_pending == 0)

    return asyncio.run(asyncio.wait_for(check(), 10))


@pytest.mark.slow
def test_example_subscriber_gets_its_subtree_once_in_order_across_restarts(
    fed: LocalFederation, subscriber: Subscriber
) -> None:
    """Every event of the subtree arrives once, in per-origin order, across a restart."""
    for node in (SX, CITY, COUNTY):
        local_item(fed, node)
    subscriber.start()
    fed.wait_until(lambda: seen(subscriber) == expected(fed), WAIT, what="first batch")
    fed.wait_until(lambda: all_acknowledged(fed), WAIT, what="first batch acknowledged")
    subscriber.stop()
    first = len(subscriber.lines())

    for node in (SX, CITY, COUNTY):  # while the subscriber is away
        local_item(fed, node)
    subscriber.start()
    fed.wait_until(lambda: seen(subscriber) == expected(fed), WAIT, what="after the restart")
    fed.wait_until(lambda: all_acknowledged(fed), WAIT, what="everything acknowledged")

    lines = subscriber.lines()
    assert len(lines) == len(expected(fed))  # exactly once: no line repeated
    assert first < len(lines)
    assert subscriber.rejected() == ""
    for origin in (CITY, COUNTY):
        own = [(str(r.seq), str(r.prev), r.topic) for r in fed.own_records(origin)]
        assert [(s, p, t) for o, s, p, t, _oid, _v in lines if o == origin] == own
