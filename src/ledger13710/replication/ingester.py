"""Ingest the subtree: every descendant's records into the replica store, exactly once.

JetStream is the fast path, not the truth. A record whose back-link does not meet the last one
applied reveals a gap; the ingester asks the origin itself for the missing records
(``fetch``), and until it gets them that origin waits. JetStream messages are acknowledged only
after the batch they came in is committed, together with the positions it advanced.

Records are verified as they are applied (content hash, chain link, key rotations); the signed
checkpoints an origin publishes on its subject (``L13710-Kind: checkpoint``) are not records:
they move no position and are checked against the replicated records once those are here.
Anything that fails is logged loudly (``record_quarantined``, ``checkpoint_rejected``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import roll_up
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.audit.store import Checkpoint
from ledger13710.domain import events as ev
from ledger13710.domain.directory import host_node, is_within, parent_government
from ledger13710.domain.state import ItemState, evolve
from ledger13710.logging import get_logger
from ledger13710.replication.envelope import (
    H_KIND,
    KIND_CHECKPOINT,
    BadRecordError,
    FetchRequest,
    Record,
    fetch_reply_decoder,
    fetch_request_encoder,
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
from ledger13710.replication.verified import REJECTED, VERIFIED, CheckpointOutcome

log = get_logger("ledger13710.ingester")
checkpoint_decoder = msgspec.json.Decoder(Checkpoint)

ITEM_TOPICS = "ledger13710.item."
STATE_CACHE_SIZE = 20_000
PROBE_EVERY_S = 15.0


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
        self._states: dict[str, ItemState] = {}  # item id -> folded replica state (LRU-ish)

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
        loop = asyncio.get_running_loop()
        last_catch_up = 0.0
        last_probe = loop.time()  # the stream delivers the backlog first; probe after that
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
            if loop.time() - last_probe > PROBE_EVERY_S:
                last_probe = loop.time()
                await self.probe()

    async def _ingest(self, msgs: list[Any]) -> None:
        records: list[Record] = []
        checkpoints: list[Checkpoint] = []
        for m in msgs:
            try:
                origin = origin_of(m.subject)
                if (m.headers or {}).get(H_KIND) == KIND_CHECKPOINT:
                    checkpoints.append(checkpoint_of(origin, m.data))
                else:
                    records.append(record_from_message(origin, m.headers, m.data))
            except (BadRecordError, ValueError) as e:
                log.error("bad_message", node=self.node, subject=m.subject, reason=str(e))
        result = await asyncio.to_thread(self.store.apply, records)
        await self._after(result)
        for cp in checkpoints:  # after the records of the same batch (they may cover them)
            self._log_checkpoints(await asyncio.to_thread(self.store.add_checkpoint, cp))
        for origin, last in result.gaps.items():
            await self.fill(origin, last)
        for m in msgs:
            await m.ack()

    def _log_checkpoints(self, outcomes: Iterable[CheckpointOutcome]) -> None:
        for o in outcomes:
            if o.status == REJECTED:
                log.error(
                    "checkpoint_rejected", node=self.node, origin=o.origin,
                    tree_size=o.tree_size, last_seq=o.last_seq, reason=o.reason,
                )  # fmt: skip
            elif o.status == VERIFIED:
                log.info(
                    "checkpoint_verified", node=self.node, origin=o.origin,
                    tree_size=o.tree_size, last_seq=o.last_seq,
                )  # fmt: skip
            else:
                log.debug("checkpoint_pending", node=self.node, origin=o.origin,
                          tree_size=o.tree_size)  # fmt: skip

    async def _after(self, result: BatchResult) -> None:
        for record, reason in result.quarantined:
            log.error(
                "record_quarantined", node=self.node, origin=record.origin, seq=record.seq,
                reason=reason,
            )  # fmt: skip
        self._log_checkpoints(result.checkpoints)
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
        """Fold each touched item forward from its cached state; roll up parts of local items."""
        by_item: dict[str, list[Record]] = {}
        for r in applied:
            if r.topic.startswith(ITEM_TOPICS):
                by_item.setdefault(r.originator_id, []).append(r)
        for oid, records in by_item.items():
            state = self._fold_forward(oid, records)
            if state is None or state.parent_id is None:
                continue
            if roll_up(self.app, state):
                log.info("part_rolled_up", node=self.node, item=state.number, state=state.state)

    def _fold_forward(self, oid: str, records: list[Record]) -> ItemState | None:
        cached = self._states.pop(oid, None)
        if cached is None or cached.version + 1 != records[0].originator_version:
            # not cached (or out of step): fold the item's whole replicated history once
            records = self.store.originator_records(oid)
            cached = None
        state = cached
        for r in records:
            event = decode_event(r.topic, r.state)
            if isinstance(event, ev.ItemEvent):
                state = evolve(state, event)
        if state is not None:
            self._states[oid] = state
            if len(self._states) > STATE_CACHE_SIZE:
                self._states.pop(next(iter(self._states)))
        return state

    async def fill(self, origin: str, last: int, *, probing: bool = False) -> None:
        """Ask ``origin`` for its records after ``last`` until the gap is closed."""
        while True:
            request = fetch_request_encoder.encode(FetchRequest(after=last, limit=500))
            try:
                reply = await self.nc.request(
                    fetch_subject(origin), request, timeout=1.0 if probing else 3.0
                )
                answer = fetch_reply_decoder.decode(reply.data)
            except (nats.errors.Error, TimeoutError) as e:
                if not probing:  # an offline node is normal when probing; a gap is not
                    log.warning(
                        "fetch_failed", node=self.node, origin=origin, after=last, error=repr(e)
                    )
                return
            except Exception as e:  # a malformed reply must not stop ingestion
                log.error("bad_fetch_reply", node=self.node, origin=origin, error=repr(e))
                return
            # as the origin sent them (hash and chain hash are checked), without a publish time
            records = [
                msgspec.structs.replace(r, published_ns=0) if r.origin == origin else r
                for r in answer.records
            ]
            result = await asyncio.to_thread(self.store.apply, records)
            await self._after(result)
            if result.applied:
                log.info(
                    "gap_filled", node=self.node, origin=origin, after=last,
                    got=len(result.applied),
                )  # fmt: skip
            if not result.applied or result.applied[-1].seq >= answer.last:
                return
            last = result.applied[-1].seq

    async def probe(self) -> None:
        """Ask every descendant node whether it has records we lack.

        A gap shows only when a later record arrives; if JetStream lost the *last* records of
        an origin that then falls silent, only asking the origin finds them.
        """
        descendants = [n for n in self.app.node_ids if n != self.node and is_within(n, self.node)]
        limit = asyncio.Semaphore(16)

        async def ask(origin: str) -> None:
            async with limit:
                last = await asyncio.to_thread(self.store.last_seq, origin)
                await self.fill(origin, last, probing=True)

        await asyncio.gather(*(ask(o) for o in descendants))

    async def catch_up(self) -> None:
        """Fill every origin known to be behind (a gap seen earlier, an origin back online)."""
        behind = await asyncio.to_thread(self.store.behind)
        for origin, last in behind.items():
            await self.fill(origin, last)


def checkpoint_of(origin: str, data: bytes) -> Checkpoint:
    """A checkpoint message from ``origin``'s subject; ValueError names what is wrong."""
    try:
        cp = checkpoint_decoder.decode(data)
    except msgspec.DecodeError as e:
        raise ValueError(f"bad checkpoint: {e}") from None
    if cp.origin != origin:
        raise ValueError(f"checkpoint of {cp.origin!r} on the subject of {origin!r}")
    return cp
