"""The node's ledger application: commands in, events stored, items out.

One :class:`LedgerApp` per node. It wires the pure domain (items, policy, calendar) to the
eventsourcing store, checks ids against the node's directory, and keeps the parent of a
sub-assigned part up to date in the same transaction as the part itself.

The class is one: its store wiring, reading and command plumbing are here, and its commands
are listed at the end, bound from the modules that hold their bodies (:mod:`.intake`,
:mod:`.undertaking`, :mod:`.review`). The recorder is a *process* recorder: besides events it
keeps tracking records, so a message from another node (an assignment, a review decision) is
applied exactly once, atomically with the events it causes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    Mapper,
    ProcessRecorder,
    Tracking,
)

from ledger13710.application import intake, review, undertaking
from ledger13710.application.attachments import AttachmentStore, Staged, describe, evidence
from ledger13710.application.mapper import MsgspecMapper
from ledger13710.application.recorders import chained_process_recorder
from ledger13710.config.boards import Board
from ledger13710.domain import events as ev
from ledger13710.domain import guards, roles
from ledger13710.domain.attachments import check_file, check_for_item
from ledger13710.domain.calendar import WorkCalendar
from ledger13710.domain.clock import Clock
from ledger13710.domain.directory import Directory
from ledger13710.domain.errors import ConflictError, InputError, NotFoundError
from ledger13710.domain.guards import check_number
from ledger13710.domain.item import Item, item_id
from ledger13710.domain.numbering import Numbering, project_numbering
from ledger13710.domain.policy import Policy
from ledger13710.domain.snapshot import ItemSnapshot, project_item
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import Clock as ClockName
from ledger13710.domain.types import Deadline, Severity
from ledger13710.logging import get_logger

log = get_logger("ledger13710.ledger")


class LedgerApp(Application[UUID]):
    """A node's event-sourced ledger: store wiring, reading, and every command on items."""

    #: eventsourcing names a PostgreSQL store's tables after the application
    #: (``ledgerapp_events``, ``ledgerapp_tracking``) and reads its settings under this prefix;
    #: every node created so far has those tables, so the name stays what it has always been.
    name = "LedgerApp"
    is_snapshotting_enabled = True
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {Item: 20}
    snapshotting_projectors: ClassVar[dict[type[Any], Any]] = {Item: project_item}
    snapshot_class = ItemSnapshot

    def __init__(
        self,
        *,
        node_id: str,
        policy: Policy,
        calendar: WorkCalendar,
        clock: Clock,
        directory: Directory,
        boards: Mapping[str, Board],
        node_ids: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        evidence_dir: Path | None = None,
    ) -> None:
        self.node_id = node_id
        self.policy = policy
        self.calendar = calendar
        self.clock = clock
        self.directory = directory
        self.boards = dict(boards)
        self.node_ids = frozenset(node_ids) | {node_id}
        self.evidence_store = AttachmentStore(evidence_dir) if evidence_dir is not None else None
        base = {"AGGREGATE_CACHE_MAXSIZE": "1000", "COMPRESSOR_TOPIC": ""}
        super().__init__(env={**base, **(env or {})})

    def construct_mapper(self) -> Mapper[UUID]:
        """Store msgspec Structs (the stock mapper cannot)."""
        return MsgspecMapper()

    def construct_recorder(self) -> ApplicationRecorder:
        """A recorder with tracking records (:meth:`save_tracked`) and the audit hash chain."""
        return chained_process_recorder(self.factory, self.node_id)

    def is_tracked(self, source: str, position: int) -> bool:
        """Whether message ``position`` of ``source`` was applied (see :meth:`save_tracked`)."""
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        return recorder.has_tracking_id(source, position)

    def save_tracked(self, source: str, position: int, *aggregates: Any) -> bool:
        """Save ``aggregates`` together with "message ``position`` of ``source`` applied".

        Returns False, writing nothing, when that message was applied before.
        """
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)
        if recorder.has_tracking_id(source, position):
            return False
        processing = ProcessingEvent[UUID](tracking=Tracking(source, position))
        processing.collect_events(*aggregates)
        try:
            recordings = self._record(processing)
        except IntegrityError:
            if recorder.has_tracking_id(source, position):
                return False
            raise
        self._take_snapshots(processing)
        self._notify(recordings)
        return True

    # -- reading -----------------------------------------------------------------------------

    def item(self, number: str) -> ItemState:
        """The current state of item ``number``."""
        return self.load(number).state

    def item_events(self, number: str) -> list[ev.ItemEvent]:
        """Every stored event of item ``number``, oldest first."""
        self.load(number)
        return [e for e in self.events.get(item_id(number)) if isinstance(e, ev.ItemEvent)]

    def item_ids(self) -> Iterator[UUID]:
        """Ids of every item registered in this node's log, in log order."""
        start = 1
        while True:
            batch = self.recorder.select_notifications(
                start=start, limit=500, topics=[ev.Registered.TOPIC]
            )
            for n in batch:
                yield UUID(str(n.originator_id))
            if len(batch) < 500:
                return
            start = batch[-1].id + 1

    def items(self) -> Iterator[ItemState]:
        """Every item's current state (the views issue replaces this with a projection)."""
        for iid in self.item_ids():
            yield self.aggregate(iid).state

    def aggregate(self, iid: UUID) -> Item:
        agg: Item = self.repository.get(iid, projector_func=project_item)
        return agg

    def is_local(self, number: str) -> bool:
        """Whether item ``number`` has events in this node's store (one indexed read)."""
        return bool(self.recorder.select_events(item_id(number), limit=1))

    def load(self, number: str) -> Item:
        check_number(number)
        try:
            return self.aggregate(item_id(number))
        except AggregateNotFoundError:
            raise NotFoundError(f"no item {number!r} on node {self.node_id}") from None

    def _counter(self, year: int) -> Numbering:
        try:
            agg: Numbering = self.repository.get(
                Numbering.id_for(self.node_id, year), projector_func=project_numbering
            )
        except AggregateNotFoundError:
            agg = Numbering(self.node_id, year)
        return agg

    def _clocks(self, item: Item, now: datetime) -> list[Deadline]:
        severity = Severity(item.state.severity)
        deadlines = [
            self.policy.deadline(c, now, severity, self.calendar)
            for c in (ClockName.DEPLOY, ClockName.FEEDBACK, ClockName.RESOLVE)
        ]
        self._warn_fallback(item.state.number, deadlines)
        return deadlines

    def _warn_fallback(self, number: str, deadlines: Sequence[Deadline]) -> None:
        for d in deadlines:
            if d.calendar_fallback:
                log.warning(
                    "calendar_year_not_covered",
                    node=self.node_id,
                    item=number,
                    clock=d.clock,
                    due_at=d.due_at.isoformat(),
                    detail="no official holiday data for this year: counted weekends only; "
                    "add the year to the calendar overrides file",
                )

    # -- plumbing ----------------------------------------------------------------------------

    def _actor_unit(self, actor: str) -> str:
        return self.directory.contact(actor).unit

    def stage(self, files: Sequence[Path]) -> list[Staged]:
        """Describe files to attach and check each against the policy; nothing is written."""
        if files:
            self.attachment_store()
        staged = [describe(f) for f in files]
        for s in staged:
            check_file(s.attachment, self.policy.attachments)
        return staged

    def attachment_store(self) -> AttachmentStore:
        """The node's attachment store (a ledger opened without one refuses attachments)."""
        if self.evidence_store is None:
            raise InputError(f"node {self.node_id} was opened without an attachment store")
        return self.evidence_store

    def _may(self, item: Item, action: str, actor: str) -> None:
        """Refuse ``actor`` unless the item's state allows ``action`` and their role does."""
        guards.check_allowed(item.state, action)
        roles.require_person(self.directory, item.state, action, actor)

    def _act(
        self,
        number: str,
        actor: str,
        action: str,
        command: Callable[[Item, str], Sequence[Item] | None],
        staged: Sequence[Staged] = (),
        check: Callable[[Item], None] = lambda item: None,
    ) -> ItemState:
        """Run ``command`` on item ``number`` with the actor's unit, once ``actor`` may take
        ``action`` and ``check`` passes; save the item (or the items ``command`` returns, when
        it changes parts too) with its parent, after the staged files."""
        unit = self._actor_unit(actor)
        item = self.load(number)
        self._may(item, action, actor)
        check(item)
        self._check_evidence(item, staged)
        changed = command(item, unit)
        parent = self._parent_to_update(item)
        self._keep(staged)
        self._save(number, *(changed if changed is not None else [item]), parent)
        return item.state

    def _check_evidence(self, item: Item, staged: Sequence[Staged]) -> None:
        """The item's limits: checked before the command, so a refusal writes nothing."""
        if staged:
            new = evidence(staged)
            check_for_item(item.state.evidence, item.state.erased, new, self.policy.attachments)

    def _keep(self, staged: Sequence[Staged]) -> None:
        """Store the files durably: always before the events that name them are saved."""
        if staged:
            self.attachment_store().put(staged)

    def _parent_to_update(self, item: Item) -> Item | None:
        pid = item.state.parent_id
        if pid is None:
            return None
        try:
            parent = self.aggregate(pid)
        except AggregateNotFoundError:
            return None  # the parent lives on an upper node; federation carries the update
        parent.child_updated(item.state, self.clock.now())
        return parent

    def _save(self, number: str, *aggregates: Any, exists: str = "") -> None:
        try:
            self.save(*aggregates)
        except IntegrityError:
            if exists:
                raise ConflictError(exists) from None
            raise ConflictError(
                f"item {number} was changed by someone else at the same time; "
                "look at it again and retry"
            ) from None

    # -- commands: every command of the class, its body in the module named ------------------

    register = intake.register
    assign = intake.assign
    sub_assign = intake.sub_assign
    child_item = intake.child_item

    deploy = undertaking.deploy
    feedback = undertaking.feedback
    progress = undertaking.progress
    resolve = undertaking.resolve
    plan = undertaking.plan
    request_extension = undertaking.request_extension

    decide_extension = review.decide_extension
    return_for_rework = review.return_for_rework
    accept_feedback = review.accept_feedback
    urge = review.urge
    close_out = review.close_out
    close_out_tree = review.close_out_tree
    cancel = review.cancel
    cancel_tree = review.cancel_tree
    erase_attachment = review.erase_attachment


__all__ = ["LedgerApp"]
