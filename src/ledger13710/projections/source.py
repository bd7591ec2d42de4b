"""Where the views read events: the node's own log, and at upper tiers its subtree's replicas.

The replicas come through :class:`ReplicaLog`, the interface the application layer defines; the
composition root (``node/views.py``) hands in the replication's store.

Both are followed by position (eventsourcing's SQLite recorder has no ``subscribe()``): the
own log by notification id, each replicated origin by its sequence in the origin's log.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
from eventsourcing.persistence import ApplicationRecorder

from ledger13710.application.replicas import ReplicaLog


class SourceRecord(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One stored event as the views see it (atomic fields only: not tracked by the GC)."""

    origin: str
    seq: int
    topic: str
    state: bytes


class EventSource:
    """A node's events by origin: its own log (``own``) and the replicas beside it."""

    def __init__(
        self, own: str, recorder: ApplicationRecorder, replicas: ReplicaLog | None
    ) -> None:
        self.own = own
        self.recorder = recorder
        self.replicas = replicas

    def close(self) -> None:
        """Close the replica store (the recorder belongs to the node)."""
        if self.replicas is not None:
            self.replicas.close()

    def origins(self) -> list[str]:
        """The own node first, then every replicated origin."""
        others = [] if self.replicas is None else [s.origin for s in self.replicas.statuses()]
        return [self.own, *(o for o in others if o != self.own)]

    def last(self, origin: str) -> int:
        """The last position held for ``origin``."""
        if origin == self.own:
            return self.recorder.max_notification_id() or 0
        return 0 if self.replicas is None else self.replicas.last_seq(origin)

    def batches(self, origin: str, after: int, size: int) -> Iterator[list[SourceRecord]]:
        """``origin``'s records after position ``after``, in order, ``size`` at a time."""
        if origin == self.own:
            yield from self._own_batches(after, size)
            return
        if self.replicas is None:
            return
        while True:
            records = self.replicas.records(origin, after, limit=size)
            if not records:
                return
            yield [SourceRecord(r.origin, r.seq, r.topic, r.state) for r in records]
            after = records[-1].seq
            if len(records) < size:
                return

    def _own_batches(self, after: int, size: int) -> Iterator[list[SourceRecord]]:
        while True:
            batch = self.recorder.select_notifications(start=after + 1, limit=size)
            if not batch:
                return
            yield [SourceRecord(self.own, n.id, n.topic, bytes(n.state)) for n in batch]
            after = batch[-1].id
            if len(batch) < size:
                return
