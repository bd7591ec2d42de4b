"""The points projection: every point an item event earned, in ``points.sqlite``.

It follows the same event source as the views (the node's own log, and at upper tiers every
replicated origin of the subtree, by position) and prices each item event with
:func:`ledger13710.domain.points.score` and the rules given. Each point row links to the event
(origin, position, item, version) and the rule and rules version that priced it. A batch's
rows, the items' folded states and the new positions are committed in one transaction, so a
restart resumes exactly where the last commit stopped.

The store remembers the rules version it was built with: opened with other rules, it is
emptied and folded again from the first event (the points of a changed method are recomputed
by replay; frozen periods keep their recorded result, see :mod:`.points_periods`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite
import msgspec

from ledger13710.application.mapper import decode_event
from ledger13710.domain import events as ev
from ledger13710.domain.directory import is_government, tier_of
from ledger13710.domain.errors import LedgerError
from ledger13710.domain.points import Point, Tally, score
from ledger13710.domain.points_ledger import AppealDecided, PeriodClosed
from ledger13710.domain.points_rules import PointsRules
from ledger13710.domain.state import ItemState, evolve
from ledger13710.projections.rows import ITEM_TOPICS, us
from ledger13710.projections.source import EventSource
from ledger13710.projections.store import PRAGMAS, PositionMovedError

POINTS_FILE = "points.sqlite"
SCHEMA_VERSION = 2  # 2: appeal decisions and frozen periods

POINT_COLUMNS = (
    "origin", "seq", "item_id", "item", "version", "topic", "unit", "tier", "kind", "at",
    "rule", "rules_version", "clock", "quantity", "centi",
)  # fmt: skip

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS points_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS point_positions (origin TEXT PRIMARY KEY, position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS points ({", ".join(POINT_COLUMNS)});
CREATE INDEX IF NOT EXISTS points_unit ON points (unit, at);
CREATE INDEX IF NOT EXISTS points_at ON points (at, unit);
CREATE TABLE IF NOT EXISTS point_items (id TEXT PRIMARY KEY, state BLOB NOT NULL, tally BLOB);
CREATE TABLE IF NOT EXISTS appeal_decisions (
    origin TEXT, seq INTEGER, unit TEXT, rule TEXT, clock TEXT, reversed INTEGER,
    by_origin TEXT, by_seq INTEGER, PRIMARY KEY (origin, seq, unit, rule, clock)
);
CREATE TABLE IF NOT EXISTS frozen (
    node TEXT, period TEXT, unit TEXT, centi INTEGER, points INTEGER, rules_version TEXT,
    origin TEXT, seq INTEGER, closed_at INTEGER, PRIMARY KEY (node, period, unit)
);
"""
_DROP = (
    "DROP TABLE IF EXISTS points; DROP TABLE IF EXISTS point_items; "
    "DROP TABLE IF EXISTS point_positions; DROP TABLE IF EXISTS points_meta; "
    "DROP TABLE IF EXISTS appeal_decisions; DROP TABLE IF EXISTS frozen;"
)
_INSERT = f"INSERT INTO points VALUES ({', '.join('?' * len(POINT_COLUMNS))})"
_STATE = msgspec.json.Decoder(ItemState)
_TALLY = msgspec.json.Decoder(Tally)
_ENCODE = msgspec.json.Encoder()
_CACHE_LIMIT = 50_000
_RETRIES = 5


class PointsError(LedgerError):
    """An item event that cannot be folded into the points (out of order or unknown item)."""


def point_row(origin: str, seq: int, topic: str, e: ev.ItemEvent, p: Point) -> tuple[Any, ...]:
    """One point as a row of ``points``, in :data:`POINT_COLUMNS` order."""
    kind = "government" if is_government(p.unit) else "department"
    return (
        origin, seq, e.originator_id.hex, p.item, p.version, topic, p.unit,
        tier_of(p.unit).value, kind, us(p.at), p.rule, p.rules_version, p.clock, p.quantity,
        p.centi,
    )  # fmt: skip


DECISION_TOPICS = frozenset((AppealDecided.TOPIC, PeriodClosed.TOPIC))


def decision_rows(origin: str, seq: int, e: Any) -> list[tuple[str, Sequence[Any]]]:
    """The rows a recorded decision writes: an appeal's outcome, or a closed period's totals."""
    if isinstance(e, AppealDecided):
        p = e.point
        row = (p.origin, p.seq, p.unit, p.rule, p.clock, int(e.reversed), origin, seq)
        return [("INSERT OR REPLACE INTO appeal_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)]
    assert isinstance(e, PeriodClosed)
    sql = "INSERT OR REPLACE INTO frozen VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    closed = us(e.timestamp)
    return [
        (sql, (origin, e.period, t.unit, t.centi, t.points, e.rules_version, origin, seq, closed))
        for t in e.totals
    ]


class PointsStore:
    """``points.sqlite``: point rows, the folded item states, one position per origin."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path

    @classmethod
    async def open(cls, path: Path) -> PointsStore:
        """Open (creating if needed) the points store at ``path``."""
        db = await aiosqlite.connect(path, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            for pragma in PRAGMAS:
                await db.execute(pragma)
            store = cls(db, path)
            if await store.meta("schema") not in (None, str(SCHEMA_VERSION)):
                await db.executescript(_DROP)
            await db.executescript(_SCHEMA)
        except BaseException:
            await db.close()
            raise
        return store

    async def close(self) -> None:
        """Close the connection."""
        await self.db.close()

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query."""
        async with self.db.execute(sql, tuple(params)) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def meta(self, key: str) -> str | None:
        """A value of ``points_meta`` (None before the table exists or without the key)."""
        found = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'points_meta'"
        )
        if not found:
            return None
        rows = await self.fetchall("SELECT value FROM points_meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def positions(self) -> dict[str, int]:
        """The position reached in each origin."""
        rows = await self.fetchall("SELECT origin, position FROM point_positions")
        return {str(o): int(p) for o, p in rows}

    async def reset(self, rules_version: str) -> None:
        """Empty the store, to fold every event again with rules ``rules_version``."""
        await self.db.executescript(f"BEGIN IMMEDIATE; {_DROP} {_SCHEMA} COMMIT;")
        await self.db.executemany(
            "INSERT INTO points_meta VALUES (?, ?)",
            [("schema", str(SCHEMA_VERSION)), ("rules_version", rules_version)],
        )

    async def load(self, key: str) -> tuple[ItemState, Tally] | None:
        """The folded state and tally of one item (hex id), if the store has it."""
        rows = await self.fetchall("SELECT state, tally FROM point_items WHERE id = ?", (key,))
        if not rows:
            return None
        return _STATE.decode(rows[0][0]), _TALLY.decode(rows[0][1])

    async def commit(
        self,
        origin: str,
        moved: tuple[int, int],
        points: list[tuple[Any, ...]],
        items: dict[str, tuple[ItemState, Tally]],
        decided: Sequence[tuple[str, Sequence[Any]]] = (),
    ) -> None:
        """In one transaction: the batch's point rows, its items' states, and the origin's
        position moved from ``moved[0]`` to ``moved[1]``; :class:`PositionMovedError` when
        another process moved it meanwhile (nothing is written)."""
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        try:
            found = await self.fetchall(
                "SELECT position FROM point_positions WHERE origin = ?", (origin,)
            )
            if (int(found[0][0]) if found else 0) != moved[0]:
                raise PositionMovedError
            await db.executemany(_INSERT, points)
            for sql, row in decided:
                await db.execute(sql, row)
            await db.executemany(
                "INSERT OR REPLACE INTO point_items VALUES (?, ?, ?)",
                [(k, _ENCODE.encode(s), _ENCODE.encode(t)) for k, (s, t) in items.items()],
            )
            await db.execute(
                "INSERT INTO point_positions VALUES (?, ?) "
                "ON CONFLICT (origin) DO UPDATE SET position = excluded.position",
                (origin, moved[1]),
            )
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise


class PointsProjector:
    """Keeps one points store up to date with one event source, priced by ``rules``."""

    def __init__(
        self, store: PointsStore, source: EventSource, rules: PointsRules, *, batch: int = 5000
    ) -> None:
        self.store = store
        self.source = source
        self.rules = rules
        self.batch = batch
        self._cache: dict[str, tuple[ItemState, Tally]] = {}  # committed, between batches

    async def catch_up(self) -> int:
        """Price every event not yet seen (everything, if the rules changed); records read."""
        for _attempt in range(_RETRIES):
            self._cache.clear()  # another process may have moved the store since
            try:
                return await self._catch_up()
            except PositionMovedError:
                continue
        raise PointsError("the points keep changing under this process; try again")

    async def _catch_up(self) -> int:
        if await self.store.meta("rules_version") != self.rules.version:
            await self.store.reset(self.rules.version)
        positions = await self.store.positions()
        read = 0
        for origin in self.source.origins():
            after = positions.get(origin, 0)
            for records in self.source.batches(origin, after, self.batch):
                items: dict[str, tuple[ItemState, Tally]] = {}
                points: list[tuple[Any, ...]] = []
                decided: list[tuple[str, Sequence[Any]]] = []
                for r in records:
                    if r.topic in DECISION_TOPICS:
                        decided.extend(
                            decision_rows(r.origin, r.seq, decode_event(r.topic, r.state))
                        )
                    if r.topic not in ITEM_TOPICS:
                        continue
                    e = decode_event(r.topic, r.state)
                    for p in await self._fold(items, r.origin, r.seq, e):
                        points.append(point_row(r.origin, r.seq, r.topic, e, p))
                moved = (after, records[-1].seq)
                await self.store.commit(origin, moved, points, items, decided)
                after = records[-1].seq
                if len(self._cache) + len(items) > _CACHE_LIMIT:
                    self._cache.clear()
                self._cache.update(items)
                read += len(records)
        return read

    async def rebuild(self) -> int:
        """Empty the store and price every event from the first."""
        await self.store.reset(self.rules.version)
        return await self.catch_up()

    async def _fold(
        self, items: dict[str, tuple[ItemState, Tally]], origin: str, seq: int, e: ev.ItemEvent
    ) -> list[Point]:
        key = e.originator_id.hex
        if key not in items and not isinstance(e, ev.Registered):
            loaded = self._cache.get(key) or await self.store.load(key)
            if loaded is not None:
                items[key] = loaded
        state, tally = items.get(key, (None, Tally()))
        if state is not None and e.originator_version <= state.version:
            return []  # the same event seen twice: already priced
        points = score(state, tally, e, self.rules)
        try:
            items[key] = (evolve(state, e), tally)
        except ValueError as err:
            raise PointsError(
                f"points: record {origin}:{seq} ({type(e).__name__}) cannot be folded: {err}; "
                "check the replicas (ledger13710 node status), then run ledger13710 points "
                "--rebuild"
            ) from None
        return points
