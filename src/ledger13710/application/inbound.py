"""What a node does with messages from the nodes above and below it.

- From above, through its inbox: an **assignment** (a part sub-assigned to one of its units)
  becomes a local item linked to the upper item; a **review** decision (return, extension
  decision, close-out, urge) is applied to that local item. Each message is applied once:
  its (upper node, position) is tracked atomically with the events it causes.
- From below, through replication: a part's new state is **rolled up** into its local parent.

The messages are derived from the upper node's own events (``SubAssigned``, ``PartReviewed``),
so the decision is a fact in the decider's log and its effect a fact in the undertaker's log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger13710.application.ledger import LedgerApp
from ledger13710.domain import events as ev
from ledger13710.domain.directory import host_node
from ledger13710.domain.errors import LedgerError
from ledger13710.domain.item import Item, item_id
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.state import ItemState, evolve
from ledger13710.logging import get_logger

log = get_logger("ledger13710.inbound")


class Assignment(msgspec.Struct, frozen=True, kw_only=True, tag="assignment"):
    """A part of an upper item, sub-assigned to a unit this node hosts."""

    upper: str
    upper_seq: int
    id: UUID  # the parent item's id, and below its facts the part inherits
    number: str
    title: str
    source: str
    board: str
    severity: str
    reference: str
    lead_unit: str  # the parent's lead unit: the part's raising unit
    child_number: str
    to_unit: str
    part: str
    actor: str
    unit: str
    at: datetime


class Review(msgspec.Struct, frozen=True, kw_only=True, tag="review"):
    """A review decision of the upper node on a part this node holds."""

    upper: str
    upper_seq: int
    child_number: str
    action: str
    text: str
    clock: str
    until: datetime | None
    actor: str
    unit: str
    at: datetime
    approved_by: str = ""


InboxMessage = Assignment | Review
inbox_encoder = msgspec.json.Encoder()
inbox_decoder: msgspec.json.Decoder[InboxMessage] = msgspec.json.Decoder(InboxMessage)


def outbound_message(app: LedgerApp, seq: int, event: object) -> tuple[str, InboxMessage] | None:
    """The inbox message (and target node) that one of this node's own events calls for."""
    if isinstance(event, ev.SubAssigned) and event.host_node != app.node_id:
        parent = app.aggregate(event.originator_id).state
        return event.host_node, Assignment(
            upper=app.node_id, upper_seq=seq, id=parent.id, number=parent.number,
            title=parent.title, source=parent.source, board=parent.board,
            severity=parent.severity, reference=parent.reference, lead_unit=parent.lead_unit,
            child_number=event.child_number, to_unit=event.to_unit, part=event.part,
            actor=event.actor, unit=event.unit, at=event.timestamp,
        )  # fmt: skip
    if isinstance(event, ev.PartReviewed) and event.host_node != app.node_id:
        return event.host_node, Review(
            upper=app.node_id, upper_seq=seq, child_number=event.child_number,
            action=event.action, text=event.text, clock=event.clock, until=event.until,
            actor=event.actor, unit=event.unit, at=event.timestamp, approved_by=event.approved_by,
        )  # fmt: skip
    return None


def accept(app: LedgerApp, message: InboxMessage) -> str:
    """Apply one inbox message exactly once; returns what happened (for logs)."""
    source = f"inbox:{message.upper}"
    if app.is_tracked(source, message.upper_seq):
        return "duplicate"
    try:
        aggregates = (
            _assignment(app, message) if isinstance(message, Assignment) else _review(app, message)
        )
    except LedgerError as e:
        # The decision cannot apply here (the part changed meanwhile, or it is malformed):
        # record that we saw it, so it is not retried forever, and say so loudly.
        app.save_tracked(source, message.upper_seq)
        log.error(
            "inbox_message_refused", node=app.node_id, upper=message.upper,
            upper_seq=message.upper_seq, item=message.child_number, reason=str(e),
        )  # fmt: skip
        return f"refused: {e}"
    applied = app.save_tracked(source, message.upper_seq, *aggregates)
    return "applied" if applied else "duplicate"


def _assignment(app: LedgerApp, a: Assignment) -> list[Item]:
    if host_node(a.to_unit, app.node_ids) != app.node_id:
        raise LedgerError(f"unit {a.to_unit} of part {a.child_number} is not hosted here")
    try:
        app.aggregate(item_id(a.child_number))
    except AggregateNotFoundError:
        pass
    else:
        return []  # created before (e.g. the tracking record of a replay was lost): no-op
    child = app.child_item(
        a, number=a.child_number, to_unit=a.to_unit, part=a.part, now=a.at,
        actor=a.actor, unit=a.unit,
    )  # fmt: skip
    log.info("part_received", node=app.node_id, item=a.child_number, upper=a.upper)
    return [child]


def _review(app: LedgerApp, r: Review) -> list[Item]:
    item = app.load(r.child_number)
    now, actor, unit = r.at, r.actor, r.unit
    if r.action == Action.RETURN:
        item.return_for_rework(reason=r.text, now=now, actor=actor, unit=unit)
    elif r.action == Action.URGE:
        item.urge(message=r.text, now=now, actor=actor, unit=unit)
    elif r.action == Action.CLOSE_OUT:
        return app.close_out_tree(item, verdict=r.text, now=now, actor=actor, unit=unit)
    elif r.action == Action.CANCEL:
        return app.cancel_tree(
            item, reason=r.text, approved_by=r.approved_by, now=now, actor=actor, unit=unit
        )
    elif r.action in (Action.EXTEND_APPROVE, Action.EXTEND_DENY):
        deadline = None
        pending = item.state.pending_extensions.get(r.clock)
        if r.action == Action.EXTEND_APPROVE and pending is not None:
            due = r.until or pending.requested_due
            deadline = app.policy.extended_deadline(
                item.state.deadlines[r.clock], due, now, app.calendar
            )
        item.decide_extension(
            clock=r.clock, deadline=deadline, reason=r.text, now=now, actor=actor, unit=unit
        )
    else:
        raise LedgerError(f"unknown review action {r.action!r}")
    return [item]


def fold(events: Iterable[ev.ItemEvent]) -> ItemState | None:
    """Fold replicated events of one item into its state."""
    state: ItemState | None = None
    for e in events:
        state = evolve(state, e)
    return state


def roll_up(app: LedgerApp, child: ItemState) -> bool:
    """Record a part's new state on its local parent; False when there is nothing to do."""
    if child.parent_id is None:
        return False
    for _attempt in range(5):
        try:
            parent = app.aggregate(child.parent_id)
        except AggregateNotFoundError:
            return False  # the parent is not on this node (a grandparent ingests it too)
        before = parent.version
        parent.child_updated(child, app.clock.now())
        if parent.version == before:
            return False
        try:
            app.save(parent)
        except IntegrityError:
            continue  # a local command changed the parent meanwhile: load it again
        return True
    return False
