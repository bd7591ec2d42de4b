"""What a reminder says and to whom: recipients, text, and the fields every event repeats."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger13710.domain import reminder_events as rev
from ledger13710.domain.directory import Contact, Directory
from ledger13710.domain.errors import NotFoundError
from ledger13710.domain.policy import Policy
from ledger13710.domain.reminder_events import ReminderKind
from ledger13710.domain.state import FINISHED, ItemState, is_review_clock
from ledger13710.reminders import sms
from ledger13710.reminders.index import DueRow

_SENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent_messages (
    message_id TEXT PRIMARY KEY, reminder TEXT NOT NULL, contact TEXT NOT NULL
);
"""


def wanted(row: DueRow, item: ItemState) -> bool:
    """Whether the item's recorded state still wants this reminder."""
    if item.state in FINISHED:
        return False
    if row.kind == ReminderKind.URGE:
        return True
    if is_review_clock(row.clock):
        review = item.reviews.get(row.clock)
        return review is not None and review.due_at == row.due_at
    deadline = item.deadlines.get(row.clock)
    if deadline is None or deadline.due_at != row.due_at:
        return False  # moved by an extension or a revised plan: the new row takes over
    return any(d.clock == row.clock for d in item.open_clocks())


def recipients(policy: Policy, row: DueRow, item: ItemState, directory: Directory) -> list[Contact]:
    """Head and operators of the lead unit (and co-units, per policy); for an overdue notice
    also the supervisors of the raising unit (per policy); for a review clock only those
    supervisors (the review is theirs). Contacts without a phone are left out (an erased
    person)."""
    review = is_review_clock(row.clock)
    units = [] if review else [item.lead_unit, *(item.co_units if policy.co_units_reminded else ())]
    found: list[Contact] = []
    for uid in units:
        with contextlib.suppress(NotFoundError):
            found += directory.reminder_contacts(uid)
    if review or (row.kind == ReminderKind.OVERDUE and policy.overdue_notify_raising_unit):
        with contextlib.suppress(NotFoundError):
            found += directory.supervisors(item.raising_unit)
    unique = {c.id: c for c in found if c.phone}
    return list(unique.values())


def text(row: DueRow, item: ItemState, directory: Directory, max_parts: int) -> str:
    """The reminder's Chinese text, named after the lead unit (the raising unit, for a review)."""
    uid = item.raising_unit if is_review_clock(row.clock) else item.lead_unit
    unit = directory.unit(uid).name if directory.has_unit(uid) else ""
    return sms.render(
        row.kind, unit=unit or uid, number=item.number, title=item.title,
        clock=row.clock, due=row.due_at, words=row.note, max_parts=max_parts,
    )  # fmt: skip


def from_row(
    rid: UUID, version: int, now: datetime, row: DueRow, item: ItemState
) -> dict[str, Any]:
    """The common fields of a reminder event, from an index row and its item."""
    return {
        "originator_id": rid, "originator_version": version, "timestamp": now,
        "item_id": row.item, "number": item.number, "clock": row.clock, "kind": row.kind,
        "occurrence": row.occurrence,
    }  # fmt: skip


def from_planned(
    rid: UUID, version: int, now: datetime, planned: rev.ReminderPlanned
) -> dict[str, Any]:
    """The common fields of a reminder event, from its intent."""
    return {
        "originator_id": rid, "originator_version": version, "timestamp": now,
        "item_id": planned.item_id, "number": planned.number, "clock": planned.clock,
        "kind": planned.kind, "occurrence": planned.occurrence,
    }  # fmt: skip


class SentMessages:
    """Gateway message id → (reminder, contact), so a delivery receipt finds its reminder."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        db.executescript(_SENT_SCHEMA)

    def remember(self, message_id: str, rid: UUID, contact: str) -> None:
        """Note every part id of a sent message."""
        self.db.executemany(
            "INSERT OR REPLACE INTO sent_messages (message_id, reminder, contact) VALUES (?, ?, ?)",
            [(m, rid.hex, contact) for m in message_id.split(",")],
        )

    def lookup(self, message_id: str) -> tuple[UUID, str] | None:
        """The reminder and contact of a message (part) id, or None when unknown."""
        found = self.db.execute(
            "SELECT reminder, contact FROM sent_messages WHERE message_id = ?", (message_id,)
        ).fetchone()
        return None if found is None else (UUID(found[0]), str(found[1]))
