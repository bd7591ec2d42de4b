"""An item's state, and the one pure function that folds events into it.

:func:`evolve` is the only place state changes; commands in :mod:`ledger13710.domain.item`
decide *whether* an event may happen, :func:`evolve` says *what it means*. Replay, snapshots,
projections and audit replays all go through it, so they cannot disagree.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from ledger13710.domain import events as ev
from ledger13710.domain.types import Clock, Deadline, State, milestone_clock

__all__ = [  # State is defined with the domain's vocabulary (types.py) and re-exported here
    "FINISHED",
    "PLAN_TARGET",
    "ChildRef",
    "ItemState",
    "PendingExtension",
    "State",
    "copy_state",
    "evolve",
]

PLAN_TARGET = "plan-target"
#: The raising side's review clocks (审核时限): accepting feedback, closing out a resolution,
#: deciding an extension of clock ``c`` (``review-extension-<c>``).
REVIEW_FEEDBACK = "review-feedback"
REVIEW_RESOLUTION = "review-resolution"


def is_review_clock(clock: str) -> bool:
    """Whether ``clock`` is one of the raising side's review clocks."""
    return clock.startswith("review-")


def review_extension_clock(clock: str) -> str:
    """Name of the review clock that runs while an extension of ``clock`` awaits a decision."""
    return f"review-extension-{clock}"


FINISHED = frozenset({State.CLOSED, State.CANCELLED})


class ChildRef(msgspec.Struct, kw_only=True):
    """What a parent knows about one sub-assigned part."""

    number: str
    unit: str
    part: str
    host_node: str
    state: str = State.ASSIGNED.value
    version: int = 0


class PendingExtension(msgspec.Struct, frozen=True, kw_only=True):
    """An extension request awaiting a decision."""

    requested_due: datetime
    reason: str
    requested_at: datetime
    actor: str


class ItemState(msgspec.Struct, kw_only=True):
    """Everything the ledger knows about one item, as of ``version``."""

    id: UUID
    version: int
    number: str
    title: str
    detail: str
    source: str
    board: str
    severity: str
    raising_unit: str
    lead_unit: str
    co_units: tuple[str, ...]
    reference: str
    origin_node: str
    parent_id: UUID | None
    parent_number: str
    part: str
    registered_at: datetime
    updated_at: datetime
    state: State = State.REGISTERED
    deadlines: dict[str, Deadline] = msgspec.field(default_factory=dict)
    met: dict[str, datetime] = msgspec.field(default_factory=dict)
    returns: int = 0
    extensions_requested: int = 0
    extensions_granted: int = 0
    pending_extensions: dict[str, PendingExtension] = msgspec.field(default_factory=dict)
    urges: int = 0
    children: dict[str, ChildRef] = msgspec.field(default_factory=dict)
    plan_milestones: int = 0
    finished_at: datetime | None = None
    cancel_reason: str = ""
    reviews: dict[str, Deadline] = msgspec.field(default_factory=dict)  # open review clocks
    feedback_pending: bool = False  # the latest feedback awaits acceptance or return
    evidence: dict[str, int] = msgspec.field(default_factory=dict)
    erased: dict[str, str] = msgspec.field(default_factory=dict)

    def child_counts(self) -> dict[str, int]:
        """How many sub-assigned parts are in each state (the roll-up)."""
        counts: dict[str, int] = {}
        for child in self.children.values():
            counts[child.state] = counts.get(child.state, 0) + 1
        return counts

    def open_clocks(self) -> list[Deadline]:
        """Deadlines still to be met, earliest first."""
        if self.state in FINISHED or self.state is State.RESOLVED:
            return []  # a resolved item waits for review: no clock runs against the unit
        planned = PLAN_TARGET in self.deadlines  # the plan's target supersedes the resolve clock
        pending = [
            d
            for c, d in self.deadlines.items()
            if c not in self.met and not (planned and c == Clock.RESOLVE)
        ]
        return sorted(pending, key=lambda d: d.due_at)


def copy_state(state: ItemState) -> ItemState:
    """A deep, independent copy (snapshots and cached items share nothing with live state)."""
    return msgspec.json.decode(msgspec.json.encode(state), type=ItemState)


def _registered(e: ev.Registered) -> ItemState:
    return ItemState(
        id=e.originator_id,
        version=e.originator_version,
        number=e.number,
        title=e.title,
        detail=e.detail,
        source=e.source,
        board=e.board,
        severity=e.severity,
        raising_unit=e.raising_unit,
        lead_unit=e.lead_unit,
        co_units=e.co_units,
        reference=e.reference,
        origin_node=e.origin_node,
        parent_id=e.parent_id,
        parent_number=e.parent_number,
        part=e.part,
        registered_at=e.timestamp,
        updated_at=e.timestamp,
    )


def _apply(s: ItemState, e: ev.ItemEvent) -> None:  # noqa: PLR0912, PLR0915 - one branch per event type
    for att in getattr(e, "attachments", ()):
        s.evidence.setdefault(att.sha256, att.size)
    match e:
        case ev.Assigned():
            s.state = State.ASSIGNED
            s.lead_unit, s.co_units = e.lead_unit, e.co_units
            for d in e.deadlines:
                s.deadlines[d.clock] = d
        case ev.SubAssigned():
            s.children[e.child_id.hex] = ChildRef(
                number=e.child_number, unit=e.to_unit, part=e.part, host_node=e.host_node
            )
        case ev.ChildUpdated():
            ref = s.children.get(e.child_id.hex)
            if ref is not None and e.child_version >= ref.version:
                ref.state, ref.version = e.child_state, e.child_version
        case ev.Deployed():
            s.state = State.DEPLOYED
            _meet(s, Clock.DEPLOY, e.timestamp)
        case ev.FeedbackSubmitted():
            s.state = State.IN_PROGRESS
            _meet(s, Clock.FEEDBACK, e.timestamp)
            s.feedback_pending = True
            _start_review(s, e.review_deadline)
        case ev.FeedbackAccepted():
            s.feedback_pending = False
            s.reviews.pop(REVIEW_FEEDBACK, None)
        case ev.ProgressReported():
            if e.milestone:
                _meet(s, milestone_clock(e.milestone), e.timestamp)
        case ev.Resolved():
            s.state = State.RESOLVED
            _meet(s, Clock.RESOLVE, e.timestamp)
            if PLAN_TARGET in s.deadlines:
                _meet(s, PLAN_TARGET, e.timestamp)
            _start_review(s, e.review_deadline)
        case ev.PlanSubmitted():
            s.state = State.PLANNED
            s.plan_milestones = len(e.milestones)
            for old in [c for c in s.deadlines if c.startswith("milestone-")]:
                del s.deadlines[old]  # a revised plan replaces the old milestones
                s.met.pop(old, None)
                s.pending_extensions.pop(old, None)
            for d in e.deadlines:
                s.deadlines[d.clock] = d
                s.met.pop(d.clock, None)
        case ev.ExtensionRequested():
            s.extensions_requested += 1
            s.pending_extensions[e.clock] = PendingExtension(
                requested_due=e.requested_due,
                reason=e.reason,
                requested_at=e.timestamp,
                actor=e.actor,
            )
            _start_review(s, e.review_deadline)
        case ev.ExtensionApproved():
            s.extensions_granted += 1
            _drop_extension(s, e.clock)
            s.deadlines[e.clock] = e.deadline
        case ev.ExtensionDenied():
            _drop_extension(s, e.clock)
        case ev.Returned():
            s.returns = e.returns
            if e.stage == "feedback":
                s.state = State.DEPLOYED
                s.met.pop(Clock.FEEDBACK, None)
                s.feedback_pending = False
                s.reviews.pop(REVIEW_FEEDBACK, None)
            else:
                s.reviews.pop(REVIEW_RESOLUTION, None)
                s.state = State.PLANNED if s.plan_milestones else State.IN_PROGRESS
                s.met.pop(Clock.RESOLVE, None)
                s.met.pop(PLAN_TARGET, None)
        case ev.Urged():
            s.urges += 1
        case ev.ClosedOut():
            s.state = State.CLOSED
            s.finished_at = e.timestamp
            s.reviews.clear()
        case ev.Cancelled():
            s.state = State.CANCELLED
            s.finished_at = e.timestamp
            s.cancel_reason = e.reason
            s.reviews.clear()
        case ev.AttachmentErased():
            s.evidence.pop(e.sha256, None)
            s.erased[e.sha256] = e.decision


def _meet(s: ItemState, clock: str, at: datetime) -> None:
    s.met[clock] = at
    _drop_extension(s, clock)  # a met clock needs no extension any more


def _drop_extension(s: ItemState, clock: str) -> None:
    s.pending_extensions.pop(clock, None)
    s.reviews.pop(review_extension_clock(clock), None)


def _start_review(s: ItemState, deadline: Deadline | None) -> None:
    if deadline is not None:
        s.reviews[deadline.clock] = deadline


def evolve(state: ItemState | None, event: ev.ItemEvent) -> ItemState:
    """Return the state after ``event`` (mutating ``state`` in place when there is one)."""
    if isinstance(event, ev.Registered):
        if state is not None:
            msg = f"item {state.number} registered twice"
            raise ValueError(msg)
        return _registered(event)
    if state is None:
        msg = f"{type(event).__name__} for item {event.originator_id} before its registration"
        raise ValueError(msg)
    if event.originator_version != state.version + 1:
        msg = (
            f"item {state.number}: event version {event.originator_version} "
            f"does not follow {state.version}"
        )
        raise ValueError(msg)
    _apply(state, event)
    state.version = event.originator_version
    state.updated_at = event.timestamp
    return state
