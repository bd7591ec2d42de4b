"""Reminder events: stable ``ledger13710.reminder.*`` topics, JSON round trip, deterministic ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

import msgspec

from ledger13710.application.mapper import MsgspecMapper
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.events import EVENT_TYPES
from ledger13710.domain.types import SHANGHAI

T0 = datetime(2016, 10, 20, 18, 59, 59, tzinfo=SHANGHAI)


def samples() -> list[rev.ReminderEvent]:
    """One instance of each reminder event type."""
    item = uuid4()
    rid = rev.reminder_id(item, "deploy", "before-due", 1)
    base: dict[str, Any] = {
        "originator_id": rid, "timestamp": T0, "item_id": item, "number": "sx-2016-0001",
        "clock": "deploy", "kind": "before-due", "occurrence": 1,
    }  # fmt: skip
    return [
        rev.ReminderPlanned(**base, originator_version=1, contacts=("a", "b"), text="提醒",
                            parts=1, gateway="outbox", due_at=T0, planned_at=T0, send_at=T0),
        rev.ReminderSent(**base, originator_version=2, contact="a", gateway="smpp",
                         message_id="SM1", due_at=T0, planned_at=T0, sent_at=T0),
        rev.ReminderFailed(**base, originator_version=3, contact="b", gateway="smpp",
                           error="down", attempt=1, retry_at=T0),
        rev.DeliveryReported(**base, originator_version=4, contact="a", message_id="SM1",
                             status="delivered", reported_at=T0),
        rev.ReminderSkipped(**base, originator_version=1, reason="missed", due_at=T0,
                            planned_at=T0),
    ]  # fmt: skip


def test_every_reminder_event_has_a_reminder_topic_and_round_trips() -> None:
    """Each type is registered as ledger13710.reminder.<Name>.v1 and survives the mapper."""
    mapper = MsgspecMapper()
    seen = {type(e) for e in samples()}
    assert seen == set(rev.REMINDER_EVENTS)
    for event in samples():
        assert f"ledger13710.reminder.{type(event).__name__}.v1" == type(event).TOPIC
        assert EVENT_TYPES[type(event).TOPIC] is type(event)
        stored = mapper.to_stored_event(event)
        assert mapper.to_domain_event(stored) == event
        assert "phone" not in msgspec.to_builtins(event)


def test_reminder_ids_are_deterministic_per_occurrence() -> None:
    """The same (item, clock, kind, occurrence) always gives the same id; another does not."""
    item = uuid4()
    first = rev.reminder_id(item, "resolve", "overdue", 1)
    assert first == rev.reminder_id(item, "resolve", "overdue", 1)
    assert first != rev.reminder_id(item, "resolve", "overdue", 2)
    assert rev.idempotency_key(first, "c1") == f"{first.hex}-c1"


def test_reminder_kind_values_are_what_the_schema_lists() -> None:
    """``kind`` stays a ``str`` on the wire; its schema lists exactly the ReminderKind values."""
    schema = msgspec.json.schema(rev.ReminderPlanned)
    kind = schema["$defs"]["ReminderPlanned"]["properties"]["kind"]
    assert {
        "type": "string",
        "description": "why it is sent",
        "enum": list(rev.ReminderKind),
    } == kind
