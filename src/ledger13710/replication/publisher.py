"""Publish the node's own log upward, in log order, from the log itself (the outbox).

The local store is the outbox: nothing is published that is not stored first, and the
publisher's cursor moves only after JetStream acknowledged every record of a batch. While NATS
or the parent is unreachable the node keeps working; the publisher retries and catches up.
Each record is published once per ``Nats-Msg-Id`` (``<origin>:<seq>``); a republished record
after a crash is dropped by JetStream's duplicate window, or later by the parent's replica
store, which keys records by (origin, seq).

Events that call for action on a lower node (a part sub-assigned there, a review decision on
it) also become a message in that node's inbox, published in the same pass.
"""

from __future__ import annotations

import asyncio
from typing import Any

import nats.errors
import nats.js.errors
from nats.js.client import JetStreamContext

from ledger13710.application.inbound import inbox_encoder, outbound_message
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.domain import events as ev
from ledger13710.logging import get_logger
from ledger13710.replication.envelope import H_KIND, H_MSG_ID, Record, headers_of, make_record
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.subjects import events_subject, inbox_subject

log = get_logger("ledger13710.publisher")

PUBLISHED = "published"
INBOX_TOPICS = frozenset({ev.SubAssigned.TOPIC, ev.PartReviewed.TOPIC})


def read_log(app: LedgerApp, origin: str, after: int, limit: int) -> list[Record]:
    """The node's own records after position ``after`` (an existing position, or 0)."""
    notifications = app.recorder.select_notifications(start=after + 1, limit=limit)
    records = []
    prev = after
    for n in notifications:
        records.append(
            make_record(
                origin, n.id, prev, n.topic, str(n.originator_id), n.originator_version, n.state
            )
        )
        prev = n.id
    return records


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
    ) -> None:
        self.app = app
        self.node = app.node_id
        self.store = store
        self.js = js
        self.batch = batch
        self.poll_s = poll_s
        self.ack_timeout_s = ack_timeout_s
        self.subject = events_subject(self.node)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set."""
        position = self.store.get_position(PUBLISHED)[0]
        backoff = 0.2
        while not stop.is_set():
            records = await asyncio.to_thread(read_log, self.app, self.node, position, self.batch)
            if not records:
                await _sleep(stop, self.poll_s)
                continue
            try:
                await self._publish(records)
            except (nats.errors.Error, TimeoutError, nats.js.errors.Error) as e:
                log.warning(
                    "publish_failed", node=self.node, after=position, error=repr(e),
                    retry_in_s=backoff,
                )  # fmt: skip
                await _sleep(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            position = records[-1].seq
            await asyncio.to_thread(self.store.set_position, PUBLISHED, position)
            log.debug("published", node=self.node, upto=position, count=len(records))

    async def _publish(self, records: list[Record]) -> None:
        futures: list[asyncio.Future[Any]] = []
        for r in records:
            futures.append(
                await self.js.publish_async(self.subject, r.state, headers=headers_of(r))
            )
            if r.topic in INBOX_TOPICS:
                futures.extend(await self._deliver(r))
        async with asyncio.timeout(self.ack_timeout_s):
            await asyncio.gather(*futures)

    async def _deliver(self, r: Record) -> list[asyncio.Future[Any]]:
        event = decode_event(r.topic, r.state)
        found = await asyncio.to_thread(outbound_message, self.app, r.seq, event)
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
