"""The ``outbox`` gateway (the default): messages are stored, and listed by
``ledger13710 reminders``, for a person or another system to send on.

Stored in the ``outbox`` table of ``reminders.sqlite``; the idempotency key is the primary key,
so the same key stored twice is one message. Phones are stored masked (``139****0001``): the
outbox shows that and to whom a message went; the full number stays in the directory.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ledger13710.reminders.gateways.base import Accepted, Receipt, Sms, mask

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    contact TEXT NOT NULL,
    phone TEXT NOT NULL,
    text TEXT NOT NULL,
    queued_at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class OutboxMessage:
    """One stored message."""

    message_id: str
    contact: str
    phone: str
    text: str
    queued_at: datetime


class OutboxGateway:
    """Stores each message once, by key."""

    name = "outbox"

    def __init__(self, path: str | Path) -> None:
        self.db = sqlite3.connect(Path(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)

    def send(self, sms: Sms) -> Accepted:
        """Store ``sms`` unless its key is stored already; the message id is ``outbox-<seq>``."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO outbox (key, contact, phone, text, queued_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (sms.key, sms.contact, mask(sms.phone), sms.text, sms.at.isoformat()),
        )
        (seq,) = self.db.execute("SELECT seq FROM outbox WHERE key = ?", (sms.key,)).fetchone()
        return Accepted(message_id=f"outbox-{seq}", duplicate=cur.rowcount == 0)

    def receipts(self) -> list[Receipt]:
        """The outbox has no delivery reports."""
        return []

    def messages(self, limit: int = 1000) -> list[OutboxMessage]:
        """The newest ``limit`` stored messages, oldest first."""
        rows = self.db.execute(
            "SELECT seq, contact, phone, text, queued_at FROM outbox ORDER BY seq DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [
            OutboxMessage(f"outbox-{seq}", contact, phone, text, datetime.fromisoformat(at))
            for seq, contact, phone, text, at in reversed(rows)
        ]

    def close(self) -> None:
        """Close the database."""
        self.db.close()
