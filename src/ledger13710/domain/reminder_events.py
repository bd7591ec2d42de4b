"""Reminder facts: what the node told whom, when, and through which gateway.

One reminder aggregate per (item, clock, kind, occurrence), keyed by :func:`reminder_id`, a
deterministic uuid5: the same reminder always has the same id, which makes it the outbox and
idempotency key. Its first event is either :class:`ReminderPlanned` (the intent, written BEFORE
any gateway is called) or :class:`ReminderSkipped` (nothing sent, and why). After an intent come
one outcome per contact (:class:`ReminderSent`, or :class:`ReminderFailed` with ``final``),
and later :class:`DeliveryReported` receipts.

Events carry contact ids, never phone numbers or names: the phone is looked up in the node's
directory at send time. Topics are ``ledger13710.reminder.<Name>.v<N>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID, uuid5

import msgspec

from ledger13710.domain.events import event

ReminderKind = Literal["before-due", "overdue", "urge"]

#: Namespace of reminder ids; never change it (ids would stop matching recorded reminders).
REMINDER_NAMESPACE = UUID("a1e5d0c3-13a7-4c10-9a1d-7a3b0f13c711")


def reminder_id(item: UUID, clock: str, kind: str, occurrence: int) -> UUID:
    """The aggregate id (and idempotency key) of one reminder."""
    return uuid5(REMINDER_NAMESPACE, f"{item}|{clock}|{kind}|{occurrence}")


def idempotency_key(reminder: UUID, contact: str) -> str:
    """The key a gateway dedupes one SMS by: the reminder and the contact it goes to."""
    return f"{reminder.hex}-{contact}"


class ReminderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Fields every reminder event has."""

    TOPIC: ClassVar[str] = ""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    item_id: UUID
    number: str
    clock: str
    kind: str  # a ReminderKind
    occurrence: int


@event("ReminderPlanned", kind="reminder")
class ReminderPlanned(ReminderEvent, frozen=True, kw_only=True):
    """The intent: this text goes to these contacts; written before any gateway is called."""

    contacts: tuple[str, ...]
    text: str
    parts: int
    gateway: str
    due_at: datetime | None
    planned_at: datetime  # when the reminder was due to go out, from the recorded deadline
    send_at: datetime  # when it actually goes out (after quiet hours or downtime)
    late: bool = False
    quiet_shift: str = ""  # "" or "morning": moved out of quiet hours
    urged_by: str = ""  # contact id of the supervisor, for an urge


@event("ReminderSent", kind="reminder")
class ReminderSent(ReminderEvent, frozen=True, kw_only=True):
    """One SMS accepted by the gateway for one contact."""

    contact: str
    gateway: str
    message_id: str
    due_at: datetime | None
    planned_at: datetime
    sent_at: datetime
    late: bool = False
    quiet_shift: str = ""
    attempt: int = 1  # > 1: resent after a failure or a crash (the gateway dedupes by key)


@event("ReminderFailed", kind="reminder")
class ReminderFailed(ReminderEvent, frozen=True, kw_only=True):
    """A send to one contact failed; ``final`` when it will not be retried."""

    contact: str
    gateway: str
    error: str
    attempt: int
    final: bool = False
    retry_at: datetime | None = None


@event("ReminderSkipped", kind="reminder")
class ReminderSkipped(ReminderEvent, frozen=True, kw_only=True):
    """Nothing was sent, on purpose; ``reason`` says why (e.g. missed while the node was down)."""

    reason: str
    due_at: datetime | None
    planned_at: datetime


@event("DeliveryReported", kind="reminder")
class DeliveryReported(ReminderEvent, frozen=True, kw_only=True):
    """A delivery receipt from the gateway (e.g. SMPP ``stat:DELIVRD``)."""

    contact: str
    message_id: str
    status: str  # delivered | undeliverable | expired | rejected | unknown | accepted
    reported_at: datetime


REMINDER_EVENTS: tuple[type[ReminderEvent], ...] = (
    ReminderPlanned,
    ReminderSent,
    ReminderFailed,
    ReminderSkipped,
    DeliveryReported,
)
