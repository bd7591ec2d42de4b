"""The reminder engine: pops due rows from the index and turns each into recorded SMS.

Exactly once, provably:

1. the intent (:class:`ReminderPlanned`, version 1 of the reminder's aggregate, whose id is a
   deterministic uuid5 of item, clock, kind and occurrence) is written BEFORE any gateway call;
2. each contact's SMS goes to the gateway with the idempotency key ``<reminder>-<contact>``;
3. the outcome (:class:`ReminderSent` / :class:`ReminderFailed`) is written right after.

A crash between 2 and 3 leaves an intent without an outcome; its index row is still due, so the
next tick sends again with the SAME key and the gateway dedupes. A crash before 1 leaves nothing
but the row: the next tick starts over. Two engines racing on one reminder collide on the
aggregate version and the loser backs off.

After downtime the engine catches up: a before-due reminder whose clock is not yet due goes out
marked late; one whose clock is already due is recorded as skipped (the overdue notice covers
it); of several overdue notices missed, the latest goes and the earlier are recorded as ONE
skip (at the first missed occurrence, naming how many), never one per missed repetition: a node
back from months away does not flood its log, its parents and its integrators.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger13710.application.ledger import LedgerApp
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import Clock
from ledger13710.domain.directory import Directory
from ledger13710.domain.reminder_events import ReminderKind
from ledger13710.domain.state import ItemState
from ledger13710.logging import get_logger
from ledger13710.reminders import sms
from ledger13710.reminders.alerts import AlertBook
from ledger13710.reminders.compose import SentMessages, from_planned, from_row, recipients, wanted
from ledger13710.reminders.compose import text as compose_text
from ledger13710.reminders.gateways.base import Gateway
from ledger13710.reminders.index import TOPICS, DueRow, ReminderIndex
from ledger13710.reminders.record import ReminderRecord, fold
from ledger13710.reminders.schedule import (
    in_quiet,
    latest_overdue,
    overdue_at,
    quiet_end,
    shift_quiet,
)
from ledger13710.reminders.send import Sender
from ledger13710.reminders.settings import DirectorySource, EngineSettings, TickReport
from ledger13710.threads import run_sync

log = get_logger("ledger13710.reminders")


def _superseded(first: int, latest: int) -> str:
    """The reason recorded once for overdue notices ``first`` .. ``latest - 1``, never sent."""
    if latest - first == 1:
        return f"superseded: overdue notice {latest} was due by then"
    return (
        f"superseded: overdue notices {first}-{latest - 1} ({latest - first}) were missed; "
        f"only notice {latest} goes"
    )


class ReminderEngine:
    """Schedules, sends and records the reminders of one node."""

    def __init__(
        self,
        app: LedgerApp,
        directory: DirectorySource,
        gateway: Gateway,
        clock: Clock,
        *,
        index: ReminderIndex,
        settings: EngineSettings | None = None,
    ) -> None:
        self.app = app
        self.directory = directory
        self.index = index
        self.settings = settings or EngineSettings()
        self.policy = index.policy
        self.alerts = AlertBook(index.db, self.settings.alert_after)
        self.receipts = SentMessages(index.db)
        self.sender = Sender(
            app,
            gateway,
            clock,
            index=index,
            settings=self.settings,
            alerts=self.alerts,
            receipts=self.receipts,
        )

    @property
    def gateway(self) -> Gateway:
        """The gateway the SMS go to (the sender's)."""
        return self.sender.gateway

    @gateway.setter
    def gateway(self, gateway: Gateway) -> None:
        self.sender.gateway = gateway

    @property
    def clock(self) -> Clock:
        """The clock ticks and records read (the sender's, so a swap reaches both)."""
        return self.sender.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.sender.clock = clock

    # -- driving -----------------------------------------------------------------------------

    def tick(self) -> TickReport:
        """Catch the index up with the log, then handle everything due at ``clock.now()``."""
        self.follow()
        now = self.clock.now()
        report = TickReport()
        directory = self.directory.directory()
        for row in self.index.due(now, self.settings.batch):
            try:
                self._process(row, now, directory, report)
            except IntegrityError:
                report.errors.append(f"{row.item}/{row.clock}/{row.kind}: changed concurrently")
        self._collect_receipts(report)
        return report

    async def run(self, stop: asyncio.Event, interval_s: float = 1.0) -> None:
        """Tick in a worker thread every ``interval_s`` until ``stop`` is set."""
        while not stop.is_set():
            try:
                await run_sync(self.tick)
            except Exception as e:  # one bad tick (a locked store, say) must not stop reminders
                log.error("reminder_tick_failed", node=self.app.node_id, error=repr(e))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    def follow(self) -> int:
        """Apply the log's new item events to the index; return how many were read."""
        recorder = self.app.recorder
        read = 0
        while True:
            position = self.index.position()
            top = recorder.max_notification_id() or 0
            if top <= position:
                return read
            limit = 1000
            batch = recorder.select_notifications(
                start=position + 1, limit=limit, stop=top, topics=TOPICS
            )
            events = [self.app.mapper.to_domain_event(n) for n in batch]
            self.index.apply(batch[-1].id if len(batch) == limit else top, events)
            read += len(batch)

    def rebuild(self) -> int:
        """Forget the index and build it again from the whole log."""
        self.index.reset()
        return self.follow()

    # -- one row -----------------------------------------------------------------------------

    def _process(self, row: DueRow, now: datetime, directory: Directory, rep: TickReport) -> None:
        item = self._item(row.item)
        if item is None or not wanted(row, item):
            self.index.remove(row)
            rep.cancelled += 1
            return
        rid = rev.reminder_id(row.item, row.clock, row.kind, row.occurrence)
        record = self._record(rid)
        if record is None:
            caught_up = self._catch_up(row, item, now, rep)
            if caught_up is None:
                return
            row, record = caught_up
        resumed = record is not None
        if record is None:
            record = self._plan(row, item, now, directory, rep)
            if record is None:
                return
        if not record.complete:
            self.sender.deliver(row, record, now, directory, rep, resumed=resumed)
        if record.complete:
            self._finish(row)

    def _catch_up(
        self, row: DueRow, item: ItemState, now: datetime, rep: TickReport
    ) -> tuple[DueRow, ReminderRecord | None] | None:
        """Decide a row that has no record yet; None when it is dealt with (or postponed)."""
        repeat = self.policy.overdue_repeat_s
        if row.kind == ReminderKind.OVERDUE and row.due_at is not None:
            latest = latest_overdue(row.due_at, now, repeat)
            if latest > row.occurrence:
                self._skip(row, item, _superseded(row.occurrence, latest), rep)
                new = self.index.planned(
                    row.item,
                    row.clock,
                    ReminderKind.OVERDUE,
                    latest,
                    overdue_at(row.due_at, latest, repeat),
                    row.due_at,
                )
                self.index.replace_row(row, new)
                if new.fire_at > now:
                    return None
                row = new
                rid = rev.reminder_id(row.item, row.clock, row.kind, row.occurrence)
                return row, self._record(rid)
        if row.kind == ReminderKind.BEFORE_DUE and row.due_at is not None and now >= row.due_at:
            self._skip(
                row, item, "missed: the clock was already due; the overdue notice follows", rep
            )
            self.index.remove(row)
            return None
        if in_quiet(self.policy.quiet_hours, now):
            morning = quiet_end(self.policy.quiet_hours, now)
            if (
                row.kind == ReminderKind.BEFORE_DUE
                and row.due_at is not None
                and morning >= row.due_at
            ):
                self._skip(row, item, "quiet hours last until after the due time", rep)
                self.index.remove(row)
                return None
            self.index.replace_row(row, replace(row, fire_at=morning, quiet_shift="morning"))
            rep.postponed += 1
            return None
        return row, None

    def _plan(
        self, row: DueRow, item: ItemState, now: datetime, directory: Directory, rep: TickReport
    ) -> ReminderRecord | None:
        """Write the intent (version 1) before any gateway call."""
        contacts = recipients(self.policy, row, item, directory)
        if not contacts:
            self._skip(row, item, f"no reachable contacts for unit {item.lead_unit}", rep)
            self.index.remove(row)
            return None
        text = compose_text(row, item, directory, self.settings.max_parts)
        rid = rev.reminder_id(row.item, row.clock, row.kind, row.occurrence)
        planned = rev.ReminderPlanned(
            **from_row(rid, 1, now, row, item),
            contacts=tuple(c.id for c in contacts),
            text=text,
            parts=sms.parts(text),
            gateway=self.gateway.name,
            due_at=row.due_at,
            planned_at=row.planned_at,
            send_at=now,
            late=self._late_intent(row, now),
            quiet_shift=row.quiet_shift,
            urged_by=row.actor,
        )
        self.app.save(planned)
        record = ReminderRecord(rid)
        record.apply(planned)
        return record

    def _finish(self, row: DueRow) -> None:
        """Drop a done row; an overdue notice makes way for the next occurrence."""
        if row.kind != ReminderKind.OVERDUE or row.due_at is None:
            self.index.remove(row)
            return
        nxt = row.occurrence + 1
        at = overdue_at(row.due_at, nxt, self.policy.overdue_repeat_s)
        self.index.replace_row(
            row, self.index.planned(row.item, row.clock, ReminderKind.OVERDUE, nxt, at, row.due_at)
        )

    def _skip(self, row: DueRow, item: ItemState, reason: str, rep: TickReport) -> None:
        rid = rev.reminder_id(row.item, row.clock, row.kind, row.occurrence)
        if self._record(rid) is not None:
            return
        now = self.clock.now()
        self.app.save(
            rev.ReminderSkipped(
                **from_row(rid, 1, now, row, item),
                reason=reason,
                due_at=row.due_at,
                planned_at=row.planned_at,
            )
        )
        rep.skipped += 1
        log.info(
            "reminder_skipped",
            node=self.app.node_id,
            item=item.number,
            clock=row.clock,
            kind=row.kind,
            occurrence=row.occurrence,
            reason=reason,
        )

    # -- receipts ----------------------------------------------------------------------------

    def _collect_receipts(self, rep: TickReport) -> None:
        for receipt in self.gateway.receipts():
            for part_id in receipt.message_id.split(","):
                found = self.receipts.lookup(part_id)
                record = None if found is None else self._record(found[0])
                if found is None or record is None or record.planned is None:
                    log.warning("receipt_unknown_message", node=self.app.node_id, id=part_id)
                    continue
                now = self.clock.now()
                base = from_planned(record.id, record.version + 1, now, record.planned)
                self.app.save(
                    rev.DeliveryReported(
                        **base, contact=found[1], message_id=part_id, status=receipt.status,
                        reported_at=now,
                    )
                )  # fmt: skip
                rep.receipts += 1

    # -- helpers -----------------------------------------------------------------------------

    def _item(self, iid: UUID) -> ItemState | None:
        try:
            return self.app.aggregate(iid).state
        except AggregateNotFoundError:
            return None

    def _record(self, rid: UUID) -> ReminderRecord | None:
        return fold(rid, self.app.events.get(rid))

    def _late_intent(self, row: DueRow, now: datetime) -> bool:
        """Late against the instant the schedule meant (a quiet-hours shift is not lateness)."""
        meant, _ = shift_quiet(self.policy.quiet_hours, row.planned_at, row.due_at, row.kind)
        return (now - meant).total_seconds() > self.settings.late_after_s
