"""The item aggregate: command methods check the rules, then emit events.

A refused command raises :class:`InvalidTransitionError` (or :class:`InputError`) before any
event exists, so nothing is written. Who may act is decided here too: undertaking actions belong
to the lead unit (progress also to co-units), review actions to the raising side. The checks
themselves live in :mod:`ledger13710.domain.guards`; each command calls them, then emits.
Every free-text field is held to its length limit (:data:`ledger13710.domain.text.LIMITS`) as
its event is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID, uuid5

from ledger13710.domain import events as ev
from ledger13710.domain import guards
from ledger13710.domain.attachments import Evidence, check_erasure
from ledger13710.domain.errors import InputError

# Re-exported: callers import the lifecycle table and the role rule from here too.
from ledger13710.domain.lifecycle import (
    ALLOWED,
    PART_ACTIONS,
    Action,
    allowed_actions,
    may_supervise,
)
from ledger13710.domain.state import ItemState, State, copy_state, evolve
from ledger13710.domain.text import LIMITS, check_lengths
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
        guards.check_number(number)
        guards.check_registration(title, lead_unit, co_units)
        check_lengths(title=title, detail=detail, reference=reference, part=part)
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

    # -- emitting ----------------------------------------------------------------------------

    def _emit(self, cls: type[E], now: datetime, actor: str, unit: str, **fields: Any) -> E:
        check_lengths(**{k: v for k, v in fields.items() if k in LIMITS and isinstance(v, str)})
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
        guards.check_allowed(self.state, Action.ASSIGN)
        guards.require_supervisor(self.state, Action.ASSIGN, unit)
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
        guards.check_allowed(self.state, Action.SUB_ASSIGN)
        guards.require_lead(self.state, Action.SUB_ASSIGN, unit)
        guards.check_part_target(self.state, to_unit, part)
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
        attachments: Evidence = (),
    ) -> ev.PartReviewed:
        """A review decision on a part that lives on a lower node (it applies it there)."""
        guards.check_allowed(self.state, Action.REVIEW_PART)
        ref = guards.part_to_review(self.state, child_number, action, unit)
        guards.need_text(text, "a reason or message")
        return self._emit(
            ev.PartReviewed, now, actor, unit,
            child_id=item_id(child_number), child_number=child_number, host_node=ref.host_node,
            action=action, text=text, clock=clock, until=until, approved_by=approved_by,
            attachments=attachments,
        )  # fmt: skip

    def deploy(
        self, *, note: str, now: datetime, actor: str, unit: str, attachments: Evidence = ()
    ) -> None:
        """研究部署: the "1"."""
        guards.check_allowed(self.state, Action.DEPLOY)
        guards.require_lead(self.state, Action.DEPLOY, unit, co_ok=True)
        self._emit(ev.Deployed, now, actor, unit, note=note, attachments=attachments)

    def feedback(
        self, *, content: str, now: datetime, actor: str, unit: str,
        review: Deadline | None = None, attachments: Evidence = (),
    ) -> None:  # fmt: skip
        """反馈: the "3"; ``review`` is the raising side's clock to accept it, if timed."""
        self._report(
            ev.FeedbackSubmitted, Action.FEEDBACK, "feedback content", content, now, actor, unit,
            review, attachments,
        )  # fmt: skip

    def accept_feedback(self, *, note: str, now: datetime, actor: str, unit: str) -> None:
        """反馈审核通过: the raising side accepts the latest feedback."""
        guards.check_allowed(self.state, Action.ACCEPT_FEEDBACK)
        guards.require_supervisor(self.state, "accept feedback", unit)
        guards.check_feedback_pending(self.state)
        self._emit(ev.FeedbackAccepted, now, actor, unit, note=note)

    def progress(
        self, *, content: str, now: datetime, actor: str, unit: str, milestone: int = 0,
        attachments: Evidence = (),
    ) -> None:  # fmt: skip
        """进展: a progress report, optionally meeting a plan milestone."""
        guards.check_allowed(self.state, Action.PROGRESS)
        guards.require_lead(self.state, Action.PROGRESS, unit, co_ok=True)
        guards.need_text(content, "progress content", "content")
        guards.check_milestone(self.state, milestone)
        self._emit(
            ev.ProgressReported, now, actor, unit, content=content, milestone=milestone,
            attachments=attachments,
        )  # fmt: skip

    def resolve(
        self, *, content: str, now: datetime, actor: str, unit: str,
        review: Deadline | None = None, attachments: Evidence = (),
    ) -> None:  # fmt: skip
        """落实解决; ``review`` is the raising side's clock to close it out, if timed."""
        self._report(
            ev.Resolved, Action.RESOLVE, "what was done", content, now, actor, unit, review,
            attachments,
        )  # fmt: skip

    def _report(
        self, cls: type[ev.FeedbackSubmitted | ev.Resolved], action: Action, what: str,
        content: str, now: datetime, actor: str, unit: str, review: Deadline | None,
        attachments: Evidence,
    ) -> None:  # fmt: skip
        """反馈 or 落实解决: a report of the lead unit that the raising side reviews."""
        guards.check_allowed(self.state, action)
        guards.require_lead(self.state, action, unit)
        guards.need_text(content, what, "content")
        self._emit(
            cls, now, actor, unit, content=content, review_deadline=review,
            attachments=attachments,
        )  # fmt: skip

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
        attachments: Evidence = (),
    ) -> None:
        """时间节点和方案: milestones become tracked deadlines."""
        guards.check_allowed(self.state, Action.PLAN)
        guards.require_lead(self.state, Action.PLAN, unit)
        guards.need_text(reason, "why the problem cannot be solved in time", "reason")
        guards.check_plan(milestones, target_at, now)
        for m in milestones:
            check_lengths(milestone=m.title)
        self._emit(
            ev.PlanSubmitted,
            now,
            actor,
            unit,
            reason=reason,
            target_at=target_at,
            milestones=tuple(milestones),
            deadlines=tuple(deadlines),
            attachments=attachments,
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
        review: Deadline | None = None,
        attachments: Evidence = (),
    ) -> None:
        """延期申请; ``review`` is the raising side's clock to decide it, if timed."""
        guards.check_allowed(self.state, Action.EXTEND)
        guards.require_lead(self.state, "request an extension", unit)
        guards.check_extension_request(self.state, clock, requested_due)
        guards.need_text(reason, "a reason for the extension", "reason")
        self._emit(
            ev.ExtensionRequested,
            now,
            actor,
            unit,
            clock=clock,
            requested_due=requested_due,
            reason=reason,
            review_deadline=review,
            attachments=attachments,
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
        attachments: Evidence = (),
    ) -> None:
        """延期审批: approve with the new ``deadline``, or deny when it is ``None``."""
        guards.check_allowed(self.state, Action.EXTEND_DECISION)
        guards.require_supervisor(self.state, "decide an extension", unit)
        guards.check_extension_waiting(self.state, clock)
        if deadline is None:
            guards.need_text(reason, "a reason for the denial", "reason")
            self._emit(
                ev.ExtensionDenied, now, actor, unit, clock=clock, reason=reason,
                attachments=attachments,
            )  # fmt: skip
        else:
            self._emit(
                ev.ExtensionApproved, now, actor, unit, clock=clock, deadline=deadline,
                note=reason, attachments=attachments,
            )  # fmt: skip

    def return_for_rework(
        self,
        *,
        reason: str,
        now: datetime,
        actor: str,
        unit: str,
        untrue: bool = False,
        attachments: Evidence = (),
    ) -> None:
        """退回: reject the latest feedback (in progress) or resolution (resolved); ``untrue``
        marks the feedback as untrue (不实), which the points rules deduct for."""
        guards.check_allowed(self.state, Action.RETURN)
        guards.require_supervisor(self.state, Action.RETURN, unit)
        guards.need_text(reason, "why it is returned", "reason")
        stage = "resolution" if self.state.state == State.RESOLVED else "feedback"
        if untrue and stage != "feedback":
            raise InputError(f"item {self.state.number}: only feedback can be marked untrue")
        self._emit(
            ev.Returned,
            now,
            actor,
            unit,
            stage=stage,
            reason=reason,
            returns=self.state.returns + 1,
            untrue=untrue,
            attachments=attachments,
        )

    def urge(self, *, message: str, now: datetime, actor: str, unit: str) -> None:
        """催办."""
        guards.check_allowed(self.state, Action.URGE)
        guards.require_supervisor(self.state, Action.URGE, unit)
        guards.need_text(message, "the supervisor's message", "message")
        self._emit(ev.Urged, now, actor, unit, message=message)

    def close_out(
        self, *, verdict: str, now: datetime, actor: str, unit: str, attachments: Evidence = ()
    ) -> None:
        """销号: the "0". Every sub-assigned part must be resolved or finished first."""
        guards.check_allowed(self.state, Action.CLOSE_OUT)
        guards.require_supervisor(self.state, Action.CLOSE_OUT, unit)
        guards.check_parts_done(self.state)
        guards.need_text(verdict, "the close-out verdict", "verdict")
        self._emit(ev.ClosedOut, now, actor, unit, verdict=verdict, attachments=attachments)

    def cancel(
        self, *, reason: str, approved_by: str, now: datetime, actor: str, unit: str,
        attachments: Evidence = (),
    ) -> None:  # fmt: skip
        """撤销, with a reason and the approving leader."""
        guards.check_allowed(self.state, Action.CANCEL)
        guards.require_supervisor(self.state, Action.CANCEL, unit)
        guards.need_text(reason, "a reason for cancelling", "reason")
        guards.need_text(approved_by, "who approved the cancellation", "approved_by")
        self._emit(
            ev.Cancelled, now, actor, unit, reason=reason, approved_by=approved_by,
            attachments=attachments,
        )  # fmt: skip

    def erase_attachment(
        self, *, sha256: str, decision: str, reason: str, now: datetime, actor: str, unit: str
    ) -> bool:
        """删除附件: erase a file's bytes by a recorded decision of the raising side.

        Allowed in every state (a closed item's photo may still hold personal data). Returns
        False, emitting nothing, when the item's file was erased before.
        """
        guards.require_supervisor(self.state, "erase an attachment", unit)
        check_erasure(self.state.evidence, self.state.erased, sha256)
        if sha256 not in self.state.evidence:
            return False
        guards.need_text(decision, "the erasure decision's reference", "decision")
        guards.need_text(reason, "why the file is erased", "reason")
        self._emit(
            ev.AttachmentErased, now, actor, unit, sha256=sha256, decision=decision, reason=reason
        )
        return True


__all__ = [
    "ALLOWED",
    "ITEM_NAMESPACE",
    "PART_ACTIONS",
    "Item",
    "allowed_actions",
    "item_id",
    "may_supervise",
]
