"""An item exactly as it stood at an instant, folded from the stored events with ``evolve``.

Reads from any node that holds the item: its own log, or its replicas of lower nodes' logs
(``replicas.sqlite``), read-only in both cases.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger13710.application.mapper import decode_event
from ledger13710.audit.store import open_audit_store
from ledger13710.domain import events as ev
from ledger13710.domain.errors import NotFoundError
from ledger13710.domain.item import item_id
from ledger13710.domain.state import ItemState, evolve


@dataclass(frozen=True)
class Replay:
    """The state as of ``as_of``, the events it folds, and where they were read."""

    state: ItemState
    events: list[ev.ItemEvent]
    source: str


def _own(node_dir: Path, number: str) -> list[tuple[str, bytes]]:
    store = open_audit_store(node_dir)
    try:
        return [(r.topic, r.state) for r in store.originator_rows(item_id(number))]
    finally:
        store.close()


def _replicated(node_dir: Path, number: str) -> list[tuple[str, bytes]]:
    path = node_dir / "replicas.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT topic, state FROM replica_events WHERE originator_id = ? "
            "ORDER BY originator_version",
            (str(item_id(number)),),
        ).fetchall()
    finally:
        db.close()
    return [(topic, bytes(state)) for topic, state in rows]


def replay(node_dir: Path, number: str, as_of: datetime) -> Replay:
    """Item ``number`` as of ``as_of``: every event stamped at or before it, folded."""
    rows, source = _own(node_dir, number), "log"
    if not rows:
        rows, source = _replicated(node_dir, number), "replicas"
    if not rows:
        raise NotFoundError(f"no item {number!r} in {node_dir} (neither its log nor its replicas)")
    events = [e for e in (decode_event(t, s) for t, s in rows) if e.timestamp <= as_of]
    state: ItemState | None = None
    for e in events:
        state = evolve(state, e)
    if state is None:
        raise NotFoundError(f"item {number!r} was not registered yet at {as_of.isoformat()}")
    return Replay(state=state, events=events, source=source)
