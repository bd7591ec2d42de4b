"""eventsourcing's own recorder contract, run against our chained recorders.

``ApplicationRecorderTestCase`` and ``ProcessRecorderTestCase`` are the suites eventsourcing runs
against its stock SQLite and PostgreSQL recorders. Running them unchanged against
``ChainedSQLiteProcessRecorder`` and ``ChainedPostgresProcessRecorder`` shows that writing the
audit chain in the insert's transaction keeps every promise of the recorder we replace:
notification ids in order and without gaps under concurrent writers, integrity errors on a
duplicate version or tracking position, tracking queries. After each of their tests the chain
is checked too: one link per stored event, each the hash a fresh ``link`` over the log gives
(so a rolled-back insert left no link behind and concurrent writers never forked the chain).
The suites' own test methods are theirs (without docstrings); each class here says what it
runs against.

The suites' ``test_performance`` methods only print a rate; speed is measured by
``scripts/bench_*.py``, so they are skipped here rather than run for nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase, ProcessRecorderTestCase

from conftest import PG_CONNINFO, drop_schema
from ledger13710.application.recorders import ChainedSQLiteProcessRecorder
from ledger13710.application.recorders_pg import ChainedPostgresProcessRecorder
from ledger13710.log.chain import GENESIS, LogEntry, link

ORIGIN = "sx"
Chained = ChainedSQLiteProcessRecorder | ChainedPostgresProcessRecorder
_NOT_A_CHECK = "prints a rate and asserts nothing; scripts/bench_*.py measure speed"


def assert_chain_whole(recorder: Chained) -> None:
    """Every event in ``recorder`` has its link, and the links are the ones the log implies."""
    last = recorder.max_notification_id() or 0
    log = recorder.select_notifications(start=1, limit=last + 1)
    rows = [
        LogEntry(n.id, n.topic, str(n.originator_id), n.originator_version, n.state) for n in log
    ]
    expected = {seq: chain_hash for seq, _, _, chain_hash in link(ORIGIN, 0, GENESIS, rows)}
    assert expected == recorder.chain_hashes(1, last)


class _OnSQLiteFile:
    """A fresh SQLite file per test (WAL, a pool wide enough for the concurrent writers)."""

    def setUp(self) -> None:
        self._dir = TemporaryDirectory()
        self.db_name = str(Path(self._dir.name) / "events.db")
        self.recorders: list[ChainedSQLiteProcessRecorder] = []

    def tearDown(self) -> None:
        for recorder in self.recorders:
            assert_chain_whole(recorder)
        self._dir.cleanup()

    def create_recorder(self) -> ChainedSQLiteProcessRecorder:
        recorder = ChainedSQLiteProcessRecorder(
            SQLiteDatastore(self.db_name, pool_size=20), origin=ORIGIN
        )
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class _OnPostgresSchema:
    """A fresh PostgreSQL schema per test, dropped afterwards with its connections closed."""

    def setUp(self) -> None:
        self.schema = f"t_{uuid.uuid4().hex}"
        self.recorders: list[ChainedPostgresProcessRecorder] = []
        with psycopg.connect(PG_CONNINFO, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{self.schema}"')

    def tearDown(self) -> None:
        for recorder in self.recorders:
            assert_chain_whole(recorder)
            recorder.datastore.close()
        drop_schema(self.schema)

    def create_recorder(self) -> ChainedPostgresProcessRecorder:
        datastore = PostgresDatastore(
            "test", "127.0.0.1", 5432, "postgres", "", schema=self.schema, pool_size=10
        )
        recorder = ChainedPostgresProcessRecorder(datastore, origin=ORIGIN)
        recorder.create_table()
        self.recorders.append(recorder)
        return recorder


class TestChainedSQLiteAsApplicationRecorder(
    _OnSQLiteFile, ApplicationRecorderTestCase[ChainedSQLiteProcessRecorder]
):
    """The application recorder contract on the chained SQLite recorder."""

    @pytest.mark.skip(reason=_NOT_A_CHECK)
    def test_performance(self) -> None:
        """Skipped: see the module docstring."""


class TestChainedSQLiteAsProcessRecorder(_OnSQLiteFile, ProcessRecorderTestCase):
    """The process recorder contract (events with tracking) on the chained SQLite recorder."""

    @pytest.mark.skip(reason=_NOT_A_CHECK)
    def test_performance(self) -> None:
        """Skipped: see the module docstring."""


@pytest.mark.postgres
class TestChainedPostgresAsApplicationRecorder(
    _OnPostgresSchema, ApplicationRecorderTestCase[ChainedPostgresProcessRecorder]
):
    """The application recorder contract on the chained PostgreSQL recorder."""

    @pytest.mark.skip(reason=_NOT_A_CHECK)
    def test_performance(self) -> None:
        """Skipped: see the module docstring."""


@pytest.mark.postgres
class TestChainedPostgresAsProcessRecorder(_OnPostgresSchema, ProcessRecorderTestCase):
    """The process recorder contract (events with tracking) on the chained PostgreSQL recorder."""

    @pytest.mark.skip(reason=_NOT_A_CHECK)
    def test_performance(self) -> None:
        """Skipped: see the module docstring."""
