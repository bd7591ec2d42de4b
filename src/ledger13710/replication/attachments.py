"""Attachments up the tiers, through the JetStream Object Store, beside the events.

Each node owns one bucket (``L13710_ATT_<node>``, :func:`subjects.attachment_bucket`); the
server lets only that node write it and only its ancestors read it. Two loops, each with a
cursor in the replica store's ``outbound`` table, so they resume where they stopped:

- **upload** follows the node's own log: each file an event names is put into the node's
  bucket under its SHA-256 (once); a recorded erasure deletes it from the bucket too.
- **fetch** (upper tiers) follows every replicated origin's log: each file an event names is
  fetched from the origin's bucket, checked against the SHA-256 the event records and only then
  written into this node's content-addressed store; a replicated erasure deletes the local copy.

Events never wait for attachments: these loops run apart from the publisher and the ingester.
A file the origin has not uploaded yet (a slow link) holds that origin's fetch cursor until it
arrives; bytes that do not match their hash are refused, logged, and asked for again later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import nats.errors
import nats.js.errors
from nats.js.client import JetStreamContext
from nats.js.object_store import ObjectStore

from ledger13710.application.attachments import AttachmentStore, Status
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.domain import events as ev
from ledger13710.domain.errors import InputError
from ledger13710.logging import get_logger
from ledger13710.replication import subjects as sj
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.threads import run_sync

log = get_logger("ledger13710.attachments")

UPLOADED = "attachments-uploaded"
_BATCH = 200
_UNREACHABLE = (nats.errors.Error, TimeoutError, OSError)


def fetched_cursor(origin: str) -> str:
    """The replica store cursor of ``origin``'s fetched attachments."""
    return f"attachments-fetched:{origin}"


def named(topic: str, state: bytes) -> tuple[Sequence[ev.Attachment], str]:
    """The attachments a stored event names, and the SHA-256 it erases ("" when none)."""
    if b'"sha256"' not in state:
        return (), ""
    e = decode_event(topic, state)
    erased = e.sha256 if isinstance(e, ev.AttachmentErased) else ""
    return getattr(e, "attachments", ()), erased


class AttachmentSync:
    """The upload and fetch loops of one node (see the module docstring)."""

    def __init__(
        self, app: LedgerApp, replicas: ReplicaStore, js: JetStreamContext, *, interval: float = 0.5
    ) -> None:
        self.app, self.replicas, self.js, self.interval = app, replicas, js, interval
        self.node_id = app.node_id
        self.files: AttachmentStore = app.attachment_store()
        self._buckets: dict[str, ObjectStore] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Upload and fetch until ``stop``; an unreachable server or bucket is retried."""
        while not stop.is_set():
            try:
                moved = await self.upload_once() + await self.fetch_once()
            except _UNREACHABLE as e:  # an outage, or a bucket not created (leaf topology)
                log.warning("attachments_waiting", node=self.node_id, error=repr(e))
                moved = -1
            if moved <= 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.interval * (10 if moved else 1)):
                        await stop.wait()

    async def _bucket(self, origin: str) -> ObjectStore:
        if origin not in self._buckets:
            self._buckets[origin] = await self.js.object_store(sj.attachment_bucket(origin))
        return self._buckets[origin]

    async def upload_once(self) -> int:
        """Put the files of the node's next logged events into its bucket; how many events."""
        after, _ = await run_sync(self.replicas.get_position, UPLOADED)
        notes = await run_sync(
            self.app.recorder.select_notifications, start=after + 1, limit=_BATCH
        )
        for n in notes:
            attachments, erased = named(n.topic, n.state)
            if attachments or erased:
                bucket = await self._bucket(self.node_id)
            for a in attachments:
                await self._upload(bucket, a)
            if erased:
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await bucket.delete(erased)
        if notes:  # once per batch: a batch redone after a failure uploads nothing twice
            await run_sync(self.replicas.set_position, UPLOADED, notes[-1].id)
        return len(notes)

    async def _upload(self, bucket: ObjectStore, a: ev.Attachment) -> None:
        path = self.files.path_of(a.sha256)
        if not path.is_file():
            return  # erased before it was uploaded: the erasure event follows
        with contextlib.suppress(nats.js.errors.NotFoundError):
            info = await bucket.get_info(a.sha256)
            if not info.deleted:
                return
        await bucket.put(a.sha256, await run_sync(path.read_bytes))
        log.info("attachment_uploaded", node=self.node_id, sha256=a.sha256, size=a.size)

    async def fetch_once(self) -> int:
        """Fetch the files the descendants' next replicated events name; how many events."""
        origins = await run_sync(self.replicas.statuses)
        moved = 0
        for status in origins:
            moved += await self._fetch_origin(status.origin)
        return moved

    async def _fetch_origin(self, origin: str) -> int:
        cursor = fetched_cursor(origin)
        after, _ = await run_sync(self.replicas.get_position, cursor)
        records = await run_sync(self.replicas.records, origin, after, _BATCH)
        done = 0
        for r in records:
            attachments, erased = named(r.topic, r.state)
            fetched = [await self.fetch(origin, a) for a in attachments]
            if not all(fetched):
                break  # not there yet (or bad bytes): this origin waits, the others go on
            if erased:
                await run_sync(self.files.erase, erased)
            done, after = done + 1, r.seq
        if done:
            await run_sync(self.replicas.set_position, cursor, after)
        return done

    async def fetch(self, origin: str, a: ev.Attachment) -> bool:
        """Fetch one file from ``origin``'s bucket into this node, only if it hashes right."""
        if await run_sync(self.files.check, a.sha256) is Status.OK:
            return True
        try:
            obj = await (await self._bucket(origin)).get(a.sha256)
        except nats.js.errors.NotFoundError:
            return False
        data = obj.data or b""
        try:
            await run_sync(self.files.write, a, iter([data]), what=f"{origin}/{a.name}")
        except InputError:
            log.error("attachment_refused", node=self.node_id, origin=origin, sha256=a.sha256,
                      reason="the bytes do not hash to the SHA-256 the event records")  # fmt: skip
            return False
        log.info("attachment_fetched", node=self.node_id, origin=origin, sha256=a.sha256)
        return True


__all__ = ["UPLOADED", "AttachmentSync", "fetched_cursor", "named"]
