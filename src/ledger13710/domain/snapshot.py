"""Snapshots of long-lived items and the projector that folds stored events into an item."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from ledger13710.domain import events as ev
from ledger13710.domain.item import Item
from ledger13710.domain.state import ItemState, copy_state, evolve


class ItemSnapshot(ev.Fact[UUID, int], frozen=True, kw_only=True):
    """A snapshot of a long-lived item, so loading it does not replay every event.

    Stored, never published: the aggregate fields come from :class:`~ledger13710.domain.events.Fact`
    like every event's.
    """

    TOPIC: ClassVar[str] = "ledger13710.item.Snapshot.v1"

    state: ItemState

    @classmethod
    def take(cls, aggregate: Item) -> ItemSnapshot:
        """Freeze the aggregate's current state."""
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=aggregate.state.updated_at,
            state=copy_state(aggregate.state),
        )


ev.EVENT_TYPES[ItemSnapshot.TOPIC] = ItemSnapshot


def project_item(item: Item | None, events: Any) -> Item | None:
    """Fold stored events (and at most one leading snapshot) into an :class:`Item`."""
    state = item.state if item is not None else None
    for e in events:
        state = copy_state(e.state) if isinstance(e, ItemSnapshot) else evolve(state, e)
    if state is None:
        return None
    return item if item is not None and item.state is state else Item(state)


__all__ = ["ItemSnapshot", "copy_state", "project_item"]
