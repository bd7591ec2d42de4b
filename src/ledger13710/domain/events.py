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
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import msgspec

from ledger13710.domain.types import Deadline


class ItemEvent(msgspec.Struct, frozen=True, kw_only=True):
    """Fields every item event has."""

    TOPIC: ClassVar[str] = ""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    actor: str
    unit: str


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
    due_at: datetime


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

    number: str
    title: str
    detail: str
    source: str
    board: str
    severity: str
    raising_unit: str
    lead_unit: str
    co_units: tuple[str, ...] = ()
    reference: str = ""
    origin_node: str = ""
    parent_id: UUID | None = None
    parent_number: str = ""
    part: str = ""


@event("Assigned")
class Assigned(ItemEvent, frozen=True, kw_only=True):
    """交办: the item goes to its undertaking units; the deploy/feedback/resolve clocks start."""

    lead_unit: str
    co_units: tuple[str, ...]
    deadlines: tuple[Deadline, ...]
    note: str = ""


@event("SubAssigned")
class SubAssigned(ItemEvent, frozen=True, kw_only=True):
    """分解交办: a part of the item goes to a lower unit as a linked child item."""

    child_id: UUID
    child_number: str
    to_unit: str
    part: str
    host_node: str


@event("ChildUpdated")
class ChildUpdated(ItemEvent, frozen=True, kw_only=True):
    """A sub-assigned part changed state; the parent rolls it up."""

    child_id: UUID
    child_number: str
    child_unit: str
    child_state: str
    child_version: int


@event("Deployed")
class Deployed(ItemEvent, frozen=True, kw_only=True):
    """研究部署: the "1", the unit has studied and deployed the task."""

    note: str
    attachments: tuple[Attachment, ...] = ()


@event("FeedbackSubmitted")
class FeedbackSubmitted(ItemEvent, frozen=True, kw_only=True):
    """反馈: the "3", a handling-status report."""

    content: str
    attachments: tuple[Attachment, ...] = ()


@event("ProgressReported")
class ProgressReported(ItemEvent, frozen=True, kw_only=True):
    """进展: a further progress report; ``milestone`` > 0 marks that plan milestone met."""

    content: str
    milestone: int = 0
    attachments: tuple[Attachment, ...] = ()


@event("Resolved")
class Resolved(ItemEvent, frozen=True, kw_only=True):
    """落实解决: the problem is solved, awaiting review."""

    content: str
    attachments: tuple[Attachment, ...] = ()


@event("PlanSubmitted")
class PlanSubmitted(ItemEvent, frozen=True, kw_only=True):
    """时间节点和方案: a timeline and plan for a problem that cannot be solved in time."""

    reason: str
    target_at: datetime
    milestones: tuple[PlanMilestone, ...]
    deadlines: tuple[Deadline, ...]
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionRequested")
class ExtensionRequested(ItemEvent, frozen=True, kw_only=True):
    """延期申请: the unit asks to move a clock's due time."""

    clock: str
    requested_due: datetime
    reason: str
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionApproved")
class ExtensionApproved(ItemEvent, frozen=True, kw_only=True):
    """延期批准: the clock gets a new recorded deadline."""

    clock: str
    deadline: Deadline
    note: str = ""
    attachments: tuple[Attachment, ...] = ()


@event("ExtensionDenied")
class ExtensionDenied(ItemEvent, frozen=True, kw_only=True):
    """延期不予批准: the due time stays."""

    clock: str
    reason: str
    attachments: tuple[Attachment, ...] = ()


@event("Returned")
class Returned(ItemEvent, frozen=True, kw_only=True):
    """退回: feedback or a resolution is rejected as insufficient; ``returns`` is the new count."""

    stage: str  # "feedback" or "resolution"
    reason: str
    returns: int
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
    approved_by: str
    attachments: tuple[Attachment, ...] = ()


@event("PartReviewed")
class PartReviewed(ItemEvent, frozen=True, kw_only=True):
    """A review decision on a sub-assigned part that lives on a lower node.

    Recorded on the parent (the decider's log); the lower node applies it to the part.
    ``action`` is one of ``return``, ``close-out``, ``extend-approve``, ``extend-deny``,
    ``urge``, ``cancel``.
    """

    child_id: UUID
    child_number: str
    host_node: str
    action: str
    text: str
    clock: str = ""
    until: datetime | None = None
    approved_by: str = ""
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
