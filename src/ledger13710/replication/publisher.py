"""Publish the node's own log upward, in log order, from the log itself (the outbox).

The local store is the outbox: nothing is published that is not stored first, and the
publisher's cursor moves only after JetStream acknowledged every record of a batch. While NATS
or the parent is unreachable the node keeps working; the publisher retries and catches up.
Each record is published once per ``Nats-Msg-Id`` (``<origin>:<seq>``); a republished record
after a crash is dropped by JetStream's duplicate window, or later by the parent's replica
store, which keys records by (origin, seq).

Events that call for action on a lower node (a part sub-assigned there, a review decision on
it) also become a message in that node's inbox, published in the same pass.

Signed checkpoints (``audit/checkpoints.py``) follow on the same subject once every record they
cover is published (``L13710-Kind: checkpoint``, ``Nats-Msg-Id`` ``<origin>:cp:<tree_size>``),
so the parent holds them before anyone at the origin could rewrite what they cover. The parent
applies nothing unsigned, so the publisher *seals* each batch: once JetStream acknowledged it,
a checkpoint ending at its last record is signed and published right after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import inbox_encoder, outbound_message
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.application.recorders import chain_hashes
from ledger13710.audit.store import Checkpoint, open_audit_store
from ledger13710.config.node import NodeConfig
from ledger13710.domain import events as ev
from ledger13710.log.record import (
    H_KIND,
    H_MSG_ID,
    H_ORIGIN,
    KIND_CHECKPOINT,
    Record,
    headers_of,
    make_record,
)
from ledger13710.logging import get_logger
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.subjects import events_subject, inbox_subject
from ledger13710.threads import run_sync

log = get_logger("ledger13710.publisher")

PUBLISHED = "published"
#: Outbound position: the tree size of the last checkpoint published.
CHECKPOINT_PUBLISHED = "checkpoint_published"
INBOX_TOPICS = frozenset({ev.SubAssigned.TOPIC, ev.PartReviewed.TOPIC})


def read_log(app: LedgerApp, origin: str, after: int, limit: int) -> list[Record]:
    """The node's own records after position ``after`` (an existing position, or 0), each with
    its chain hash (written in the same transaction as the event, so always there)."""
    notifications = app.recorder.select_notifications(start=after + 1, limit=limit)
    if not notifications:
        return []
    chain = chain_hashes(app.recorder, notifications[0].id, notifications[-1].id)
    records = []
    prev = after
    for n in notifications:
        r = make_record(
            origin, n.id, prev, n.topic, str(n.originator_id), n.originator_version, n.state
        )
        link = chain.get(n.id)
        records.append(msgspec.structs.replace(r, chain=link.hex()) if link else r)
        prev = n.id
    return records


def checkpoints_to_publish(
    node_dir: Path, after_size: int, upto_seq: int, config: NodeConfig | None = None
) -> list[Checkpoint]:
    """Checkpoints larger than ``after_size`` whose records are published (up to ``upto_seq``)."""
    store = open_audit_store(node_dir, config=config)
    try:
        found = store.checkpoints()
    finally:
        store.close()
    return [cp for cp in found if cp.tree_size > after_size and cp.last_seq <= upto_seq]


def covering_checkpoint(
    node_dir: Path, seq: int, config: NodeConfig | None = None
) -> Checkpoint | None:
    """The node's smallest checkpoint that covers position ``seq`` (None if none does yet)."""
    store = open_audit_store(node_dir, config=config)
    try:
        found = store.checkpoints()
    finally:
        store.close()
    return next((cp for cp in found if cp.last_seq >= seq), None)


class Publisher:
    """Moves the node's log to JetStream; one per node process."""

    def __init__(
        self,
        app: LedgerApp,
        store: ReplicaStore,
        js: JetStreamContext,
        *,
        batch: int = 512,
        poll_s: float = 0.05,
        ack_timeout_s: float = 10.0,
        node_dir: Path | None = None,
        checkpoint_poll_s: float = 1.0,
        seal: Callable[[int], Checkpoint | None] | None = None,
        config: NodeConfig | None = None,
    ) -> None:
        self.app = app
        self.node = app.node_id
        self.store = store
        self.js = js
        self.batch = batch
        self.poll_s = poll_s
        self.ack_timeout_s = ack_timeout_s
        self.subject = events_subject(self.node)
        self.node_dir = node_dir  # None: checkpoints are not published
        self.checkpoint_poll_s = checkpoint_poll_s
        self.checkpoints_due = asyncio.Event()  # set when a checkpoint was just made
        #: signs a checkpoint ending at a position (with ``node_dir``: after every batch)
        self.seal = seal
        self.sealed = 0  # the position up to which a checkpoint is signed and published
        self.config = config  # the node's node.toml, loaded (spares a parse per checkpoint)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set.

        While JetStream acknowledges a batch, the next one is read from the log (reading
        publishes nothing); the cursor moves only once every record of a batch is acknowledged.
        """
        position = self.store.get_position(PUBLISHED)[0]
        backoff = 0.2
        loop = asyncio.get_running_loop()
        last_cp_check = 0.0
        ahead: asyncio.Future[list[Record]] | None = None  # the batch after ``position``
        saving: asyncio.Future[None] | None = None  # the cursor being written
        if position:  # what was published before a restart may never have been sealed
            await self._sealed(position)
        try:
            while not stop.is_set():
                cp_due = self.checkpoints_due.is_set()
                if self.node_dir is not None and (
                    cp_due or loop.time() - last_cp_check > self.checkpoint_poll_s
                ):
                    self.checkpoints_due.clear()
                    last_cp_check = loop.time()
                    await _saved(saving)
                    try:
                        await self._publish_checkpoints(position)
                    except Exception as e:  # NATS away, the store locked: the next pass retries
                        log.warning("checkpoint_publish_failed", node=self.node, error=repr(e))
                if ahead is None:
                    ahead = self._read(position)
                records, ahead = await ahead, None
                if not records:
                    await self._idle(stop, position)
                    continue
                try:
                    futures = await self._send(records)
                    ahead = self._read(records[-1].seq)  # read on while the acks come in
                    async with asyncio.timeout(self.ack_timeout_s):
                        await asyncio.gather(*futures)
                except (nats.errors.Error, TimeoutError, nats.js.errors.Error) as e:
                    log.warning(
                        "publish_failed", node=self.node, after=position, error=repr(e),
                        retry_in_s=backoff,
                    )  # fmt: skip
                    await _discard(ahead)
                    ahead = None
                    await _sleep(stop, backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.2
                position = records[-1].seq
                # written while the next batch goes out (a cursor lost in a crash only
                # republishes what JetStream and the parent drop as duplicates)
                await _saved(saving)
                saving = asyncio.ensure_future(
                    run_sync(self.store.set_position, PUBLISHED, position)
                )
                log.debug("published", node=self.node, upto=position, count=len(records))
                await _saved(saving)
                await self._sealed(position)
        finally:
            await _discard(ahead)
            await _saved(saving)

    def _read(self, after: int) -> asyncio.Future[list[Record]]:
        """The log's next batch after ``after``, read in a worker thread."""
        return asyncio.ensure_future(run_sync(read_log, self.app, self.node, after, self.batch))

    async def _idle(self, stop: asyncio.Event, position: int) -> None:
        """Nothing new to publish: seal what the last seal failed to (nothing else would), then
        wait a poll interval."""
        if self.sealed < position:
            await self._sealed(position)
        await _sleep(stop, self.poll_s)

    async def _sealed(self, position: int) -> None:
        """Sign a checkpoint ending at ``position`` and publish it (when sealing)."""
        if self.seal is None or self.node_dir is None:
            return
        try:
            await run_sync(self.seal, position)
            await self._publish_checkpoints(position)
        except Exception as e:  # NATS away, the store locked: retried when idle
            log.warning("checkpoint_publish_failed", node=self.node, error=repr(e))
            return
        self.sealed = position

    async def _publish_checkpoints(self, position: int) -> None:
        """Publish every checkpoint not published yet whose records are (in order)."""
        assert self.node_dir is not None
        after = self.store.get_position(CHECKPOINT_PUBLISHED)[0]
        found = await run_sync(checkpoints_to_publish, self.node_dir, after, position, self.config)
        for cp in found:
            headers = {
                H_MSG_ID: f"{self.node}:cp:{cp.tree_size}",
                H_KIND: KIND_CHECKPOINT,
                H_ORIGIN: self.node,
            }
            async with asyncio.timeout(self.ack_timeout_s):
                await self.js.publish(self.subject, msgspec.json.encode(cp), headers=headers)
            await run_sync(self.store.set_position, CHECKPOINT_PUBLISHED, cp.tree_size)
            log.info(
                "checkpoint_published", node=self.node, tree_size=cp.tree_size,
                last_seq=cp.last_seq,
            )  # fmt: skip

    async def _send(self, records: list[Record]) -> list[asyncio.Future[Any]]:
        """Publish ``records`` (and their inbox messages) without waiting; the ack futures."""
        futures: list[asyncio.Future[Any]] = []
        for r in records:
            futures.append(
                await self.js.publish_async(self.subject, r.state, headers=headers_of(r))
            )
            if r.topic in INBOX_TOPICS:
                futures.extend(await self._deliver(r))
        return futures

    async def _deliver(self, r: Record) -> list[asyncio.Future[Any]]:
        event = decode_event(r.topic, r.state)
        found = await run_sync(outbound_message, self.app, r.seq, event)
        if found is None:
            return []
        target, message = found
        headers = {H_MSG_ID: f"{self.node}:{r.seq}", H_KIND: "inbox"}
        fut = await self.js.publish_async(
            inbox_subject(target), inbox_encoder.encode(message), headers=headers
        )
        log.info("inbox_sent", node=self.node, to=target, seq=r.seq, item=event.child_number)
        return [fut]


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


async def _discard(ahead: asyncio.Future[list[Record]] | None) -> None:
    """Let a read ahead finish (a worker thread cannot be stopped) and drop what it read."""
    if ahead is not None:
        with contextlib.suppress(Exception):
            await asyncio.shield(ahead)


async def _saved(saving: asyncio.Future[None] | None) -> None:
    """Wait until the cursor being written is written."""
    if saving is not None:
        await asyncio.shield(saving)
