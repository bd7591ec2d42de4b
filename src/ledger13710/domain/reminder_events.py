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

import enum
from typing import Annotated, Literal, get_args
from uuid import UUID, uuid5

from ledger13710.domain.events import Fact, event
from ledger13710.domain.types import (
    ContactId,
    Instant,
    ItemNumber,
    clock_names,
    described,
    known_values,
)


class ReminderKind(enum.StrEnum):
    """Why a reminder is sent. On the wire ``kind`` stays a ``str`` listing these values."""

    BEFORE_DUE = "before-due"  # the clock's reminder window opened
    OVERDUE = "overdue"  # the clock is past due (repeated every ``overdue_repeat_s``)
    URGE = "urge"  # a supervisor's 催办, in their own words


#: ``DeliveryReported.status``: what the gateway's receipt says.
DeliveryStatus = Literal[
    "delivered", "undeliverable", "expired", "rejected", "deleted", "accepted", "unknown"
]
#: ``quiet_shift``: empty, or ``morning`` when moved out of quiet hours.
QuietShift = Literal["", "morning"]
_Gateway = Annotated[str, described("the SMS gateway: outbox, http or smpp")]
_Due = Annotated[Instant | None, described("the recorded due time it reminds of (none: urge)")]
_Planned = Annotated[Instant, described("when it was due to go out, from the recorded deadline")]
_Shift = Annotated[str, known_values("morning: moved out of quiet hours", get_args(QuietShift))]

#: Namespace of reminder ids; never change it (ids would stop matching recorded reminders).
REMINDER_NAMESPACE = UUID("a1e5d0c3-13a7-4c10-9a1d-7a3b0f13c711")


def reminder_id(item: UUID, clock: str, kind: str, occurrence: int) -> UUID:
    """The aggregate id (and idempotency key) of one reminder."""
    return uuid5(REMINDER_NAMESPACE, f"{item}|{clock}|{kind}|{occurrence}")


def idempotency_key(reminder: UUID, contact: str) -> str:
    """The key a gateway dedupes one SMS by: the reminder and the contact it goes to."""
    return f"{reminder.hex}-{contact}"


_ReminderId = Annotated[UUID, described("the reminder id (uuid5 of item, clock, kind, n)")]
_ReminderVersion = Annotated[int, described("the reminder version this event makes")]


class ReminderEvent(Fact[_ReminderId, _ReminderVersion], frozen=True, kw_only=True):
    """Fields every reminder event has: what it reminds of, and why."""

    item_id: Annotated[UUID, described("the item reminded of")]
    number: ItemNumber
    clock: Annotated[str, clock_names("the clock reminded of")]
    kind: Annotated[str, known_values("why it is sent", ReminderKind)]
    occurrence: Annotated[int, described("which reminder of this kind for the clock (1, 2, …)")]


@event("ReminderPlanned", kind="reminder")
class ReminderPlanned(ReminderEvent, frozen=True, kw_only=True):
    """The intent: this text goes to these contacts; written before any gateway is called."""

    contacts: Annotated[tuple[str, ...], described("contact ids it goes to")]
    text: str
    parts: Annotated[int, described("SMS segments the text needs")]
    gateway: _Gateway
    due_at: _Due
    planned_at: _Planned
    send_at: Annotated[Instant, described("when it goes out (after quiet hours or downtime)")]
    late: Annotated[bool, described("true when it goes out after planned_at")] = False
    quiet_shift: _Shift = ""
    urged_by: Annotated[str, described("for an urge: the supervisor's contact id")] = ""


@event("ReminderSent", kind="reminder")
class ReminderSent(ReminderEvent, frozen=True, kw_only=True):
    """One SMS accepted by the gateway for one contact."""

    contact: ContactId
    gateway: _Gateway
    message_id: Annotated[str, described("the gateway's message id")]
    due_at: _Due
    planned_at: _Planned
    sent_at: Instant
    late: bool = False
    quiet_shift: _Shift = ""
    attempt: Annotated[
        int, described("> 1: resent after a failure or a crash (the gateway dedupes by key)")
    ] = 1


@event("ReminderFailed", kind="reminder")
class ReminderFailed(ReminderEvent, frozen=True, kw_only=True):
    """A send to one contact failed; ``final`` when it will not be retried."""

    contact: ContactId
    gateway: _Gateway
    error: str
    attempt: int
    final: Annotated[bool, described("true: it will not be retried")] = False
    retry_at: Annotated[Instant | None, described("when it is retried")] = None


@event("ReminderSkipped", kind="reminder")
class ReminderSkipped(ReminderEvent, frozen=True, kw_only=True):
    """Nothing was sent, on purpose; ``reason`` says why (e.g. missed while the node was down)."""

    reason: str
    due_at: _Due
    planned_at: _Planned


@event("DeliveryReported", kind="reminder")
class DeliveryReported(ReminderEvent, frozen=True, kw_only=True):
    """A delivery receipt from the gateway (e.g. SMPP ``stat:DELIVRD``)."""

    contact: ContactId
    message_id: str
    status: Annotated[str, known_values("the receipt's state", get_args(DeliveryStatus))]
    reported_at: Instant


REMINDER_EVENTS: tuple[type[ReminderEvent], ...] = (
    ReminderPlanned,
    ReminderSent,
    ReminderFailed,
    ReminderSkipped,
    DeliveryReported,
)
