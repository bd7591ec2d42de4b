"""Item lifecycle events: frozen msgspec Structs with stable, versioned topics.

Every event carries who acted (``actor``, a contact id, never a name or a phone number) and for
which unit (``unit``). Deadlines are recorded inside the events that start a clock, with the
policy and calendar versions that produced them.

**Versioning rule:** a published event type never changes the type of a field. New fields go at
the end with a default. A breaking change is a new class with a new ``.vN`` topic and an upcaster
from the old one; the old topic stays decodable forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar, get_args
from uuid import UUID

import msgspec

from ledger13710.domain.types import (
    ContactId,
    Deadline,
    Instant,
    ItemNumber,
    Severity,
    Source,
    State,
    UnitId,
    clock_names,
    described,
    known_values,
)

#: ``Returned.stage``: what was returned.
ReturnStage = Literal["feedback", "resolution"]
#: ``PartReviewed.action``: the review decisions an upper node sends down for a part.
PartAction = Literal["return", "close-out", "extend-approve", "extend-deny", "urge", "cancel"]


#: A fact family's aggregate id and version types: a ``UUID`` and an ``int`` annotated with what
#: they are for that family (the item, the reminder, the node's key history).
AggregateId = TypeVar("AggregateId", bound=UUID)
AggregateVersion = TypeVar("AggregateVersion", bound=int)


class Fact(msgspec.Struct, Generic[AggregateId, AggregateVersion], frozen=True, kw_only=True):
    """Fields every recorded fact has, first on the wire: its aggregate, version and time.

    A family (item, reminder, key rotation) subclasses ``Fact[its id, its version]``. The type
    arguments carry each family's own schema description of the two aggregate fields, so the
    fields are written once here while every published schema stays as it was.
    """

    TOPIC: ClassVar[str] = ""

    originator_id: AggregateId
    originator_version: AggregateVersion
    timestamp: Annotated[Instant, described("when it happened")]


ItemId = Annotated[UUID, described("the item (aggregate) id")]
ItemVersion = Annotated[int, described("the item version this event makes (1, 2, …)")]


class ItemEvent(Fact[ItemId, ItemVersion], frozen=True, kw_only=True):
    """Fields every item event has: who acted, for which unit."""

    actor: Annotated[ContactId, described("who acted: a contact id, never a name")]
    unit: Annotated[UnitId, described("the unit the actor acted for")]


#: topic -> event class, filled at import by :func:`event`; a fresh process can decode any
#: stored topic as soon as this module is imported.
EVENT_TYPES: dict[str, type[msgspec.Struct]] = {}

E = TypeVar("E", bound=type[msgspec.Struct])


def event(name: str, version: int = 1, kind: str = "item") -> Callable[[E], E]:
    """Give an event class its stable topic ``ledger13710.<kind>.<name>.v<version>``."""

    def register(cls: E) -> E:
        topic = f"ledger13710.{kind}.{name}.v{version}"
        if topic in EVENT_TYPES:
            msg = f"topic {topic} registered twice"
            raise RuntimeError(msg)
        cls.TOPIC = topic  # type: ignore[attr-defined]
        EVENT_TYPES[topic] = cls
        return cls

    return register


class PlanMilestone(msgspec.Struct, frozen=True, kw_only=True):
    """One step of a timeline-and-plan (时间节点和方案)."""

    title: str
    due_at: Instant


# The bytes of an attachment live in the node's attachment store under ``sha256`` (lower-case
# hex) and travel to upper tiers beside the events; anyone holding them can check them here.
class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    """One file of evidence behind an action, named by its content: never the bytes."""

    name: str
    media_type: str
    size: int
    sha256: str


@event("Registered")
class Registered(ItemEvent, frozen=True, kw_only=True):
    """立项: an item enters the ledger."""

    number: ItemNumber
    title: str
    detail: str
    source: Annotated[str, known_values("where the item comes from (立项来源)", Source)]
    board: Annotated[str, described("the board (板块) id, from the node's boards")]
    severity: Annotated[
        str, known_values("general (resolve in 7 days) or major/complex (1 month)", Severity)
    ]
    raising_unit: Annotated[UnitId, described("the unit that raised the item (立项主体)")]
    lead_unit: Annotated[UnitId, described("the lead undertaking unit (牵头单位)")]
    co_units: Annotated[tuple[str, ...], described("co-undertaking units (协办单位)")] = ()
    reference: Annotated[str, described("the meeting or instruction it comes from")] = ""
    origin_node: Annotated[str, described("for a sub-assigned part: the parent's node")] = ""
    parent_id: Annotated[UUID | None, described("for a sub-assigned part: the parent item")] = None
    parent_number: Annotated[str, described("for a sub-assigned part: the parent's number")] = ""
    part: Annotated[str, described("for a sub-assigned part: what part of the parent it is")] = ""


@event("Assigned")
class Assigned(ItemEvent, frozen=True, kw_only=True):
    """交办: the item goes to its undertaking units; the deploy/feedback/resolve clocks start."""

    lead_unit: UnitId
    co_units: tuple[str, ...]
    deadlines: Annotated[tuple[Deadline, ...], described("the deploy, feedback, resolve clocks")]
    note: str = ""


@event("SubAssigned")
class SubAssigned(ItemEvent, frozen=True, kw_only=True):
    """分解交办: a part of the item goes to a lower unit as a linked child item."""

    child_id: Annotated[UUID, described("the child item's id")]
    child_number: ItemNumber
    to_unit: UnitId
    part: str
    host_node: Annotated[str, described("the node whose log holds the child item")]


@event("ChildUpdated")
class ChildUpdated(ItemEvent, frozen=True, kw_only=True):
    """A sub-assigned part changed state; the parent rolls it up."""

    child_id: Annotated[UUID, described("the child item's id")]
    child_number: ItemNumber
    child_unit: UnitId
    child_state: Annotated[str, known_values("the child item's state now", State)]
    child_version: Annotated[int, described("the child item's version that has that state")]


@event("Deployed")
class Deployed(ItemEvent, frozen=True, kw_only=True):
    """研究部署: the "1", the unit has studied and deployed the task."""

    note: str
    attachments: tuple[Attachment, ...] = ()


@event("FeedbackSubmitted")
class FeedbackSubmitted(ItemEvent, frozen=True, kw_only=True):
    """反馈: the "3", a handling-status report; starts the reviewer's clock to accept it."""

    content: str
    review_deadline: Deadline | None = None  # the raising side's review clock, if any
    attachments: tuple[Attachment, ...] = ()


@event("FeedbackAccepted")
class FeedbackAccepted(ItemEvent, frozen=True, kw_only=True):
    """反馈审核通过: the raising side accepts the latest feedback (its review clock stops)."""

    note: str = ""


@event("ProgressReported")
class ProgressReported(ItemEvent, frozen=True, kw_only=True):
    """进展: a further progress report; ``milestone`` > 0 marks that plan milestone met."""

    content: str
    milestone: Annotated[int, described("> 0: that plan milestone (1-based) is met")] = 0
    attachments: tuple[Attachment, ...] = ()


@event("Resolved")
class Resolved(ItemEvent, frozen=True, kw_only=True):
    """落实解决: the problem is solved, awaiting review (the reviewer's clock starts)."""

    content: str
    review_deadline: Deadline | None = None
    attachments: tuple[Attachment, ...] = ()


@event("PlanSubmitted")
class PlanSubmitted(ItemEvent, frozen=True, kw_only=True):
    """时间节点和方案: a timeline and plan for a problem that cannot be solved in time."""

    reason: str
    target_at: Annotated[Instant, described("when the problem will be solved")]
    milestones: tuple[PlanMilestone, ...]
    deadlines: Annotated[tuple[Deadline, ...], described("one clock per milestone")]
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionRequested")
class ExtensionRequested(ItemEvent, frozen=True, kw_only=True):
    """延期申请: the unit asks to move a clock's due time."""

    clock: Annotated[str, clock_names("the clock to move")]
    requested_due: Instant
    reason: str
    review_deadline: Deadline | None = None
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionApproved")
class ExtensionApproved(ItemEvent, frozen=True, kw_only=True):
    """延期批准: the clock gets a new recorded deadline."""

    clock: Annotated[str, clock_names("the clock moved")]
    deadline: Annotated[Deadline, described("the clock's new recorded deadline")]
    note: str = ""
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionDenied")
class ExtensionDenied(ItemEvent, frozen=True, kw_only=True):
    """延期不予批准: the due time stays."""

    clock: Annotated[str, clock_names("the clock that was to move")]
    reason: str
    attachments: tuple[Attachment, ...] = ()


@event("Returned")
class Returned(ItemEvent, frozen=True, kw_only=True):
    """退回: feedback or a resolution is rejected as insufficient; ``returns`` is the new count."""

    stage: Annotated[str, known_values("what is returned", get_args(ReturnStage))]
    reason: str
    returns: Annotated[int, described("how many times the item was returned, this one included")]
    untrue: bool = False  # the reviewer marks the feedback as untrue (不实), not just insufficient
    attachments: tuple[Attachment, ...] = ()


@event("Urged")
class Urged(ItemEvent, frozen=True, kw_only=True):
    """催办: a supervisor reminds the unit on purpose, in their own words."""

    message: str


@event("ClosedOut")
class ClosedOut(ItemEvent, frozen=True, kw_only=True):
    """销号: the "0", the item is verified and closed."""

    verdict: str
    attachments: tuple[Attachment, ...] = ()


@event("Cancelled")
class Cancelled(ItemEvent, frozen=True, kw_only=True):
    """撤销: the item is withdrawn, with a reason and who approved it."""

    reason: str
    approved_by: Annotated[ContactId, described("who approved the cancellation")]
    attachments: tuple[Attachment, ...] = ()


@event("PartReviewed")
class PartReviewed(ItemEvent, frozen=True, kw_only=True):
    """A review decision on a sub-assigned part that lives on a lower node.

    Recorded on the parent (the decider's log); the lower node applies it to the part.
    ``action`` is one of ``return``, ``close-out``, ``extend-approve``, ``extend-deny``,
    ``urge``, ``cancel``.
    """

    child_id: Annotated[UUID, described("the part's item id")]
    child_number: ItemNumber
    host_node: Annotated[str, described("the node whose log holds the part")]
    action: Annotated[str, known_values("the decision", get_args(PartAction))]
    text: Annotated[str, described("the reason, verdict or message, as the action needs")]
    clock: Annotated[str, clock_names("for extend-approve / extend-deny: the clock", "")] = ""
    until: Annotated[Instant | None, described("for extend-approve: the new due time")] = None
    approved_by: Annotated[str, described("for cancel: the contact id who approved it")] = ""
    attachments: tuple[Attachment, ...] = ()


@event("AttachmentErased")
class AttachmentErased(ItemEvent, frozen=True, kw_only=True):
    """删除附件: an attachment's bytes are erased from the node by a recorded ``decision``."""

    # For personal data in a photo, say. The events that named the file keep its hash, so the
    # history stays verifiable; verification reports the file as erased by ``decision``.

    sha256: str
    decision: str
    reason: str


LIFECYCLE_EVENTS: tuple[type[ItemEvent], ...] = tuple(
    cls for cls in EVENT_TYPES.values() if issubclass(cls, ItemEvent)
)


def event_fields(ev: msgspec.Struct) -> dict[str, Any]:
    """The event's own fields as a plain dict (for timelines and logs)."""
    return {f: getattr(ev, f) for f in ev.__struct_fields__}
