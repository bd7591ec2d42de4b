"""Review decisions (退回, 催办, 延期审批, 销号, 撤销), locally or on a part that lives below.

A part sub-assigned to a unit on a lower node is not in this node's store. A decision on it is
recorded here as :class:`PartReviewed` on the parent item (the decider's log) and federation
delivers it to the lower node, which applies it to the part.

The functions here are command bodies of :class:`~ledger13710.application.ledger.LedgerApp`,
bound there as methods (``urge = review.urge``); each takes the application first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from eventsourcing.application import AggregateNotFoundError

from ledger13710.application.attachments import Staged, evidence
from ledger13710.domain import roles
from ledger13710.domain.attachments import Evidence
from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.item import Item, item_id
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.state import FINISHED, ItemState, State
from ledger13710.logging import get_logger

if TYPE_CHECKING:
    from ledger13710.application.ledger import LedgerApp

log = get_logger("ledger13710.ledger")


def decide_extension(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    clock: str,
    approve: bool,
    reason: str = "",
    until: datetime | None = None,
    attach: Sequence[Path] = (),
) -> ItemState:
    """延期审批: approve (to ``until`` or the requested time) or deny.

    ``attach``: evidence files, recorded with the decision (so for every command here).
    """
    now, staged = app.clock.now(), app.stage(attach)
    action = Action.EXTEND_APPROVE if approve else Action.EXTEND_DENY
    remote = _review_remote(
        app, number, actor, action, reason, clock=clock, until=until, staged=staged
    )
    if remote is not None:
        return remote

    def decide(it: Item, unit: str) -> None:
        deadline = None
        pending = it.state.pending_extensions.get(clock)
        if approve and pending is not None:
            previous = it.state.deadlines[clock]
            due = until or pending.requested_due
            deadline = app.policy.extended_deadline(previous, due, now, app.calendar)
        it.decide_extension(
            clock=clock, deadline=deadline, reason=reason, now=now, actor=actor, unit=unit,
            attachments=evidence(staged),
        )  # fmt: skip

    return app._act(number, actor, Action.EXTEND_DECISION, decide, staged)


def return_for_rework(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    reason: str,
    untrue: bool = False,
    attach: Sequence[Path] = (),
) -> ItemState:
    """退回; ``untrue`` marks the returned feedback as untrue (不实). A part hosted below is
    returned by decision, and cannot be marked untrue from here yet."""
    if untrue and not app.is_local(number):
        raise InputError(
            f"item {number} is not on node {app.node_id}: feedback is marked untrue on the "
            "node that holds the item (return a part hosted below without --untrue)"
        )
    staged = app.stage(attach)
    remote = _review_remote(app, number, actor, Action.RETURN, reason, staged=staged)
    if remote is not None:
        return remote
    now, atts = app.clock.now(), evidence(staged)
    return app._act(
        number,
        actor,
        Action.RETURN,
        lambda it, u: it.return_for_rework(
            reason=reason, now=now, actor=actor, unit=u, untrue=untrue, attachments=atts
        ),
        staged,
    )


def accept_feedback(app: LedgerApp, number: str, *, actor: str, note: str = "") -> ItemState:
    """反馈审核通过: accept the latest feedback of a local item (its review clock stops)."""
    now = app.clock.now()
    return app._act(
        number,
        actor,
        Action.ACCEPT_FEEDBACK,
        lambda it, u: it.accept_feedback(note=note, now=now, actor=actor, unit=u),
    )


def urge(app: LedgerApp, number: str, *, actor: str, message: str) -> ItemState:
    """催办."""
    remote = _review_remote(app, number, actor, Action.URGE, message)
    if remote is not None:
        return remote
    now = app.clock.now()
    return app._act(
        number,
        actor,
        Action.URGE,
        lambda it, u: it.urge(message=message, now=now, actor=actor, unit=u),
    )


def close_out(
    app: LedgerApp, number: str, *, actor: str, verdict: str, attach: Sequence[Path] = ()
) -> ItemState:
    """销号: the item, and with it every resolved part below it, here or on lower nodes."""
    staged = app.stage(attach)
    remote = _review_remote(app, number, actor, Action.CLOSE_OUT, verdict, staged=staged)
    if remote is not None:
        return remote
    now, atts = app.clock.now(), evidence(staged)
    return app._act(
        number,
        actor,
        Action.CLOSE_OUT,
        lambda it, u: close_out_tree(
            app, it, verdict=verdict, now=now, actor=actor, unit=u, attachments=atts
        ),
        staged,
    )


def close_out_tree(
    app: LedgerApp,
    item: Item,
    *,
    verdict: str,
    now: datetime,
    actor: str,
    unit: str,
    attachments: Evidence = (),
) -> list[Item]:
    """Close ``item`` out after closing its resolved parts (remote ones by decision);
    ``attachments`` go with the decision on ``item`` itself."""
    return _decide_tree(
        app, item, Action.CLOSE_OUT, verdict, now=now, actor=actor, unit=unit,
        attachments=attachments,
    )  # fmt: skip


def cancel(
    app: LedgerApp,
    number: str,
    *,
    actor: str,
    reason: str,
    approved_by: str,
    attach: Sequence[Path] = (),
) -> ItemState:
    """撤销, with reason and approval: the item and every open part below it."""
    if approved_by:
        app.directory.contact(approved_by)
    staged = app.stage(attach)
    remote = _review_remote(
        app, number, actor, Action.CANCEL, reason, approved_by=approved_by, staged=staged
    )
    if remote is not None:
        return remote
    now, atts = app.clock.now(), evidence(staged)
    return app._act(
        number,
        actor,
        Action.CANCEL,
        lambda it, u: cancel_tree(
            app, it, reason=reason, approved_by=approved_by, now=now, actor=actor, unit=u,
            attachments=atts,
        ),
        staged,
        check=lambda it: roles.require_approver(
            app.directory, number, it.state.raising_unit, approved_by
        ),
    )  # fmt: skip


def cancel_tree(
    app: LedgerApp,
    item: Item,
    *,
    reason: str,
    approved_by: str,
    now: datetime,
    actor: str,
    unit: str,
    attachments: Evidence = (),
) -> list[Item]:
    """Cancel ``item``'s open parts (remote ones by decision), then ``item`` itself;
    ``attachments`` go with the decision on ``item`` itself."""
    return _decide_tree(
        app, item, Action.CANCEL, reason, approved_by=approved_by, now=now, actor=actor,
        unit=unit, attachments=attachments,
    )  # fmt: skip


def _decide_tree(
    app: LedgerApp,
    item: Item,
    action: Literal[Action.CLOSE_OUT, Action.CANCEL],
    text: str,
    *,
    now: datetime,
    actor: str,
    unit: str,
    approved_by: str = "",
    attachments: Evidence = (),
) -> list[Item]:
    """销号 (the resolved parts) or 撤销 (the open parts) down the tree, then ``item``.

    A part hosted here is decided in the same transaction, its own parts first; a part hosted
    below is decided by a :class:`PartReviewed` that federation delivers. Returns the items
    changed, deepest first, ``item`` last.
    """
    closing = action == Action.CLOSE_OUT
    changed: list[Item] = []
    for ref in list(item.state.children.values()):
        applies = ref.state == State.RESOLVED if closing else ref.state not in FINISHED
        if not applies:
            continue
        if ref.host_node != app.node_id:
            item.review_part(
                child_number=ref.number, action=action, text=text, now=now, actor=actor,
                unit=unit, approved_by=approved_by,
            )  # fmt: skip
            continue
        child = app.aggregate(item_id(ref.number))
        changed += _decide_tree(
            app, child, action, text, now=now, actor=actor, unit=unit, approved_by=approved_by
        )
        item.child_updated(child.state, now)
    if closing:
        item.close_out(verdict=text, now=now, actor=actor, unit=unit, attachments=attachments)
    else:
        item.cancel(
            reason=text, approved_by=approved_by, now=now, actor=actor, unit=unit,
            attachments=attachments,
        )  # fmt: skip
    return [*changed, item]


def _review_remote(
    app: LedgerApp,
    number: str,
    actor: str,
    action: str,
    text: str,
    *,
    clock: str = "",
    until: datetime | None = None,
    approved_by: str = "",
    staged: Sequence[Staged] = (),
) -> ItemState | None:
    """Record a decision on a part hosted below; None when ``number`` is a local item."""
    if app.is_local(number):
        return None
    parent_number, dash, _ = number.rpartition("-")
    try:
        parent = app.aggregate(item_id(parent_number)) if dash else None
    except AggregateNotFoundError:
        parent = None
    if parent is None or not any(c.number == number for c in parent.state.children.values()):
        raise NotFoundError(f"no item {number!r} on node {app.node_id}")
    unit = app._actor_unit(actor)
    app._may(parent, Action.REVIEW_PART, actor)
    if action == Action.CANCEL:  # the part was raised by the parent's lead unit
        roles.require_approver(app.directory, number, parent.state.lead_unit, approved_by)
    app._check_evidence(parent, staged)
    parent.review_part(
        child_number=number, action=action, text=text, now=app.clock.now(),
        actor=actor, unit=unit, clock=clock, until=until, approved_by=approved_by,
        attachments=evidence(staged),
    )  # fmt: skip
    app._keep(staged)
    app._save(parent_number, parent)
    return parent.state


def erase_attachment(
    app: LedgerApp, number: str, *, actor: str, sha256: str, decision: str, reason: str
) -> ItemState:
    """删除附件: record the erasure decision, then delete the bytes.

    In that order: a crash in between leaves the decision recorded and the bytes present,
    which ``audit verify`` reports and running this again completes; the other order could
    leave a file missing with no decision to explain it.
    """
    store = app.attachment_store()
    unit = app._actor_unit(actor)
    item = app.load(number)
    now = app.clock.now()
    if item.erase_attachment(
        sha256=sha256, decision=decision, reason=reason, now=now, actor=actor, unit=unit
    ):
        app._save(number, item)
    store.erase(sha256)
    log.info("attachment_erased", node=app.node_id, item=number, sha256=sha256)
    return item.state


__all__ = [
    "accept_feedback",
    "cancel",
    "cancel_tree",
    "close_out",
    "close_out_tree",
    "decide_extension",
    "erase_attachment",
    "return_for_rework",
    "urge",
]
