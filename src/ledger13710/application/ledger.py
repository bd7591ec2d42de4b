"""The node's ledger application: commands in, events stored, items out.

One :class:`LedgerApp` per node. It wires the pure domain (items, policy, calendar) to the
eventsourcing store, checks ids against the node's directory, and keeps the parent of a
sub-assigned part up to date in the same transaction as the part itself.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError

from ledger13710.application.base import check_choice, evidence
from ledger13710.application.review import ReviewApp
from ledger13710.domain import events as ev
from ledger13710.domain.directory import host_node
from ledger13710.domain.errors import ConflictError, InputError
from ledger13710.domain.item import Item
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.state import (
    PLAN_TARGET,
    REVIEW_FEEDBACK,
    REVIEW_RESOLUTION,
    ItemState,
    review_extension_clock,
)
from ledger13710.domain.types import Severity, Source
from ledger13710.logging import get_logger

log = get_logger("ledger13710.ledger")

#: How often a registration tries the next number after another process took its number.
REGISTER_ATTEMPTS = 50


class ParentLike(Protocol):
    """What a sub-assigned part takes from its parent (an item here, or one on a node above)."""

    @property
    def id(self) -> UUID: ...
    @property
    def number(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def board(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def lead_unit(self) -> str: ...
    @property
    def reference(self) -> str: ...


class LedgerApp(ReviewApp):
    """A node's event-sourced ledger: registering and the undertaking side's commands."""

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
        check_choice("source", source, [s.value for s in Source])
        check_choice("severity", severity, [s.value for s in Severity])
        check_choice("board", board, list(self.boards))
        for uid in (raising_unit, lead_unit, *co_units):
            self.directory.unit(uid)
        for uid in (lead_unit, *co_units):
            if host_node(uid, self.node_ids) != self.node_id:
                raise InputError(
                    f"{uid} is hosted by node {host_node(uid, self.node_ids)}, not {self.node_id}: "
                    "give the item to a unit hosted here and sub-assign the part to it"
                )
        unit = self._actor_unit(actor)
        now = self.clock.now()

        def make(number: str) -> Item:
            item = Item.register(
                number=number, title=title, detail=detail, source=source, board=board,
                severity=severity, raising_unit=raising_unit, lead_unit=lead_unit,
                co_units=co_units, now=now, actor=actor, unit=unit, reference=reference,
                origin_node=self.node_id,
            )  # fmt: skip
            if assign:
                self._may(item, Action.ASSIGN, actor)
                item.assign(deadlines=self._clocks(item, now), now=now, actor=actor, unit=unit)
            return item

        if number is not None:
            item = make(number)
            self._save(number, item, exists=f"item {number} is already registered")
        else:
            item = self._register_numbered(make, now, actor, unit)
        log.info("item_registered", node=self.node_id, item=item.state.number, lead=lead_unit)
        return item.state

    def _register_numbered(
        self, make: Callable[[str], Item], now: datetime, actor: str, unit: str
    ) -> Item:
        """Save the item ``make`` builds under the node's next number.

        Another process may issue the same number at the same time: its counter is saved
        first and ours is refused (optimistic concurrency), so we read the counter again and
        take the next number, a bounded number of times.
        """
        for attempt in range(1, REGISTER_ATTEMPTS + 1):
            counter = self._counter(now.year)
            number = counter.issue(now, actor, unit)
            while self.is_local(number):  # taken by an import or an explicit --number
                number = counter.issue(now, actor, unit)
            item = make(number)
            try:
                self.save(counter, item)
            except IntegrityError:
                log.info("number_taken_retrying", node=self.node_id, item=number, attempt=attempt)
                time.sleep(random.uniform(0, 0.005 * attempt))
                continue
            return item
        raise ConflictError(
            f"could not issue an item number after {REGISTER_ATTEMPTS} attempts: other "
            "registrations on this node keep taking the next one; retry"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def assign(self, number: str, *, actor: str, note: str = "") -> ItemState:
        """交办: start the item's clocks now."""
        now = self.clock.now()
        return self._act(
            number,
            actor,
            Action.ASSIGN,
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
        parent = self.load(number)
        self._may(parent, Action.SUB_ASSIGN, actor)
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
        parent: ParentLike,
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

    def deploy(
        self, number: str, *, actor: str, note: str = "", attach: Sequence[Path] = ()
    ) -> ItemState:
        """研究部署; ``attach``: evidence files (so for every command below)."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
        return self._act(
            number,
            actor,
            Action.DEPLOY,
            lambda it, u: it.deploy(note=note, now=now, actor=actor, unit=u, attachments=atts),
            staged,
        )

    def feedback(
        self, number: str, *, actor: str, content: str, attach: Sequence[Path] = ()
    ) -> ItemState:
        """反馈 (the raising side's review clock starts, when the policy times reviews)."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
        review = self.policy.review_deadline(REVIEW_FEEDBACK, now, self.calendar)
        return self._act(
            number,
            actor,
            Action.FEEDBACK,
            lambda it, u: it.feedback(
                content=content, now=now, actor=actor, unit=u, review=review, attachments=atts
            ),
            staged,
        )

    def progress(
        self,
        number: str,
        *,
        actor: str,
        content: str,
        milestone: int = 0,
        attach: Sequence[Path] = (),
    ) -> ItemState:
        """进展, optionally meeting plan milestone ``milestone``."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
        return self._act(
            number,
            actor,
            Action.PROGRESS,
            lambda it, u: it.progress(
                content=content,
                now=now,
                actor=actor,
                unit=u,
                milestone=milestone,
                attachments=atts,
            ),
            staged,
        )

    def resolve(
        self, number: str, *, actor: str, content: str, attach: Sequence[Path] = ()
    ) -> ItemState:
        """落实解决 (the raising side's review clock starts, when the policy times reviews)."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
        review = self.policy.review_deadline(REVIEW_RESOLUTION, now, self.calendar)
        return self._act(
            number,
            actor,
            Action.RESOLVE,
            lambda it, u: it.resolve(
                content=content, now=now, actor=actor, unit=u, review=review, attachments=atts
            ),
            staged,
        )

    def plan(
        self,
        number: str,
        *,
        actor: str,
        reason: str,
        milestones: Sequence[tuple[str, datetime]],
        target_at: datetime,
        attach: Sequence[Path] = (),
    ) -> ItemState:
        """时间节点和方案: each milestone becomes a tracked deadline, and so does the target."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
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
            Action.PLAN,
            lambda it, u: it.plan(
                reason=reason,
                target_at=target_at,
                milestones=steps,
                deadlines=deadlines,
                now=now,
                actor=actor,
                unit=u,
                attachments=atts,
            ),
            staged,
        )

    def request_extension(
        self,
        number: str,
        *,
        actor: str,
        clock: str,
        until: datetime,
        reason: str,
        attach: Sequence[Path] = (),
    ) -> ItemState:
        """延期申请 for one clock (and the raising side's clock to decide it, if timed)."""
        now, staged = self.clock.now(), self.stage(attach)
        atts = evidence(staged)
        review = self.policy.review_deadline(review_extension_clock(clock), now, self.calendar)
        return self._act(
            number,
            actor,
            Action.EXTEND,
            lambda it, u: it.request_extension(
                clock=clock,
                requested_due=until,
                reason=reason,
                now=now,
                actor=actor,
                unit=u,
                review=review,
                attachments=atts,
            ),
            staged,
        )


__all__ = ["LedgerApp"]
