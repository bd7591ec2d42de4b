"""Fold the node's events into the views, batch by batch, each batch one read-store transaction.

For each origin the projector reads from the lowest position of the views it maintains, decodes
each record once, and gives every view the records beyond its own position. A batch's rows and
the views' new positions are committed together, so a restart resumes exactly where the last
commit stopped. Item state is folded only by :func:`ledger13710.domain.state.evolve`.

Folded states stay in memory between batches (up to ``_CACHE_LIMIT`` items); a state is read
back from ``item_states`` only for an item neither in memory nor registered in the same batch,
so a rebuild never waits on the store for them. Each touched item's row and state are written
once per batch, and Python's cyclic GC is paused while a catch-up folds
(see ``ledger13710.gcpause``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from ledger13710.application.mapper import decode_event
from ledger13710.domain import events as ev
from ledger13710.domain.errors import LedgerError
from ledger13710.domain.state import ItemState, evolve
from ledger13710.gcpause import gc_paused
from ledger13710.logging import get_logger
from ledger13710.projections import rows
from ledger13710.projections.schema import ITEM_COLUMNS, LEDGER, TIMELINE, VIEWS
from ledger13710.projections.source import EventSource, SourceRecord
from ledger13710.projections.store import PositionMovedError, ReadStore
from ledger13710.threads import run_sync

log = get_logger("ledger13710.projections")

#: ``progress(done, total)``: records read so far of about ``total`` (called per batch).
Progress = Callable[[int, int], None]
_INSERT_ITEM = ("INSERT OR REPLACE INTO items", len(ITEM_COLUMNS))
_INSERT_STATE = ("INSERT OR REPLACE INTO item_states", 2)
_INSERT_TIMELINE = ("INSERT INTO timeline", 9)
#: Rows per multi-row ``INSERT`` (at most 999 parameters: any SQLite build accepts them). One
#: statement step per row would hand the GIL back and forth with the folding thread each row.
_ROWS_PER_INSERT = 100
_MAX_PARAMS = 999
_CACHE_LIMIT = 50_000
_RETRIES = 5


class ProjectionError(LedgerError):
    """An event that cannot be folded (out of order or unknown item): the view stops before it."""


@dataclass
class _Segment:
    """Consecutive records of one origin, and the views' positions in that origin."""

    origin: str
    records: list[SourceRecord]
    pos: dict[str, int]


#: A decoded record: its segment, the record, the event and the item's hex id.
_Decoded = tuple[_Segment, SourceRecord, ev.ItemEvent, str]


@dataclass
class _Batch:
    """What one batch writes."""

    touched: dict[str, str] = field(default_factory=dict)  # item hex id -> origin
    timeline: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class _Writes:
    """The rows of one batch, computed before the commit runs in the database thread."""

    items: list[tuple[Any, ...]]
    states: list[tuple[str, bytes]]
    timeline: list[tuple[Any, ...]]

    @classmethod
    def of(cls, batch: _Batch, states: dict[str, ItemState]) -> _Writes:
        """Encode the touched items' states into rows now (they change after this batch)."""
        touched = [(states[k], origin) for k, origin in batch.touched.items()]
        return cls(
            items=[rows.item_row(s, origin) for s, origin in touched],
            states=[rows.state_row(s) for s, _o in touched],
            timeline=batch.timeline,
        )


class Projector:
    """Keeps the views of one read store up to date with one event source."""

    def __init__(self, store: ReadStore, source: EventSource, *, batch: int = 5000) -> None:
        self.store = store
        self.source = source
        self.batch = batch
        self._states: dict[str, ItemState] = {}
        self._writing: asyncio.Task[None] | None = None

    async def pending(self, views: Sequence[str] = VIEWS) -> int:
        """About how many records the views are behind (for a progress bar)."""
        positions = await self.store.positions()
        origins = await run_sync(self.source.origins)
        total = 0
        for origin in origins:
            last = await run_sync(self.source.last, origin)
            total += max(0, last - min(positions.get((v, origin), 0) for v in views))
        return total

    async def catch_up(self, views: Sequence[str] = VIEWS, progress: Progress | None = None) -> int:
        """Apply every record the views have not seen; returns how many records were read."""
        for _attempt in range(_RETRIES):
            try:
                with gc_paused():
                    return await self._catch_up(views, progress)
            except PositionMovedError:
                self._states.clear()  # another process folded part of it: reload from rows
            except BaseException:
                await self._abandon()
                raise
        raise ProjectionError("the views keep changing under this process; try again")

    async def rebuild(self, views: Sequence[str] = VIEWS, progress: Progress | None = None) -> int:
        """Empty ``views`` and fold every event from position 0."""
        self._states.clear()
        for view in views:
            await self.store.reset(view)
        read = await self.catch_up(views, progress)
        for view in views:
            await self.store.index(view)
        return read

    async def _catch_up(self, views: Sequence[str], progress: Progress | None) -> int:
        positions = await self.store.positions()
        total = await self.pending(views) if progress is not None else 0
        read = 0
        if progress is not None:
            progress(0, total)
        stream = self._segments(views, positions)
        # A pipeline of two threads: batch n is read and folded here while batch n-1 commits
        # in the database thread. (Reading in a third thread made it slower: the reads are
        # mostly Python work, and each row's SQLite step hands the GIL over and back.)
        while segments := _take(stream, self.batch):
            await self._apply(segments)
            read += sum(len(seg.records) for seg in segments)
            if progress is not None:
                progress(read, max(read, total))
        await self._drain()
        if progress is not None:
            progress(read, max(read, total))
        return read

    def _segments(
        self, views: Sequence[str], positions: dict[tuple[str, str], int]
    ) -> Iterator[_Segment]:
        """Every origin's records beyond the views' lowest position there, in bounded batches.

        One position dict per origin is shared by its segments: :meth:`_apply` moves it on.
        """
        for origin in self.source.origins():
            pos = {v: positions.get((v, origin), 0) for v in views}
            for records in self.source.batches(origin, min(pos.values()), self.batch):
                yield _Segment(origin, records, pos)

    def _decode(self, segments: list[_Segment]) -> tuple[list[_Decoded], set[str]]:
        """Decode each item event once; and the items whose stored state the ledger needs.

        An item registered earlier in the same batch has nothing stored yet: only items
        neither in memory nor born here are read back (after a restart or a cache clear).
        """
        states = self._states
        decoded: list[_Decoded] = []
        missing: set[str] = set()
        born: set[str] = set()
        for seg in segments:
            ledger = seg.pos.get(LEDGER)
            for r in seg.records:
                if r.topic not in rows.ITEM_TOPICS:
                    continue
                e = decode_event(r.topic, r.state)
                key = e.originator_id.hex
                decoded.append((seg, r, e, key))
                if key in states or ledger is None or r.seq <= ledger:
                    continue
                if isinstance(e, ev.Registered):
                    born.add(key)
                elif key not in born:
                    missing.add(key)
        return decoded, missing

    async def _apply(self, segments: list[_Segment]) -> None:
        """Fold several origins' records; their rows and new positions commit at once.

        The commit runs in the database thread while the next batch is folded here; a batch
        waits for the previous commit before reading rows or committing itself.
        """
        decoded, missing = self._decode(segments)
        if missing:
            await self._drain()
            self._states.update(await self.store.load_states(missing))
        batch = _Batch()
        touched, timeline = batch.touched, batch.timeline
        for seg, r, e, key in decoded:
            pos = seg.pos
            if LEDGER in pos and r.seq > pos[LEDGER]:
                self._fold(r, e, key)
                touched[key] = seg.origin
            if TIMELINE in pos and r.seq > pos[TIMELINE]:
                timeline.append(rows.timeline_row(e, seg.origin, r.seq, r.state, key))
        expected: dict[tuple[str, str], int] = {}
        moved: dict[tuple[str, str], int] = {}
        for seg in segments:
            last = seg.records[-1].seq
            for v, p in seg.pos.items():
                expected.setdefault((v, seg.origin), p)
                if last > p:
                    moved[(v, seg.origin)] = last
            seg.pos.update({v: last for v in seg.pos if last > seg.pos[v]})
        writes = _Writes.of(batch, self._states)
        await self._drain()
        if len(self._states) > _CACHE_LIMIT:
            self._states.clear()  # everything folded so far is committed or in ``writes``
        self._writing = asyncio.create_task(self._write(writes, expected, moved))
        await asyncio.sleep(0)  # let the commit start in its thread before the next fold

    async def _abandon(self) -> None:
        """After a failure: let the commit in flight finish or fail, and forget all state."""
        with contextlib.suppress(Exception):
            await self._drain()
        self._states.clear()

    async def _drain(self) -> None:
        """Wait for the commit in flight; if it failed, forget the folded states and raise."""
        task, self._writing = self._writing, None
        if task is None:
            return
        try:
            await task
        except BaseException:
            self._states.clear()  # folded in memory but not committed: reload from the rows
            raise

    def _fold(self, r: SourceRecord, e: ev.ItemEvent, key: str) -> None:
        state = self._states.get(key)
        seen = state is not None and e.originator_version <= state.version
        if seen and not isinstance(e, ev.Registered):
            return  # already folded (the same event seen twice): nothing to do
        try:
            self._states[key] = evolve(state, e)
        except ValueError as err:
            raise ProjectionError(
                f"view {LEDGER}: record {r.origin}:{r.seq} ({type(e).__name__}) cannot be "
                f"folded: {err}; check the replicas (ledger13710 node status), then run "
                "ledger13710 views rebuild"
            ) from None

    async def _write(
        self,
        writes: _Writes,
        expected: dict[tuple[str, str], int],
        moved: dict[tuple[str, str], int],
    ) -> None:
        await self.store.write(
            expected,
            moved,
            [
                *_inserts(_INSERT_ITEM, writes.items),
                *_inserts(_INSERT_STATE, writes.states),
                *_inserts(_INSERT_TIMELINE, writes.timeline),
            ],
        )
        log.debug("views_batch", positions=len(moved))


def _inserts(
    insert: tuple[str, int], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[str, Sequence[Sequence[Any]]]]:
    """``rows`` as multi-row ``INSERT … VALUES (…), (…), …`` statements, in order: full
    statements of up to :data:`_ROWS_PER_INSERT` rows, then the rest one row per step."""
    head, width = insert
    per = max(1, min(_ROWS_PER_INSERT, _MAX_PARAMS // width))
    marks = "(" + ", ".join("?" * width) + ")"
    full = len(rows) - len(rows) % per
    out: list[tuple[str, Sequence[Sequence[Any]]]] = []
    if full:
        many = [tuple(chain.from_iterable(rows[i : i + per])) for i in range(0, full, per)]
        out.append((f"{head} VALUES {', '.join([marks] * per)}", many))
    if full < len(rows):
        out.append((f"{head} VALUES {marks}", rows[full:]))
    return out


def _take(stream: Iterator[_Segment], size: int) -> list[_Segment]:
    """The next segments of ``stream``, about ``size`` records in all (none at the end)."""
    taken: list[_Segment] = []
    count = 0
    while count < size and (seg := next(stream, None)) is not None:
        taken.append(seg)
        count += len(seg.records)
    return taken
