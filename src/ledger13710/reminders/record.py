"""One reminder's recorded history, folded from its events (the outbox state)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from ledger13710.domain import reminder_events as rev


@dataclass
class ReminderRecord:
    """What the log says about one reminder aggregate."""

    id: UUID
    version: int = 0
    planned: rev.ReminderPlanned | None = None
    skipped: rev.ReminderSkipped | None = None
    sent: dict[str, rev.ReminderSent] = field(default_factory=dict)
    final_failures: dict[str, rev.ReminderFailed] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    reports: list[rev.DeliveryReported] = field(default_factory=list)

    def apply(self, e: rev.ReminderEvent) -> None:
        """Fold one event in."""
        self.version = e.originator_version
        match e:
            case rev.ReminderPlanned():
                self.planned = e
            case rev.ReminderSkipped():
                self.skipped = e
            case rev.ReminderSent():
                self.sent[e.contact] = e
                self.attempts[e.contact] = e.attempt
            case rev.ReminderFailed():
                self.attempts[e.contact] = e.attempt
                if e.final:
                    self.final_failures[e.contact] = e
            case rev.DeliveryReported():
                self.reports.append(e)
            case _:
                pass

    def pending(self) -> list[str]:
        """Contacts of the intent still without an outcome (to send, or to resend)."""
        if self.planned is None:
            return []
        done = self.sent.keys() | self.final_failures.keys()
        return [c for c in self.planned.contacts if c not in done]

    @property
    def complete(self) -> bool:
        """Skipped, or every contact of the intent has an outcome."""
        return self.skipped is not None or (self.planned is not None and not self.pending())


def fold(rid: UUID, events: Iterable[object]) -> ReminderRecord | None:
    """The record of reminder ``rid``, or None when it has no events."""
    record = ReminderRecord(rid)
    for e in events:
        if isinstance(e, rev.ReminderEvent):
            record.apply(e)
    return record if record.version else None
