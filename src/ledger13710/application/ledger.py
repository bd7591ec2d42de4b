"""The node's ledger application: commands in, events stored, items out.

One :class:`LedgerApp` per node. It wires the pure domain (items, policy, calendar) to the
eventsourcing store, checks ids against the node's directory, and keeps the parent of a
sub-assigned part up to date in the same transaction as the part itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper

from ledger13710.application.mapper import MsgspecMapper
from ledger13710.boards import Board
from ledger13710.domain import events as ev
from ledger13710.domain.calendar import WorkCalendar
from ledger13710.domain.clock import Clock
from ledger13710.domain.directory import Directory, host_node
from ledger13710.domain.errors import ConflictError, InputError, NotFoundError
from ledger13710.domain.item import Item, item_id
from ledger13710.domain.numbering import Numbering, project_numbering
from ledger13710.domain.policy import Policy
from ledger13710.domain.snapshot import ItemSnapshot, project_item
from ledger13710.domain.state import PLAN_TARGET, ItemState
from ledger13710.domain.types import Clock as ClockName
from ledger13710.domain.types import Deadline, Severity, Source
from ledger13710.logging import get_logger

log = get_logger("ledger13710.ledger")


class LedgerApp(Application[UUID]):
    """A node's event-sourced ledger."""

    name = "ledger13710"
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
    ) -> None:
        self.node_id = node_id
        self.policy = policy
        self.calendar = calendar
        self.clock = clock
        self.directory = directory
        self.boards = dict(boards)
        self.node_ids = frozenset(node_ids) | {node_id}
        base = {"AGGREGATE_CACHE_MAXSIZE": "1000", "COMPRESSOR_TOPIC": ""}
        super().__init__(env={**base, **(env or {})})

    def construct_mapper(self) -> Mapper[UUID]:
        """Store msgspec Structs (the stock mapper cannot)."""
        return MsgspecMapper()

    # -- reading -----------------------------------------------------------------------------

    def item(self, number: str) -> ItemState:
        """The current state of item ``number``."""
        return self._load(number).state

    def item_events(self, number: str) -> list[ev.ItemEvent]:
        """Every stored event of item ``number``, oldest first."""
        self._load(number)
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
            yield self._get(iid).state

    def _get(self, iid: UUID) -> Item:
        agg: Item = self.repository.get(iid, projector_func=project_item)
        return agg

    def _load(self, number: str) -> Item:
        try:
            return self._get(item_id(number))
        except AggregateNotFoundError:
            raise NotFoundError(f"no item {number!r} on node {self.node_id}") from None

    # -- registering -------------------------------------------------------------------------

    def register(
        self,
        *,
        title: str,
        source: str,
        board: str,
        severity: str,
        raising_unit: str,
        lead_unit: str,
        actor: str,
        co_units: Sequence[str] = (),
        detail: str = "",
        reference: str = "",
        number: str | None = None,
        assign: bool = False,
    ) -> ItemState:
        """立项 (and, with ``assign``, 交办 in the same transaction)."""
        _choice("source", source, [s.value for s in Source])
        _choice("severity", severity, [s.value for s in Severity])
        _choice("board", board, list(self.boards))
        for uid in (raising_unit, lead_unit, *co_units):
            self.directory.unit(uid)
        unit = self._actor_unit(actor)
        now = self.clock.now()
        counter: Numbering | None = None
        if number is None:
            counter = self._counter(now.year)
            number = counter.issue(now, actor, unit)
        item = Item.register(
            number=number,
            title=title,
            detail=detail,
            source=source,
            board=board,
            severity=severity,
            raising_unit=raising_unit,
            lead_unit=lead_unit,
            co_units=co_units,
            now=now,
            actor=actor,
            unit=unit,
            reference=reference,
            origin_node=self.node_id,
        )
        if assign:
            item.assign(deadlines=self._clocks(item, now), now=now, actor=actor, unit=unit)
        self._save(number, counter, item, exists=f"item {number} is already registered")
        log.info("item_registered", node=self.node_id, item=number, lead=lead_unit)
        return item.state

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

    # -- lifecycle ---------------------------------------------------------------------------

    def assign(self, number: str, *, actor: str, note: str = "") -> ItemState:
        """交办: start the item's clocks now."""
        now = self.clock.now()
        return self._act(
            number,
            actor,
            lambda it, unit: it.assign(
                deadlines=self._clocks(it, now), now=now, actor=actor, unit=unit, note=note
            ),
        )

    def sub_assign(self, number: str, *, to_unit: str, part: str, actor: str) -> ItemState:
        """分解交办: a part goes to a lower unit as a linked child item.

        When this node hosts the unit, the child is created and assigned here in the same
        transaction; otherwise only the parent records it and federation delivers it.
        """
        self.directory.unit(to_unit)
        unit = self._actor_unit(actor)
        parent = self._load(number)
        now = self.clock.now()
        child_number = f"{number}-{len(parent.state.children) + 1}"
        host = host_node(to_unit, self.node_ids)
        parent.sub_assign(
            child_number=child_number,
            to_unit=to_unit,
            part=part,
            host_node=host,
            now=now,
            actor=actor,
            unit=unit,
        )
        child = None
        if host == self.node_id:
            child = self.child_item(
                parent.state,
                number=child_number,
                to_unit=to_unit,
                part=part,
                now=now,
                actor=actor,
                unit=unit,
            )
            parent.child_updated(child.state, now)
        self._save(number, parent, child)
        return self.item(child_number) if child is not None else parent.state

    def child_item(
        self,
        parent: ItemState,
        *,
        number: str,
        to_unit: str,
        part: str,
        now: datetime,
        actor: str,
        unit: str,
    ) -> Item:
        """Register and assign the child item of a sub-assignment (used here and by federation)."""
        child = Item.register(
            number=number,
            title=parent.title,
            detail=part,
            source=parent.source,
            board=parent.board,
            severity=parent.severity,
            raising_unit=parent.lead_unit,
            lead_unit=to_unit,
            co_units=(),
            now=now,
            actor=actor,
            unit=unit,
            reference=parent.reference,
            origin_node=self.node_id,
            parent_id=parent.id,
            parent_number=parent.number,
            part=part,
        )
        child.assign(deadlines=self._clocks(child, now), now=now, actor=actor, unit=unit)
        return child

    def deploy(self, number: str, *, actor: str, note: str = "") -> ItemState:
        """研究部署."""
        now = self.clock.now()
        return self._act(
            number, actor, lambda it, u: it.deploy(note=note, now=now, actor=actor, unit=u)
        )

    def feedback(self, number: str, *, actor: str, content: str) -> ItemState:
        """反馈."""
        now = self.clock.now()
        return self._act(
            number, actor, lambda it, u: it.feedback(content=content, now=now, actor=actor, unit=u)
        )

    def progress(self, number: str, *, actor: str, content: str, milestone: int = 0) -> ItemState:
        """进展, optionally meeting plan milestone ``milestone``."""
        now = self.clock.now()
        return self._act(
            number,
            actor,
            lambda it, u: it.progress(
                content=content, now=now, actor=actor, unit=u, milestone=milestone
            ),
        )

    def resolve(self, number: str, *, actor: str, content: str) -> ItemState:
        """落实解决."""
        now = self.clock.now()
        return self._act(
            number, actor, lambda it, u: it.resolve(content=content, now=now, actor=actor, unit=u)
        )

    def plan(
        self,
        number: str,
        *,
        actor: str,
        reason: str,
        milestones: Sequence[tuple[str, datetime]],
        target_at: datetime,
    ) -> ItemState:
        """时间节点和方案: each milestone becomes a tracked deadline, and so does the target."""
        now = self.clock.now()
        steps = [ev.PlanMilestone(title=t, due_at=d) for t, d in milestones]
        deadlines = [
            self.policy.milestone_deadline(i, now, m.due_at, self.calendar)
            for i, m in enumerate(steps, 1)
        ]
        if deadlines:
            target = self.policy.milestone_deadline(len(steps) + 1, now, target_at, self.calendar)
            deadlines.append(msgspec.structs.replace(target, clock=PLAN_TARGET))
        return self._act(
            number,
            actor,
            lambda it, u: it.plan(
                reason=reason,
                target_at=target_at,
                milestones=steps,
                deadlines=deadlines,
                now=now,
                actor=actor,
                unit=u,
            ),
        )

    def request_extension(
        self, number: str, *, actor: str, clock: str, until: datetime, reason: str
    ) -> ItemState:
        """延期申请 for one clock."""
        now = self.clock.now()
        return self._act(
            number,
            actor,
            lambda it, u: it.request_extension(
                clock=clock, requested_due=until, reason=reason, now=now, actor=actor, unit=u
            ),
        )

    def decide_extension(
        self,
        number: str,
        *,
        actor: str,
        clock: str,
        approve: bool,
        reason: str = "",
        until: datetime | None = None,
    ) -> ItemState:
        """延期审批: approve (to ``until`` or the requested time) or deny."""
        now = self.clock.now()

        def decide(it: Item, unit: str) -> None:
            deadline = None
            pending = it.state.pending_extensions.get(clock)
            if approve and pending is not None:
                previous = it.state.deadlines[clock]
                due = until or pending.requested_due
                deadline = self.policy.extended_deadline(previous, due, now, self.calendar)
            it.decide_extension(
                clock=clock, deadline=deadline, reason=reason, now=now, actor=actor, unit=unit
            )

        return self._act(number, actor, decide)

    def return_for_rework(self, number: str, *, actor: str, reason: str) -> ItemState:
        """退回."""
        now = self.clock.now()
        return self._act(
            number,
            actor,
            lambda it, u: it.return_for_rework(reason=reason, now=now, actor=actor, unit=u),
        )

    def urge(self, number: str, *, actor: str, message: str) -> ItemState:
        """催办."""
        now = self.clock.now()
        return self._act(
            number, actor, lambda it, u: it.urge(message=message, now=now, actor=actor, unit=u)
        )

    def close_out(self, number: str, *, actor: str, verdict: str) -> ItemState:
        """销号."""
        now = self.clock.now()
        return self._act(
            number, actor, lambda it, u: it.close_out(verdict=verdict, now=now, actor=actor, unit=u)
        )

    def cancel(self, number: str, *, actor: str, reason: str, approved_by: str) -> ItemState:
        """撤销, with reason and approval."""
        if approved_by:
            self.directory.contact(approved_by)
        now = self.clock.now()
        return self._act(
            number,
            actor,
            lambda it, u: it.cancel(
                reason=reason, approved_by=approved_by, now=now, actor=actor, unit=u
            ),
        )

    # -- plumbing ----------------------------------------------------------------------------

    def _actor_unit(self, actor: str) -> str:
        return self.directory.contact(actor).unit

    def _act(self, number: str, actor: str, command: Callable[[Item, str], None]) -> ItemState:
        unit = self._actor_unit(actor)
        item = self._load(number)
        command(item, unit)
        parent = self._parent_to_update(item)
        self._save(number, item, parent)
        return item.state

    def _parent_to_update(self, item: Item) -> Item | None:
        pid = item.state.parent_id
        if pid is None:
            return None
        try:
            parent = self._get(pid)
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


def _choice(what: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")


__all__ = ["LedgerApp"]
