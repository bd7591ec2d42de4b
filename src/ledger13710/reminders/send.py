"""The sending step: one recorded intent's SMS through the gateway, each outcome recorded.

A contact's SMS goes out with the idempotency key ``<reminder>-<contact>`` and its outcome
(:class:`ReminderSent` / :class:`ReminderFailed`) is written right after, before the next
contact is tried. A gateway error is recorded as a failure: a retryable one puts the row back
with backoff and holds the remaining contacts too; a final one (no phone number, a message the
provider refused) moves on to the next contact. Failures and successes feed the gateway alert.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ledger13710.application.ledger import LedgerApp
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import Clock
from ledger13710.domain.directory import Directory
from ledger13710.logging import get_logger
from ledger13710.reminders.alerts import AlertBook
from ledger13710.reminders.compose import SentMessages, from_planned
from ledger13710.reminders.gateways.base import Gateway, GatewayError, Sms
from ledger13710.reminders.index import DueRow, ReminderIndex
from ledger13710.reminders.record import ReminderRecord
from ledger13710.reminders.settings import EngineSettings, TickReport

log = get_logger("ledger13710.reminders")


class Sender:
    """Sends the SMS of recorded intents and records what the gateway said."""

    def __init__(
        self,
        app: LedgerApp,
        gateway: Gateway,
        clock: Clock,
        *,
        index: ReminderIndex,
        settings: EngineSettings,
        alerts: AlertBook,
        receipts: SentMessages,
    ) -> None:
        self.app = app
        self.gateway = gateway
        self.clock = clock
        self.index = index
        self.settings = settings
        self.alerts = alerts
        self.receipts = receipts

    def deliver(
        self,
        row: DueRow,
        record: ReminderRecord,
        now: datetime,
        directory: Directory,
        rep: TickReport,
        *,
        resumed: bool,
    ) -> None:
        """Send to every contact of the intent still without an outcome.

        Contacts are sent in intent order, each outcome recorded before the next send. So when an
        intent from an earlier tick is resumed with no failure recorded, its first pending
        contact is the one a crash cut short: that SMS may have gone, so this send counts as
        attempt 2 (the gateway dedupes it by key); the later contacts were never tried.
        """
        planned = record.planned
        assert planned is not None
        in_doubt = resumed and not record.attempts
        for cid in record.pending():
            attempt = record.attempts.get(cid, 0) + 1 + (1 if in_doubt else 0)
            in_doubt = False
            base = from_planned(record.id, record.version + 1, now, planned)
            phone = directory.contact(cid).phone if directory.has_contact(cid) else ""
            try:
                if not phone:
                    raise GatewayError("no phone number in the directory", retryable=False)
                accepted = self.gateway.send(
                    Sms(
                        key=rev.idempotency_key(record.id, cid),
                        contact=cid,
                        phone=phone,
                        text=planned.text,
                        at=now,
                    )
                )
            except GatewayError as e:
                retry_at = now + timedelta(seconds=self.settings.backoff(attempt))
                failed = rev.ReminderFailed(
                    **base,
                    contact=cid,
                    gateway=self.gateway.name,
                    error=str(e),
                    attempt=attempt,
                    final=not e.retryable,
                    retry_at=None if not e.retryable else retry_at,
                )
                self.app.save(failed)
                record.apply(failed)
                rep.failed += 1
                alert = self.alerts.failure(self.gateway.name, str(e), now)
                log.warning(
                    "reminder_send_failed",
                    node=self.app.node_id,
                    item=planned.number,
                    clock=row.clock,
                    contact=cid,
                    error=str(e),
                    alert=alert.raised,
                )
                if e.retryable:
                    self.index.replace_row(row, replace(row, fire_at=retry_at))
                    return  # the gateway is in trouble: the others wait too
                continue
            sent = rev.ReminderSent(
                **base,
                contact=cid,
                gateway=self.gateway.name,
                message_id=accepted.message_id,
                due_at=row.due_at,
                planned_at=row.planned_at,
                sent_at=self.clock.now(),
                late=self._late_send(planned, now),
                quiet_shift=row.quiet_shift,
                attempt=attempt,
            )
            self.app.save(sent)
            record.apply(sent)
            self.alerts.success(self.gateway.name)
            self.receipts.remember(accepted.message_id, record.id, cid)
            rep.sent += 1
            log.info(
                "reminder_sent",
                node=self.app.node_id,
                item=planned.number,
                clock=row.clock,
                kind=row.kind,
                contact=cid,
                message_id=accepted.message_id,
                late=sent.late,
                duplicate=accepted.duplicate,
            )

    def _late_send(self, planned: rev.ReminderPlanned, now: datetime) -> bool:
        delay = (now - planned.send_at).total_seconds()
        return planned.late or delay > self.settings.late_after_s
