"""The PostgreSQL process recorder with the audit chain (see :mod:`.recorders`).

Its own module so that only a node whose store is PostgreSQL imports psycopg.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresDatastore, PostgresFactory, PostgresProcessRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger13710.application.recorders import PG_DDL, log, log_rows
from ledger13710.domain.errors import ConfigError
from ledger13710.log.chain import GENESIS, LogEntry, link


class ChainedPostgresProcessRecorder(PostgresProcessRecorder):
    """eventsourcing's PostgreSQL process recorder, plus the chain."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        origin: str,
        events_table_name: str = "stored_events",
        tracking_table_name: str = "notification_tracking",
    ) -> None:
        if datastore.enable_db_functions:
            raise ConfigError(
                "POSTGRES_ENABLE_DB_FUNCTIONS inserts events without the audit chain; unset it"
            )
        self.origin = origin
        super().__init__(
            datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name
        )
        schema = Identifier(datastore.schema)
        self.sql_create_statements += [SQL(s).format(schema=schema) for s in PG_DDL]
        self._select_tail = SQL(
            "SELECT seq, chain_hash FROM {0}.chain ORDER BY seq DESC LIMIT 1"
        ).format(schema)
        self._insert_chain = SQL("INSERT INTO {0}.chain VALUES (%s, %s, %s, %s)").format(schema)
        self._select_range = SQL(
            "SELECT seq, chain_hash FROM {0}.chain WHERE seq BETWEEN %s AND %s"
        ).format(schema)
        self._select_all = SQL(
            "SELECT notification_id, topic, originator_id, originator_version, state "
            "FROM {0}.{1} ORDER BY notification_id"
        ).format(schema, Identifier(events_table_name))

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        super()._create_table(curs)
        curs.execute(self._select_tail)
        if curs.fetchone() is not None:
            return
        curs.execute(self._select_all)
        rows = [
            LogEntry(r["notification_id"], r["topic"], str(r["originator_id"]),
                     r["originator_version"], bytes(r["state"]))
            for r in curs.fetchall()
        ]  # fmt: skip
        if rows:
            log.warning("chain_backfilled", node=self.origin, records=len(rows))
            curs.executemany(self._insert_chain, link(self.origin, 0, GENESIS, rows))

    def chain_hashes(self, first: int, last: int) -> dict[int, bytes]:
        """Chain hashes of the positions ``first``..``last`` (those that exist)."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_range, (first, last), prepare=True)
            return {int(row["seq"]): bytes(row["chain_hash"]) for row in curs.fetchall()}

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert ids is not None  # RETURNING notification_id
        curs.execute(self._select_tail, prepare=True)
        tail = curs.fetchone()
        prev_seq, prev_hash = (tail["seq"], bytes(tail["chain_hash"])) if tail else (0, GENESIS)
        chained = link(self.origin, prev_seq, prev_hash, log_rows(ids, stored_events))
        curs.executemany(self._insert_chain, chained)
        return ids


def chained_postgres_recorder(
    factory: PostgresFactory, origin: str
) -> ChainedPostgresProcessRecorder:
    """What ``factory.process_recorder()`` makes, plus the chain (same table names), its
    tables created when the factory's settings say so."""
    name = factory.env.name.lower()
    recorder = ChainedPostgresProcessRecorder(
        factory.datastore,
        origin=origin,
        events_table_name=(name or "stored") + "_events",
        tracking_table_name=(name or "notification") + "_tracking",
    )
    if factory.env_create_table():
        recorder.create_table()
    return recorder
