"""A node's points, opened: its points store, its event source and the projector between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from eventsourcing.persistence import ApplicationRecorder

from ledger13710.domain.points_rules import PointsRules
from ledger13710.node.views import event_source
from ledger13710.projections.points import POINTS_FILE, PointsProjector, PointsStore


@asynccontextmanager
async def open_points(
    node_dir: Path, node_id: str, recorder: ApplicationRecorder, rules: PointsRules
) -> AsyncIterator[PointsProjector]:
    """Open ``points.sqlite`` of the node in ``node_dir`` and the events it is priced from."""
    store = await PointsStore.open(node_dir / POINTS_FILE)
    source = event_source(node_id, recorder, node_dir)
    try:
        yield PointsProjector(store, source, rules)
    finally:
        source.close()
        await store.close()
