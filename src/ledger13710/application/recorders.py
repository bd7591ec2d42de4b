"""Process recorders that write the hash chain in the same transaction as the events.

Both subclass eventsourcing's *process* recorders (events + tracking) and add a ``chain``
row per record, computed from the notification ids the insert just received, after the
chain's tail read under the store's write lock:

- SQLite: :meth:`_insert_events` runs inside the write transaction; after the stock insert
  the connection holds SQLite's write lock, so the tail cannot move under us.
- PostgreSQL: :meth:`_fetch_ids_after_insert_events` runs after the stock insert, in the same
  transaction, while the events table is held in ``EXCLUSIVE`` mode (eventsourcing's
  ``_lock_table``), which serialises every writer of this log.

The ``checkpoints`` table is created here too, so a node's store always has both.
A store written before the audit existed gets its chain once, when first opened.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, ProcessRecorder, StoredEvent
from eventsourcing.sqlite import (
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
)

from ledger13710.domain.errors import ConfigError
from ledger13710.log.chain import GENESIS, LogEntry, link
from ledger13710.logging import get_logger

log = get_logger("ledger13710.audit")
#: The PostgreSQL recorder's module, imported only by a node whose store is PostgreSQL.
_POSTGRES = "ledger13710.application.recorders_pg"

SQLITE_DDL = [
    "CREATE TABLE IF NOT EXISTS chain (seq INTEGER PRIMARY KEY, prev_seq INTEGER NOT NULL, "
    "record_hash BLOB NOT NULL, chain_hash BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS checkpoints (tree_size INTEGER PRIMARY KEY, "
    "last_seq INTEGER NOT NULL, root_hash TEXT NOT NULL, chain_hash TEXT NOT NULL, "
    "timestamp TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL)",
]
PG_DDL = [
    "CREATE TABLE IF NOT EXISTS {schema}.chain (seq bigint PRIMARY KEY, prev_seq bigint NOT NULL, "
    "record_hash bytea NOT NULL, chain_hash bytea NOT NULL)",
    "CREATE TABLE IF NOT EXISTS {schema}.checkpoints (tree_size bigint PRIMARY KEY, "
    "last_seq bigint NOT NULL, root_hash text NOT NULL, chain_hash text NOT NULL, "
    "timestamp text NOT NULL, public_key text NOT NULL, signature text NOT NULL)",
]


def log_rows(ids: Sequence[int], events: Sequence[StoredEvent]) -> list[LogEntry]:
    """The rows the chain hashes: position, topic, item, version and the stored bytes."""
    return [
        LogEntry(seq, s.topic, str(s.originator_id), s.originator_version, s.state)
        for seq, s in zip(ids, events, strict=True)
    ]


def _hyphenated(hex32: str) -> str:
    h = hex32
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class ChainedSQLiteProcessRecorder(SQLiteProcessRecorder):
    """eventsourcing's SQLite process recorder, plus the chain."""

    def __init__(
        self, datastore: SQLiteDatastore, *, origin: str, events_table_name: str = "stored_events"
    ) -> None:
        self.origin = origin
        super().__init__(datastore, events_table_name=events_table_name)

    def construct_create_table_statements(self) -> list[str]:
        """The stock tables, then ``chain`` and ``checkpoints``."""
        return [*super().construct_create_table_statements(), *SQLITE_DDL]

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        c.execute("SELECT 1 FROM chain LIMIT 1")
        if c.fetchone() is not None:
            return
        c.execute(
            "SELECT rowid, topic, originator_id, originator_version, state "
            f"FROM {self.events_table_name} ORDER BY rowid"
        )
        rows = [LogEntry(r[0], r[1], _hyphenated(r[2]), r[3], r[4]) for r in c.fetchall()]
        if rows:
            log.warning("chain_backfilled", node=self.origin, records=len(rows))
            c.executemany("INSERT INTO chain VALUES (?,?,?,?)", link(self.origin, 0, GENESIS, rows))

    def chain_hashes(self, first: int, last: int) -> dict[int, bytes]:
        """Chain hashes of the positions ``first``..``last`` (those that exist)."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT seq, chain_hash FROM chain WHERE seq BETWEEN ? AND ?", (first, last))
            return {int(row[0]): bytes(row[1]) for row in c.fetchall()}

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        assert ids is not None  # the application recorder returns the notification ids
        c.execute("SELECT seq, chain_hash FROM chain ORDER BY seq DESC LIMIT 1")
        tail = c.fetchone()
        prev_seq, prev_hash = (tail[0], tail[1]) if tail is not None else (0, GENESIS)
        chained = link(self.origin, prev_seq, prev_hash, log_rows(ids, stored_events))
        c.executemany("INSERT INTO chain VALUES (?,?,?,?)", chained)
        return ids


def chain_hashes(recorder: object, first: int, last: int) -> dict[int, bytes]:
    """The chain hashes a node's recorder holds for positions ``first``..``last``."""
    if isinstance(recorder, ChainedSQLiteProcessRecorder):
        return recorder.chain_hashes(first, last)
    pg = sys.modules.get(_POSTGRES)  # a PostgreSQL recorder exists only once it is imported
    if pg is not None and isinstance(recorder, pg.ChainedPostgresProcessRecorder):
        hashes: dict[int, bytes] = recorder.chain_hashes(first, last)
        return hashes
    raise ConfigError(f"not a recorder with the audit chain: {recorder!r}")


def chained_process_recorder(factory: InfrastructureFactory[Any], origin: str) -> ProcessRecorder:
    """The node's recorder: what ``factory.process_recorder()`` makes, plus the chain.

    Table names and creation follow the stock factories exactly (see their
    ``process_recorder``); ``origin`` (the node id) enters every record hash.
    """
    if isinstance(factory, SQLiteFactory):
        recorder = ChainedSQLiteProcessRecorder(factory.datastore, origin=origin)
        if factory.env_create_table():
            recorder.create_table()
        return recorder
    if type(factory).__module__ == "eventsourcing.postgres":
        # imported here, not at the top: psycopg would cost every command (and the SQLite nodes,
        # most nodes) start-up time; a PostgreSQL factory has loaded eventsourcing's side already
        pg = importlib.import_module(_POSTGRES)
        made: ProcessRecorder = pg.chained_postgres_recorder(factory, origin)
        return made
    raise ConfigError(f"the audit chain needs a SQLite or PostgreSQL store, not {factory!r}")
