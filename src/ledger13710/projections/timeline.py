"""The item timeline: every event of an item with actor, unit, time, origin node and sequence,
and each clock's due time next to when it was met (from the item's folded state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ledger13710.domain.errors import NotFoundError
from ledger13710.domain.item import item_id
from ledger13710.projections import rows as rows_of
from ledger13710.projections.rows import from_us, from_us_opt, state_decoder
from ledger13710.projections.store import ReadStore

_payload = msgspec.json.Decoder(dict[str, Any])
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "actor", "unit"}


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One event of the item."""

    version: int
    at: datetime
    kind: str
    actor: str
    unit: str
    origin: str
    seq: int
    fields: dict[str, Any]


class ClockLine(msgspec.Struct, frozen=True, kw_only=True):
    """One clock: due, done, and whether it was met late."""

    clock: str
    due_at: datetime
    done_at: datetime | None
    late: bool
    open: bool


class Timeline(msgspec.Struct, frozen=True, kw_only=True):
    """An item's history as the node holds it."""

    number: str
    events: list[TimelineEvent]
    clocks: list[ClockLine]


async def timeline(store: ReadStore, number: str) -> Timeline:
    """The timeline of item ``number``."""
    iid = item_id(number).hex
    rows = await store.fetchall(
        "SELECT version, at, kind, actor, unit, origin, seq, payload FROM timeline "
        "WHERE item_id = ? ORDER BY version",
        (iid,),
    )
    if not rows:
        raise NotFoundError(f"no item {number!r} in this node's views")
    events = [
        TimelineEvent(
            version=v,
            at=from_us(at),
            kind=k,
            actor=a,
            unit=u,
            origin=o,
            seq=s,
            fields={f: x for f, x in _payload.decode(p).items() if f not in _ENVELOPE},
        )
        for v, at, k, a, u, o, s, p in rows
    ]
    found = await store.fetchone("SELECT blob FROM item_states WHERE id = ?", (iid,))
    clock_rows = [] if found is None else rows_of.clock_rows(state_decoder.decode(found[0]))
    clocks = [
        ClockLine(
            clock=c,
            due_at=from_us(d),
            done_at=from_us_opt(m),
            late=m is not None and m > d,
            open=bool(o),
        )
        for _iid, c, _kind, d, m, o, _remind in sorted(clock_rows, key=lambda r: (r[3], r[1]))
    ]
    return Timeline(number=number, events=events, clocks=clocks)
