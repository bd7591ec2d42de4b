"""Ingest the subtree: every descendant's records into the replica store, exactly once.

JetStream is the fast path, not the truth. A record whose back-link does not meet the last one
applied reveals a gap; the ingester asks the origin itself for the missing records
(``fetch``), and until it gets them that origin waits. JetStream messages are acknowledged only
after the batch they came in is committed, together with the positions it advanced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import fold, roll_up
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.domain import events as ev
from ledger13710.domain.directory import host_node, parent_government
from ledger13710.logging import get_logger
from ledger13710.replication.envelope import (
    BadRecordError,
    FetchRequest,
    Record,
    fetch_reply_decoder,
    fetch_request_encoder,
    make_record,
    record_from_message,
)
from ledger13710.replication.replica_store import BatchResult, ReplicaStore
from ledger13710.replication.subjects import (
    EVENTS_STREAM,
    ack_subject,
    consumer_name,
    descendants_subject,
    fetch_subject,
    origin_of,
)

log = get_logger("ledger13710.ingester")


class Ingester:
    """Consumes ``l13710.ev.<node>.*.>`` into the replica store; one per node process."""

    def __init__(
        self,
        app: LedgerApp,
        store: ReplicaStore,
        nc: Client,
        js: JetStreamContext,
        *,
        batch: int = 512,
        catch_up_every_s: float = 2.0,
    ) -> None:
        self.app = app
        self.node = app.node_id
        self.store = store
        self.nc = nc
        self.js = js
        self.batch = batch
        self.catch_up_every_s = catch_up_every_s

    def is_child(self, origin: str) -> bool:
        """Whether ``origin``'s nearest node above is this one (it hears our acks)."""
        parent = parent_government(origin)
        return parent is not None and host_node(parent, self.app.node_ids) == self.node

    async def run(self, stop: asyncio.Event) -> None:
        """Ingest until ``stop`` is set."""
        durable = consumer_name("ingest", self.node)
        await self.js.add_consumer(
            EVENTS_STREAM,
            ConsumerConfig(
                name=durable, durable_name=durable, filter_subject=descendants_subject(self.node),
                ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                ack_wait=30, max_ack_pending=20_000,
            ),
        )  # fmt: skip
        sub = await self.js.pull_subscribe_bind(durable, stream=EVENTS_STREAM)
        last_catch_up = 0.0
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            try:
                msgs = await sub.fetch(self.batch, timeout=0.5)
            except (TimeoutError, nats.errors.TimeoutError):
                msgs = []
            except nats.errors.Error as e:
                log.warning("ingest_fetch_failed", node=self.node, error=repr(e))
                await asyncio.sleep(0.5)
                continue
            if msgs:
                await self._ingest(msgs)
            if loop.time() - last_catch_up > self.catch_up_every_s:
                last_catch_up = loop.time()
                await self.catch_up()

    async def _ingest(self, msgs: list[Any]) -> None:
        records: list[Record] = []
        for m in msgs:
            try:
                records.append(record_from_message(origin_of(m.subject), m.headers, m.data))
            except (BadRecordError, ValueError) as e:
                log.error("bad_message", node=self.node, subject=m.subject, reason=str(e))
        result = await asyncio.to_thread(self.store.apply, records)
        await self._after(result)
        for origin, last in result.gaps.items():
            await self.fill(origin, last)
        for m in msgs:
            await m.ack()

    async def _after(self, result: BatchResult) -> None:
        for record, reason in result.quarantined:
            log.error(
                "record_quarantined", node=self.node, origin=record.origin, seq=record.seq,
                reason=reason,
            )  # fmt: skip
        if not result.applied:
            return
        await asyncio.to_thread(self._roll_up, result.applied)
        last: dict[str, int] = {}
        for r in result.applied:
            last[r.origin] = r.seq
        for origin, seq in last.items():
            if self.is_child(origin):
                await self.nc.publish(ack_subject(origin), str(seq).encode())

    def _roll_up(self, applied: Iterable[Record]) -> None:
        originators = {r.originator_id for r in applied if r.topic.startswith("ledger13710.item.")}
        for oid in originators:
            events = [decode_event(r.topic, r.state) for r in self.store.originator_records(oid)]
            state = fold(e for e in events if isinstance(e, ev.ItemEvent))
            if state is not None and roll_up(self.app, state):
                log.info("part_rolled_up", node=self.node, item=state.number, state=state.state)

    async def fill(self, origin: str, last: int) -> None:
        """Ask ``origin`` for its records after ``last`` until the gap is closed."""
        while True:
            request = fetch_request_encoder.encode(FetchRequest(after=last, limit=500))
            try:
                reply = await self.nc.request(fetch_subject(origin), request, timeout=3)
                answer = fetch_reply_decoder.decode(reply.data)
            except (nats.errors.Error, TimeoutError) as e:
                log.warning(
                    "fetch_failed", node=self.node, origin=origin, after=last, error=repr(e)
                )
                return
            except Exception as e:
                log.error("bad_fetch_reply", node=self.node, origin=origin, error=repr(e))
                return
            records = [
                make_record(
                    origin, r.seq, r.prev, r.topic, r.originator_id, r.originator_version, r.state
                )
                if r.origin == origin
                else r
                for r in answer.records
            ]
            result = await asyncio.to_thread(self.store.apply, records)
            await self._after(result)
            log.info("gap_filled", node=self.node, origin=origin, after=last,
                     got=len(result.applied))  # fmt: skip
            if not result.applied or result.applied[-1].seq >= answer.last:
                return
            last = result.applied[-1].seq

    async def catch_up(self) -> None:
        """Fill every origin known to be behind (a gap seen earlier, an origin back online)."""
        behind = await asyncio.to_thread(self.store.behind)
        for origin, last in behind.items():
            await self.fill(origin, last)
