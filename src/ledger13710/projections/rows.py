"""Pure conversions: a folded :class:`ItemState` or an event into read-store rows, and back.

The stored light columns follow :mod:`ledger13710.domain.lights` exactly:

- ``next_due_at`` is the earliest open due time: the item is red when ``now > next_due_at``;
- ``yellow_at`` is the earliest open (due − remind-before): yellow when ``now >= yellow_at``;
- ``plan_behind_at`` is the earliest unmet milestone due of a planned item: behind plan when
  ``now > plan_behind_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import msgspec

from ledger13710.domain import events as ev
from ledger13710.domain.directory import tier_of
from ledger13710.domain.state import PLAN_TARGET, ItemState, State
from ledger13710.domain.types import SHANGHAI, Clock

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_US_PER_S = 1_000_000

state_encoder = msgspec.json.Encoder()
state_decoder = msgspec.json.Decoder(ItemState)

#: Topics the views fold; anything else in a log (numbering, reminders, …) is skipped.
ITEM_TOPICS = frozenset(cls.TOPIC for cls in ev.LIFECYCLE_EVENTS)


def us(t: datetime) -> int:
    """Microseconds since the epoch (exact, no float rounding)."""
    return (t - _EPOCH) // _US


def us_opt(t: datetime | None) -> int | None:
    """:func:`us`, passing None through."""
    return None if t is None else us(t)


def from_us(value: int) -> datetime:
    """A Shanghai-time datetime from :func:`us`."""
    return (_EPOCH + value * _US).astimezone(SHANGHAI)


def from_us_opt(value: int | None) -> datetime | None:
    """:func:`from_us`, passing None through."""
    return None if value is None else from_us(value)


def clock_kind(clock: str) -> str:
    """The family of a clock for statistics: deploy, feedback, resolve, plan or milestone."""
    if clock.startswith("milestone-"):
        return "milestone"
    return "plan" if clock == PLAN_TARGET else clock


@lru_cache(maxsize=65536)
def _tier(unit: str) -> str:
    """:func:`tier_of` a lead unit, by value (a province has a few thousand units)."""
    return tier_of(unit).value


def _due(s: ItemState, clock: str) -> tuple[int | None, int | None]:
    d = s.deadlines.get(clock)
    return (None, None) if d is None else (us(d.due_at), us_opt(s.met.get(clock)))


def item_row(s: ItemState, origin: str) -> tuple[Any, ...]:
    """The ``items`` row of ``s`` (column order of :data:`schema.ITEM_COLUMNS`)."""
    open_clocks = s.open_clocks()
    open_dues = [(us(d.due_at), d.remind_before_s) for d in open_clocks]
    next_due = open_dues[0][0] if open_dues else None
    yellow = min(u - r * _US_PER_S for u, r in open_dues) if open_dues else None
    ms_total = ms_met = ms_on_time = 0
    ms_open: list[int] = []
    unmet: list[int] = []
    for c, d in s.deadlines.items():
        if not c.startswith("milestone-"):
            continue
        ms_total += 1
        due = us(d.due_at)
        met = s.met.get(c)
        if met is None:
            unmet.append(due)
            if any(o.clock == c for o in open_clocks):
                ms_open.append(due)
        else:
            ms_met += 1
            ms_on_time += us(met) <= due
    behind = min(unmet) if unmet and s.state is State.PLANNED else None
    resolved = s.met.get(Clock.RESOLVE) or s.met.get(PLAN_TARGET)
    return (
        s.id.hex, s.number, origin, s.title, s.detail, s.source, s.board, s.severity,
        s.raising_unit, s.lead_unit, ",".join(s.co_units), _tier(s.lead_unit),
        s.registered_at.astimezone(SHANGHAI).year, s.state.value, s.parent_number, s.part,
        us(s.registered_at), us(s.updated_at), us_opt(s.finished_at), us_opt(resolved),
        *_due(s, Clock.DEPLOY), *_due(s, Clock.FEEDBACK), *_due(s, Clock.RESOLVE),
        *_due(s, PLAN_TARGET), next_due, yellow, behind,
        s.returns, s.extensions_requested, s.extensions_granted, s.urges, s.version,
        ms_total, ms_met, ms_on_time, ms_met - ms_on_time,
        "[" + ",".join(map(str, ms_open)) + "]" if ms_open else None,
    )  # fmt: skip


def state_row(s: ItemState) -> tuple[str, bytes]:
    """The ``item_states`` row of ``s``: the folded state the next event continues from."""
    return s.id.hex, state_encoder.encode(s)


def clock_rows(s: ItemState) -> list[tuple[Any, ...]]:
    """(item, clock, kind, due, met, open, remind-before) per recorded deadline of ``s``: the
    clocks of an item's timeline, and what the statistics' per-item columns summarise."""
    iid = s.id.hex
    open_names = {d.clock for d in s.open_clocks()}
    return [
        (
            iid,
            c,
            clock_kind(c),
            us(d.due_at),
            us_opt(s.met.get(c)),
            int(c in open_names),
            d.remind_before_s,
        )
        for c, d in s.deadlines.items()
    ]


def timeline_row(
    e: ev.ItemEvent, origin: str, seq: int, payload: bytes, item: str | None = None
) -> tuple[Any, ...]:
    """The ``timeline`` row of one event (``payload`` is the stored event bytes; ``item``, when
    given, is ``e.originator_id.hex`` already computed)."""
    return (
        e.originator_id.hex if item is None else item, e.originator_version, origin, seq,
        type(e).__name__, e.actor, e.unit, us(e.timestamp), payload,
    )  # fmt: skip
