"""Ingest the subtree: every descendant's records into the replica store, exactly once.

JetStream is the fast path, not the truth. A record whose back-link does not meet the last one
applied reveals a gap; the ingester asks the origin itself for the missing records
(``fetch``), and until it gets them that origin waits. JetStream messages are acknowledged only
after the batch they came in is committed, together with the positions it advanced.

Records are checked as they arrive (content hash, back-link, chain link) and held; the signed
checkpoints an origin publishes on its subject (``L13710-Kind: checkpoint``) are not records:
each one applies the held records it covers (``held.py``), which are then verified as applied
(key rotations, the Merkle root). Only nodes of this node's configured subtree are ingested:
messages of any other origin are refused (``origin_refused``) and counted. Anything that fails
is logged loudly (``record_quarantined``, ``checkpoint_rejected``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable
from typing import Any

import msgspec
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import roll_up
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.audit.store import Checkpoint
from ledger13710.domain import events as ev
from ledger13710.domain.directory import host_node, is_within, parent_government
from ledger13710.domain.state import ItemState, evolve
from ledger13710.log.record import (
    H_KIND,
    KIND_CHECKPOINT,
    BadRecordError,
    FetchRequest,
    Record,
    fetch_reply_decoder,
    fetch_request_encoder,
    record_from_message,
)
from ledger13710.logging import get_logger
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
from ledger13710.threads import run_sync

log = get_logger("ledger13710.ingester")
checkpoint_decoder = msgspec.json.Decoder(Checkpoint)

ITEM_TOPICS = "ledger13710.item."
STATE_CACHE_SIZE = 20_000
PROBE_EVERY_S = 15.0
LINGER_S = 0.05  # how long a batch ending in a record waits for the checkpoint sealing it
STATUS, DESCRIPTION = Header.STATUS.value, Header.DESCRIPTION.value
NOT_KNOWN = "not a node of this node's directory, and no key configured for it (node trust)"


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
        trusted: Iterable[str] = (),
    ) -> None:
        self.app = app
        #: the origins this node ingests: the nodes of its directory, and those it trusts a key of
        self.known = frozenset(app.node_ids) | frozenset(trusted)
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
        sub = Pull(self.nc, EVENTS_STREAM, durable)
        await sub.start()
        loop = asyncio.get_running_loop()
        last_catch_up = 0.0
        last_probe = loop.time()  # the stream delivers the backlog first; probe after that
        ahead: asyncio.Task[list[Msg] | None] | None = None  # the next fetch, under way
        try:
            while not stop.is_set():
                if ahead is None:
                    ahead = asyncio.create_task(self._fetch(sub))
                msgs, ahead = await ahead, None
                if msgs is None:  # fetching failed
                    await asyncio.sleep(0.5)
                    continue
                if msgs:
                    # the next batch is fetched while this one is applied; it is applied (and
                    # acknowledged) after this one, never before
                    ahead = asyncio.create_task(self._fetch(sub))
                    await self._ingest(msgs)
                if loop.time() - last_catch_up > self.catch_up_every_s:
                    last_catch_up = loop.time()
                    await self.catch_up()
                if loop.time() - last_probe > PROBE_EVERY_S:
                    last_probe = loop.time()
                    await self.probe()
        finally:
            if ahead is not None:  # its messages, unacknowledged, are delivered again
                ahead.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ahead
            await sub.stop()

    async def _fetch(self, sub: Pull) -> list[Msg] | None:
        """The next batch of messages ([] when none came in time, None when fetching failed).

        A batch that ends with a record lingers briefly for what follows: the checkpoint that
        seals it is on its way, and applied in the same transaction it costs one commit, not
        two (records are held until it comes anyway)."""
        try:
            msgs = await sub.fetch(self.batch, timeout=0.5)
            if msgs and len(msgs) < self.batch and not _is_checkpoint(msgs[-1]):
                msgs += await sub.fetch(self.batch - len(msgs), timeout=LINGER_S)
            return msgs
        except nats.errors.Error as e:
            log.warning("ingest_fetch_failed", node=self.node, error=repr(e))
            return None

    async def _ingest(self, msgs: list[Msg]) -> None:
        records: list[Record] = []
        checkpoints: list[Checkpoint] = []
        refused: dict[str, int] = {}
        for m in msgs:
            try:
                origin = origin_of(m.subject)
                if origin not in self.known:
                    refused[origin] = refused.get(origin, 0) + 1
                elif _is_checkpoint(m):
                    checkpoints.append(checkpoint_of(origin, m.data))
                else:
                    records.append(record_from_message(origin, m.headers, m.data))
            except (BadRecordError, ValueError) as e:
                log.error("bad_message", node=self.node, subject=m.subject, reason=str(e))
        for origin, count in refused.items():
            log.error("origin_refused", node=self.node, origin=origin, messages=count,
                      reason=NOT_KNOWN)  # fmt: skip
            await run_sync(self.store.refuse, origin, NOT_KNOWN, count)
        result = await run_sync(self.store.receive, records, checkpoints)
        await self._after(result)
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
        await run_sync(self._roll_up, result.applied)
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
        """Ask ``origin`` for its records after ``last`` until its last one (those held
        already come again as duplicates)."""
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
            except msgspec.DecodeError as e:  # a malformed reply must not stop ingestion
                log.error("bad_fetch_reply", node=self.node, origin=origin, error=repr(e))
                return
            # as the origin sent them (hash and chain hash are checked), without a publish time
            records = [
                msgspec.structs.replace(r, published_ns=0) if r.origin == origin else r
                for r in answer.records
            ]
            try:
                signed = [checkpoint_of(origin, answer.checkpoint)] if answer.checkpoint else []
            except ValueError as e:
                log.error("bad_fetch_reply", node=self.node, origin=origin, error=str(e))
                signed = []
            result = await run_sync(self.store.receive, records, signed)
            await self._after(result)
            if result.held:
                log.info(
                    "gap_filled", node=self.node, origin=origin, after=last, got=result.held,
                )  # fmt: skip
            if not records or records[-1].seq >= answer.last:
                return
            last = records[-1].seq

    async def probe(self) -> None:
        """Ask every descendant node whether it has records we lack.

        A gap shows only when a later record arrives; if JetStream lost the *last* records of
        an origin that then falls silent, only asking the origin finds them.
        """
        descendants = [n for n in self.known if n != self.node and is_within(n, self.node)]
        limit = asyncio.Semaphore(16)

        async def ask(origin: str) -> None:
            async with limit:
                last = await run_sync(self.store.frontier, origin)
                await self.fill(origin, last, probing=True)

        await asyncio.gather(*(ask(o) for o in descendants))

    async def catch_up(self) -> None:
        """Fill every origin known to be behind (a gap seen earlier, an origin back online)."""
        behind = await run_sync(self.store.behind)
        for origin, last in behind.items():
            await self.fill(origin, last)


def _is_checkpoint(m: Msg) -> bool:
    return (m.headers or {}).get(H_KIND) == KIND_CHECKPOINT


def checkpoint_of(origin: str, data: bytes) -> Checkpoint:
    """A checkpoint message from ``origin``'s subject; ValueError names what is wrong."""
    try:
        cp = checkpoint_decoder.decode(data)
    except msgspec.DecodeError as e:
        raise ValueError(f"bad checkpoint: {e}") from None
    if cp.origin != origin:
        raise ValueError(f"checkpoint of {cp.origin!r} on the subject of {origin!r}")
    return cp


class Pull:
    """Fetching from a durable pull consumer, as ``PullSubscription.fetch`` does, minus its cost.

    nats-py's ``fetch`` waits for every message in a task of its own (with a timer and a uuid);
    at thousands of records a second that is most of the ingester's time. Here the messages of
    a pull request arrive through a plain subscription on our own inbox and are taken in
    batches. The protocol is JetStream's: ask for what is there now (``no_wait``), and when
    nothing is, wait for the next messages (``expires``). At most one request is open; one that
    ended without our hearing it (a reconnect) is given up after its expiry.
    """

    def __init__(self, nc: Client, stream: str, durable: str) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.msgs: list[Msg] = []
        self.arrived = asyncio.Event()
        self.remaining = 0  # messages the open request may still deliver (0: none open)
        self.deadline = 0.0  # when the open request is given up (loop time)
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to the inbox the consumer delivers to."""
        self._sub = await self.nc.subscribe(self.inbox, cb=self._on_msg)

    async def stop(self) -> None:
        """Unsubscribe (messages not taken yet are delivered again after the ack wait)."""
        if self._sub is not None and not self.nc.is_closed:
            with contextlib.suppress(nats.errors.Error):
                await self._sub.unsubscribe()
        self._sub = None

    async def _on_msg(self, msg: Msg) -> None:
        if not msg.data and msg.headers and STATUS in msg.headers:
            if msg.headers[STATUS] != "100":  # 404, 408: nothing more now; 409: refused
                self.remaining = 0
                if msg.headers[STATUS] == "409":
                    log.warning("ingest_pull_refused", reason=msg.headers.get(DESCRIPTION, ""))
        else:
            self.msgs.append(msg)
            self.remaining = max(0, self.remaining - 1)
        self.arrived.set()

    def _open(self) -> bool:
        return self.remaining > 0 and asyncio.get_running_loop().time() < self.deadline

    async def _request(self, batch: int, *, expires: float | None) -> None:
        body: dict[str, Any] = {"batch": batch}
        if expires is None:
            body["no_wait"] = True
        else:
            body["expires"] = int(expires * 1e9)
        self.remaining = batch
        self.deadline = asyncio.get_running_loop().time() + (expires or 0.0) + 2.0
        await self.nc.publish(self.subject, json.dumps(body).encode(), reply=self.inbox)

    async def _wait(self, timeout: float, *, until_ended: bool) -> None:
        """Until the open request ended (or, unless ``until_ended``, a message came)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._open() and (until_ended or not self.msgs):
                    self.arrived.clear()
                    await self.arrived.wait()

    async def fetch(self, batch: int, timeout: float) -> list[Msg]:
        """Up to ``batch`` messages in delivery order ([] when none came within ``timeout``)."""
        if not self.msgs:
            if not self._open():
                await self._request(batch, expires=None)  # what is there now
                await self._wait(timeout, until_ended=True)
            if not self.msgs:
                if not self._open():
                    await self._request(batch, expires=timeout)  # wait for what comes next
                await self._wait(timeout, until_ended=False)
        taken, self.msgs = self.msgs[:batch], self.msgs[batch:]
        return taken
