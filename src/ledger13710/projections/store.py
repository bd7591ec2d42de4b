"""The read store of a node: ``views.sqlite`` beside its event store, opened with aiosqlite."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from ledger13710.domain.state import ItemState
from ledger13710.projections import schema
from ledger13710.projections.rows import state_decoder
from ledger13710.threads import run_sync

VIEWS_FILE = "views.sqlite"
Params = Sequence[Any] | Mapping[str, Any]
_IN_CHUNK = 500


#: Per connection. A read model can always be rebuilt from the event store, so NORMAL (no
#: fsync per commit) is enough: a power cut may lose the last commits, never tear one. Rows
#: and their positions are committed atomically either way, so a view never skips or
#: double-applies an event. Checkpoints (the fsyncs) come every 16 MiB of WAL rather than 4:
#: a batch of 5,000 events writes about 4 MiB. Items and states are keyed by random ids: a
#: large page cache keeps their b-trees in memory (2 MiB thrashes from 20,000 items on).
PRAGMAS = (
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA wal_autocheckpoint=4096",  # pages
    "PRAGMA cache_size=-65536",  # KiB
    "PRAGMA temp_store=MEMORY",
)


def connect(path: Path) -> sqlite3.Connection:
    """A writer's connection with the read store's settings (one worker thread at a time)."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in PRAGMAS:
        db.execute(pragma)
    return db


class PositionMovedError(Exception):
    """Another process advanced a view while this one was folding: start again from the store."""


def write_rows(
    db: sqlite3.Connection,
    expected: dict[tuple[str, str], int],
    moved: dict[tuple[str, str], int],
    statements: Sequence[tuple[str, Sequence[Params]]],
) -> None:
    """The transaction of :meth:`ReadStore.write`, on ``db`` (also the views benchmark's
    same-rows baseline): check the ``expected`` positions, run each statement over its rows,
    record the ``moved`` positions; all or nothing."""
    db.execute("BEGIN IMMEDIATE")
    try:
        now = {
            (str(v), str(o)): int(p)
            for v, o, p in db.execute("SELECT view, origin, position FROM view_positions")
        }
        if any(now.get(key, 0) != pos for key, pos in expected.items()):
            raise PositionMovedError
        for sql, rows in statements:
            if rows:
                db.executemany(sql, rows)
        db.executemany(
            "INSERT INTO view_positions VALUES (?, ?, ?) "
            "ON CONFLICT (view, origin) DO UPDATE SET position = excluded.position",
            [(v, o, p) for (v, o), p in moved.items()],
        )
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


class ReadStore:
    """Rows of every view and their tracking positions, one position per (view, origin)."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self.db = db
        self.path = path
        self._writer: sqlite3.Connection | None = None

    @classmethod
    async def open(cls, path: Path) -> ReadStore:
        """Open (creating if needed) the read store at ``path``."""
        db = await aiosqlite.connect(path, isolation_level=None)
        store = cls(db, path)
        try:  # a damaged file fails at the first statement: close, or its thread keeps running
            await db.execute("PRAGMA journal_mode=WAL")
            for pragma in PRAGMAS:
                await db.execute(pragma)
            await store._migrate()
            await db.executescript(schema.POSITIONS)
            for view in schema.VIEWS:
                await db.executescript(schema.TABLES[view] + schema.INDEXES[view])
        except BaseException:
            await db.close()
            raise
        return store

    async def _migrate(self) -> None:
        """Empty a read store of another schema version: every view is folded again."""
        if await self._version() == schema.SCHEMA_VERSION:
            return
        await self.db.execute("BEGIN IMMEDIATE")
        try:
            if await self._version() != schema.SCHEMA_VERSION:  # not upgraded meanwhile
                script = " ".join((*schema.DROP.values(), schema.OBSOLETE))
                for statement in (*script.split(";"), "DROP TABLE IF EXISTS view_positions"):
                    if statement.strip():
                        await self.db.execute(statement)
                await self.db.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION}")
            await self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                await self.db.execute("ROLLBACK")
            raise

    async def _version(self) -> int:
        found = await self.fetchone("PRAGMA user_version")
        return 0 if found is None else int(found[0])

    async def close(self) -> None:
        """Close the connections."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        await self.db.close()

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows of one query."""
        async with self.db.execute(sql, params) as cur:
            return [tuple(r) for r in await cur.fetchall()]

    async def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        """The first row of one query, or None."""
        async with self.db.execute(sql, params) as cur:
            row = await cur.fetchone()
        return None if row is None else tuple(row)

    async def positions(self) -> dict[tuple[str, str], int]:
        """Every (view, origin) position."""
        rows = await self.fetchall("SELECT view, origin, position FROM view_positions")
        return {(str(v), str(o)): int(p) for v, o, p in rows}

    async def load_states(self, ids: Iterable[str]) -> dict[str, ItemState]:
        """The folded states of the given items (hex ids) that the ledger view holds."""
        wanted = list(ids)
        found: dict[str, ItemState] = {}
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i : i + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = await self.fetchall(
                f"SELECT id, blob FROM item_states WHERE id IN ({marks})", chunk
            )
            found.update((str(iid), state_decoder.decode(blob)) for iid, blob in rows)
        return found

    async def write(
        self,
        expected: dict[tuple[str, str], int],
        moved: dict[tuple[str, str], int],
        statements: Sequence[tuple[str, Sequence[Params]]],
    ) -> None:
        """In one transaction: check no one moved the ``expected`` positions, run each
        statement over its rows, and record the ``moved`` positions the rows take the views to.

        The whole transaction runs in one worker thread, on a connection of its own, so it
        proceeds while the event loop folds the next batch (a chain of aiosqlite calls would
        wait for the loop between statements).
        """
        await run_sync(self._write, expected, moved, statements)

    def _write(
        self,
        expected: dict[tuple[str, str], int],
        moved: dict[tuple[str, str], int],
        statements: Sequence[tuple[str, Sequence[Params]]],
    ) -> None:
        if self._writer is None:
            self._writer = connect(self.path)
        write_rows(self._writer, expected, moved, statements)

    async def reset(self, view: str) -> None:
        """Empty ``view``: drop rows and positions, recreate its tables without query indexes."""
        if view not in schema.VIEWS:
            raise ValueError(view)
        script = (
            f"BEGIN IMMEDIATE; {schema.DROP[view]} "
            f"DELETE FROM view_positions WHERE view = '{view}'; {schema.TABLES[view]} COMMIT;"
        )
        try:
            await self.db.executescript(script)
        except BaseException:
            if self.db.in_transaction:
                await self.db.execute("ROLLBACK")
            raise

    async def index(self, view: str) -> None:
        """Create ``view``'s query indexes (after a rebuild loaded its rows)."""
        await self.db.executescript(schema.INDEXES[view])
