"""A node's views, opened: its read store, its event source and the projector between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder

from ledger13710.projections.projector import Projector
from ledger13710.projections.source import EventSource
from ledger13710.projections.store import VIEWS_FILE, ReadStore
from ledger13710.replication.replica_store import ReplicaStore

REPLICAS_FILE = "replicas.sqlite"


def event_source(own: str, recorder: ApplicationRecorder, node_dir: Path) -> EventSource:
    """The source of a node directory; a leaf without ``replicas.sqlite`` has only its log."""
    path = node_dir / REPLICAS_FILE
    return EventSource(own, recorder, ReplicaStore(path) if path.exists() else None)


@asynccontextmanager
async def open_views(
    node_dir: Path, node_id: str, recorder: ApplicationRecorder, *, batch: int = 5000
) -> AsyncIterator[Projector]:
    """Open ``views.sqlite`` of the node in ``node_dir`` and the events it is built from."""
    store = await ReadStore.open(node_dir / VIEWS_FILE)
    source = event_source(node_id, recorder, node_dir)
    try:
        yield Projector(store, source, batch=batch)
    finally:
        source.close()
        await store.close()
