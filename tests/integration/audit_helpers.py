"""Shared by the audit tests: fill a node's log, and tamper with its store like an attacker."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg

from conftest import write_config_dir
from ledger13710.application.ledger import LedgerApp
from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint, rotate_key
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.log.chain import GENESIS, chain_next
from ledger13710.log.record import record_digest
from ledger13710.node.bootstrap import init_node, open_node

SUP = "sx-general-office-sup1"
LEAD = "sx-transport-head"


def fill(app: LedgerApp, items: int = 3) -> list[str]:
    """Register ``items`` assigned items and move each a little; return their numbers."""
    numbers = []
    for i in range(items):
        number = app.register(
            title=f"事项{i}", source="executive", board="daily", severity="general",
            raising_unit="sx", lead_unit="sx/transport", co_units=[], actor=SUP, assign=True,
        ).number  # fmt: skip
        app.deploy(number, actor=LEAD, note="已部署")
        numbers.append(number)
    return numbers


class Tamper:
    """Direct SQL on a node's event store, bypassing the node (SQLite or PostgreSQL)."""

    def __init__(self, node: Node) -> None:
        self.kind = node.config.store.kind
        if self.kind == "sqlite":
            self.events, self.id, self.mark = "stored_events", "rowid", "?"
            self.db: Any = sqlite3.connect(node.dir / "events.sqlite", isolation_level=None)
            self.prefix = ""
        else:
            schema = f'"{node.config.store.schema}"'
            self.events, self.id, self.mark = f"{schema}.ledgerapp_events", "notification_id", "%s"
            self.db = psycopg.connect(node.config.store.dsn, autocommit=True)
            self.prefix = f"{schema}."

    def sql(self, statement: str, *params: Any) -> list[Any]:
        """Run one statement (``?`` marks parameters) and return its rows."""
        cursor = self.db.execute(statement.replace("?", self.mark), params)
        return list(cursor.fetchall()) if cursor.description else []

    def row(self, seq: int) -> tuple[Any, ...]:
        """(originator_id, originator_version, topic, state) at ``seq``."""
        (found,) = self.sql(
            f"SELECT originator_id, originator_version, topic, state FROM {self.events} "
            f"WHERE {self.id} = ?", seq,
        )  # fmt: skip
        return tuple(found)

    def change(self, seq: int) -> None:
        """Flip one byte of the event at ``seq``."""
        state = bytearray(self.row(seq)[3])
        state[len(state) // 2] ^= 0x01
        self.sql(f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?", bytes(state), seq)

    def delete(self, seq: int) -> None:
        """Delete the event at ``seq``."""
        self.sql(f"DELETE FROM {self.events} WHERE {self.id} = ?", seq)

    def put(self, seq: int, row: tuple[Any, ...]) -> None:
        """Insert ``row`` at position ``seq``."""
        self.sql(
            f"INSERT INTO {self.events} ({self.id}, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, ?, ?, ?)", seq, *row,
        )  # fmt: skip

    def swap(self, a: int, b: int) -> None:
        """Exchange the events at ``a`` and ``b``."""
        row_a, row_b = self.row(a), self.row(b)
        self.delete(a)
        self.delete(b)
        self.put(a, row_b)
        self.put(b, row_a)

    def insert(self, seq: int) -> None:
        """Insert a new event (a copy of the first, under a fresh aggregate id) at ``seq``."""
        _, _, topic, state = self.row(1)
        fresh: Any = uuid4()
        self.put(seq, (fresh.hex if self.kind == "sqlite" else fresh, 1, topic, state))

    def truncate(self, seq: int) -> None:
        """Cut the log at ``seq``: the events and chain rows from there on are deleted."""
        self.sql(f"DELETE FROM {self.events} WHERE {self.id} >= ?", seq)
        self.sql(f"DELETE FROM {self.prefix}chain WHERE seq >= ?", seq)

    def rechain(self, origin: str, seq: int) -> None:
        """As an insider: change the event at ``seq`` (still valid JSON, not the bytes that were
        written) and recompute every chain row from there on, consistently."""
        state = bytes(self.row(seq)[3])
        self.sql(f"UPDATE {self.events} SET state = ? WHERE {self.id} = ?", state + b" ", seq)
        before = self.sql(
            f"SELECT chain_hash FROM {self.prefix}chain WHERE seq < ? ORDER BY seq DESC LIMIT 1",
            seq,
        )
        chain = bytes(before[0][0]) if before else GENESIS
        rows = self.sql(
            f"SELECT e.{self.id}, c.prev_seq, e.topic, e.originator_id, e.originator_version, "
            f"e.state FROM {self.events} e JOIN {self.prefix}chain c ON c.seq = e.{self.id} "
            f"WHERE e.{self.id} >= ? ORDER BY e.{self.id}",
            seq,
        )
        for at, prev, topic, oid, version, body in rows:
            oid_text = str(UUID(str(oid)))
            digest = record_digest(origin, at, prev, topic, oid_text, version, bytes(body))
            chain = chain_next(chain, digest)
            self.sql(
                f"UPDATE {self.prefix}chain SET record_hash = ?, chain_hash = ? WHERE seq = ?",
                digest, chain, at,
            )  # fmt: skip

    def close(self) -> None:
        """Close the connection."""
        self.db.close()


def audit_template(base: Path, batches: Sequence[int]) -> Path:
    """A SQLite node: each batch of items followed by a checkpoint, the key rotated after the
    first; tests copy it per example."""

    node_dir = init_node(write_config_dir(base / "config"), base / "node")
    node = open_node(node_dir, ManualClock(datetime(2016, 10, 20, 9, tzinfo=SHANGHAI)))
    try:
        for i, items in enumerate(batches):
            fill(node.app, items)
            make_checkpoint(node)
            if i == 0:
                rotate_key(node)
    finally:
        node.close()
    return node_dir
