"""The item aggregate: command methods check the rules, then emit events.

A refused command raises :class:`InvalidTransitionError` (or :class:`InputError`) before any
event exists, so nothing is written. Who may act is decided here too: undertaking actions belong
to the lead unit (progress also to co-units), review actions to the raising side.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from ledger13710.domain import events as ev
from ledger13710.domain.directory import government_of, is_within
from ledger13710.domain.errors import InputError, InvalidTransitionError
from ledger13710.domain.lifecycle import (
    ALLOWED,
    PART_ACTIONS,
    allowed_actions,
    may_supervise,
)
from ledger13710.domain.state import FINISHED, ItemState, State, copy_state, evolve
from ledger13710.domain.types import Deadline

#: Namespace for deterministic item ids: the same item number always maps to the same id, on
#: every node, so a redelivered assignment or a re-imported row cannot create a second item.
ITEM_NAMESPACE = UUID("6f1c5e0e-13a7-4c10-9a1d-7a3b0f13c710")


def item_id(number: str) -> UUID:
    """The aggregate id of the item with this number."""
    return uuid5(ITEM_NAMESPACE, number)


E = TypeVar("E", bound=ev.ItemEvent)


class Item:
    """One supervised matter (督办事项). State lives in :class:`ItemState`."""

    def __init__(self, state: ItemState) -> None:
        self.state = state
        self._pending: list[ev.ItemEvent] = []

    @property
    def id(self) -> UUID:
        """The aggregate id (derived from the item number)."""
        return self.state.id

    @property
    def version(self) -> int:
        """Version of the last event applied."""
        return self.state.version

    @version.setter
    def version(self, value: int) -> None:
        self.state.version = value

    def __deepcopy__(self, memo: dict[int, Any]) -> Item:
        """A fast deep copy (the repository copies cached items before every command)."""
        clone = Item(copy_state(self.state))
        clone._pending = list(self._pending)
        return clone

    def collect_events(self) -> Sequence[ev.ItemEvent]:
        """Hand over the events emitted since the last save."""
        pending, self._pending = self._pending, []
        return pending

    # -- creation -----------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        *,
        number: str,
        title: str,
        detail: str,
        source: str,
        board: str,
        severity: str,
        raising_unit: str,
        lead_unit: str,
        co_units: Sequence[str],
        now: datetime,
        actor: str,
        unit: str,
        reference: str = "",
        origin_node: str = "",
        parent_id: UUID | None = None,
        parent_number: str = "",
        part: str = "",
    ) -> Item:
        """立项: create an item."""
        if not title.strip():
            raise InputError("an item needs a title (--title)")
        if lead_unit in co_units:
            raise InputError(f"lead unit {lead_unit} is also listed as a co-unit")
        if len(set(co_units)) != len(co_units):
            raise InputError("a co-unit is listed twice")
        event = ev.Registered(
            originator_id=item_id(number),
            originator_version=1,
            timestamp=now,
            actor=actor,
            unit=unit,
            number=number,
            title=title.strip(),
            detail=detail,
            source=source,
            board=board,
            severity=severity,
            raising_unit=raising_unit,
            lead_unit=lead_unit,
            co_units=tuple(co_units),
            reference=reference,
            origin_node=origin_node,
            parent_id=parent_id,
            parent_number=parent_number,
            part=part,
        )
        item = cls(evolve(None, event))
        item._pending.append(event)
        return item

    # -- guards ------------------------------------------------------------------------------

    def _check(self, action: str) -> None:
        if self.state.state not in ALLOWED[action]:
            raise InvalidTransitionError(
                self.state.number, self.state.state.value, action, allowed_actions(self.state.state)
            )

    def _require_lead(self, action: str, unit: str, *, co_ok: bool = False) -> None:
        s = self.state
        if unit == s.lead_unit or (co_ok and unit in s.co_units):
            return
        who = "the lead unit or a co-unit" if co_ok else "the lead unit"
        raise InputError(f"item {s.number}: '{action}' is for {who} ({s.lead_unit}), not {unit}")

    def _require_supervisor(self, action: str, unit: str) -> None:
        if not may_supervise(unit, self.state.raising_unit):
            raise InputError(
                f"item {self.state.number}: '{action}' is for the raising unit "
                f"({self.state.raising_unit}), its government or a general office above it, "
                f"not {unit}"
            )

    def _emit(self, cls: type[E], now: datetime, actor: str, unit: str, **fields: Any) -> E:
        event = cls(
            originator_id=self.id,
            originator_version=self.version + 1,
            timestamp=now,
            actor=actor,
            unit=unit,
            **fields,
        )
        evolve(self.state, event)
        self._pending.append(event)
        return event

    # -- lifecycle ---------------------------------------------------------------------------

    def assign(
        self, *, deadlines: Sequence[Deadline], now: datetime, actor: str, unit: str, note: str = ""
    ) -> None:
        """交办: start the clocks (deadlines computed by the policy at ``now``)."""
        self._check("assign")
        self._require_supervisor("assign", unit)
        self._emit(
            ev.Assigned,
            now,
            actor,
            unit,
            lead_unit=self.state.lead_unit,
            co_units=self.state.co_units,
            deadlines=tuple(deadlines),
            note=note,
        )

    def sub_assign(
        self,
        *,
        child_number: str,
        to_unit: str,
        part: str,
        host_node: str,
        now: datetime,
        actor: str,
        unit: str,
    ) -> ev.SubAssigned:
        """分解交办: hand a part to a unit below the lead unit's government."""
        self._check("sub-assign")
        self._require_lead("sub-assign", unit)
        lead_gov = government_of(self.state.lead_unit)
        if to_unit in (self.state.lead_unit, lead_gov, *self.state.co_units) or not is_within(
            to_unit, lead_gov
        ):
            raise InputError(
                f"item {self.state.number}: a part can go only to a unit under {lead_gov} "
                "(not the lead or a co-unit), "
                f"not {to_unit}"
            )
        if any(c.unit == to_unit for c in self.state.children.values()):
            raise InputError(f"item {self.state.number}: {to_unit} already has a part of it")
        if not part.strip():
            raise InputError("say which part is sub-assigned (--part)")
        return self._emit(
            ev.SubAssigned,
            now,
            actor,
            unit,
            child_id=item_id(child_number),
            child_number=child_number,
            to_unit=to_unit,
            part=part.strip(),
            host_node=host_node,
        )

    def child_updated(self, child: ItemState, now: datetime) -> None:
        """Roll up a sub-assigned part's new state (recorded by the system)."""
        ref = self.state.children.get(child.id.hex)
        if ref is None or ref.state == child.state.value:
            return
        self._emit(
            ev.ChildUpdated,
            now,
            "system",
            child.lead_unit,
            child_id=child.id,
            child_number=child.number,
            child_unit=child.lead_unit,
            child_state=child.state.value,
            child_version=child.version,
        )

    def review_part(
        self,
        *,
        child_number: str,
        action: str,
        text: str,
        now: datetime,
        actor: str,
        unit: str,
        clock: str = "",
        until: datetime | None = None,
        approved_by: str = "",
    ) -> ev.PartReviewed:
        """A review decision on a part that lives on a lower node (it applies it there)."""
        self._check("review-part")
        ref = next((c for c in self.state.children.values() if c.number == child_number), None)
        if ref is None:
            raise InputError(f"item {self.state.number} has no part {child_number}")
        if action not in PART_ACTIONS:
            raise InputError(f"unknown review action {action!r}; one of: {', '.join(PART_ACTIONS)}")
        if not may_supervise(unit, self.state.lead_unit):
            raise InputError(
                f"part {child_number}: '{action}' is for {self.state.lead_unit} (which gave the "
                f"part), its government or a general office above it, not {unit}"
            )
        _need_text(text, "a reason or message")
        return self._emit(
            ev.PartReviewed, now, actor, unit,
            child_id=item_id(child_number), child_number=child_number, host_node=ref.host_node,
            action=action, text=text, clock=clock, until=until, approved_by=approved_by,
        )  # fmt: skip

    def deploy(self, *, note: str, now: datetime, actor: str, unit: str) -> None:
        """研究部署: the "1"."""
        self._check("deploy")
        self._require_lead("deploy", unit, co_ok=True)
        self._emit(ev.Deployed, now, actor, unit, note=note)

    def feedback(self, *, content: str, now: datetime, actor: str, unit: str) -> None:
        """反馈: the "3"."""
        self._check("feedback")
        self._require_lead("feedback", unit)
        _need_text(content, "feedback content (--content)")
        self._emit(ev.FeedbackSubmitted, now, actor, unit, content=content)

    def progress(
        self, *, content: str, now: datetime, actor: str, unit: str, milestone: int = 0
    ) -> None:
        """进展: a progress report, optionally meeting a plan milestone."""
        self._check("progress")
        self._require_lead("progress", unit, co_ok=True)
        _need_text(content, "progress content (--content)")
        if milestone and not 1 <= milestone <= self.state.plan_milestones:
            raise InputError(
                f"item {self.state.number} has {self.state.plan_milestones} plan milestones; "
                f"there is no milestone {milestone}"
            )
        self._emit(ev.ProgressReported, now, actor, unit, content=content, milestone=milestone)

    def resolve(self, *, content: str, now: datetime, actor: str, unit: str) -> None:
        """落实解决."""
        self._check("resolve")
        self._require_lead("resolve", unit)
        _need_text(content, "what was done (--content)")
        self._emit(ev.Resolved, now, actor, unit, content=content)

    def plan(
        self,
        *,
        reason: str,
        target_at: datetime,
        milestones: Sequence[ev.PlanMilestone],
        deadlines: Sequence[Deadline],
        now: datetime,
        actor: str,
        unit: str,
    ) -> None:
        """时间节点和方案: milestones become tracked deadlines."""
        self._check("plan")
        self._require_lead("plan", unit)
        _need_text(reason, "why the problem cannot be solved in time (--reason)")
        if not milestones:
            raise InputError("a plan needs at least one milestone")
        last = now
        for i, m in enumerate(milestones, 1):
            if m.due_at <= last:
                raise InputError(f"plan milestone {i} ({m.title}) must be due after {last}")
            last = m.due_at
        if target_at < last:
            raise InputError("the plan's target date is before its last milestone")
        self._emit(
            ev.PlanSubmitted,
            now,
            actor,
            unit,
            reason=reason,
            target_at=target_at,
            milestones=tuple(milestones),
            deadlines=tuple(deadlines),
        )

    def request_extension(
        self,
        *,
        clock: str,
        requested_due: datetime,
        reason: str,
        now: datetime,
        actor: str,
        unit: str,
    ) -> None:
        """延期申请."""
        self._check("extend")
        self._require_lead("request an extension", unit)
        current = self._open_deadline(clock)
        if clock in self.state.pending_extensions:
            raise InputError(f"item {self.state.number}: an extension of {clock} already waits")
        if requested_due <= current.due_at:
            raise InputError(
                f"the requested due time {requested_due} is not later than {current.due_at}"
            )
        _need_text(reason, "a reason for the extension (--reason)")
        self._emit(
            ev.ExtensionRequested,
            now,
            actor,
            unit,
            clock=clock,
            requested_due=requested_due,
            reason=reason,
        )

    def decide_extension(
        self,
        *,
        clock: str,
        deadline: Deadline | None,
        reason: str,
        now: datetime,
        actor: str,
        unit: str,
    ) -> None:
        """延期审批: approve with the new ``deadline``, or deny when it is ``None``."""
        self._check("extend-decision")
        self._require_supervisor("decide an extension", unit)
        if clock not in self.state.pending_extensions:
            raise InputError(f"item {self.state.number}: no extension of {clock} is waiting")
        if deadline is None:
            _need_text(reason, "a reason for the denial (--reason)")
            self._emit(ev.ExtensionDenied, now, actor, unit, clock=clock, reason=reason)
        else:
            self._emit(
                ev.ExtensionApproved, now, actor, unit, clock=clock, deadline=deadline, note=reason
            )

    def return_for_rework(self, *, reason: str, now: datetime, actor: str, unit: str) -> None:
        """退回: reject the latest feedback (in progress) or resolution (resolved)."""
        self._check("return")
        self._require_supervisor("return", unit)
        _need_text(reason, "why it is returned (--reason)")
        stage = "resolution" if self.state.state == State.RESOLVED else "feedback"
        self._emit(
            ev.Returned,
            now,
            actor,
            unit,
            stage=stage,
            reason=reason,
            returns=self.state.returns + 1,
        )

    def urge(self, *, message: str, now: datetime, actor: str, unit: str) -> None:
        """催办."""
        self._check("urge")
        self._require_supervisor("urge", unit)
        _need_text(message, "the supervisor's message (--message)")
        self._emit(ev.Urged, now, actor, unit, message=message)

    def close_out(self, *, verdict: str, now: datetime, actor: str, unit: str) -> None:
        """销号: the "0". Every sub-assigned part must be resolved or finished first."""
        self._check("close-out")
        self._require_supervisor("close-out", unit)
        waiting = [
            c.number
            for c in self.state.children.values()
            if c.state not in (State.RESOLVED, *FINISHED)
        ]
        if waiting:
            raise InputError(
                f"item {self.state.number} cannot be closed out: parts still open: "
                + ", ".join(sorted(waiting))
            )
        _need_text(verdict, "the close-out verdict (--verdict)")
        self._emit(ev.ClosedOut, now, actor, unit, verdict=verdict)

    def cancel(
        self, *, reason: str, approved_by: str, now: datetime, actor: str, unit: str
    ) -> None:
        """撤销, with a reason and the approving leader."""
        self._check("cancel")
        self._require_supervisor("cancel", unit)
        _need_text(reason, "a reason for cancelling (--reason)")
        _need_text(approved_by, "who approved the cancellation (--approved-by)")
        self._emit(ev.Cancelled, now, actor, unit, reason=reason, approved_by=approved_by)

    def _open_deadline(self, clock: str) -> Deadline:
        d = self.state.deadlines.get(clock)
        if d is None or clock in self.state.met:
            open_ = ", ".join(x.clock for x in self.state.open_clocks()) or "none"
            raise InputError(
                f"item {self.state.number} has no open clock '{clock}'; open clocks: {open_}"
            )
        return d


def _need_text(value: str, what: str) -> None:
    if not value.strip():
        raise InputError(f"missing {what}")


__all__ = [
    "ALLOWED",
    "ITEM_NAMESPACE",
    "PART_ACTIONS",
    "Item",
    "allowed_actions",
    "item_id",
    "may_supervise",
]
