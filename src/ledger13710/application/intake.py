"""立项, 交办 and 分解交办: how an item enters a node's ledger and is handed on.

Command bodies of :class:`~ledger13710.application.ledger.LedgerApp`, bound there as methods
(``register = intake.register``); each takes the application as its first parameter.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger13710.domain.directory import host_node
from ledger13710.domain.errors import ConflictError, InputError
from ledger13710.domain.item import Item
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import Severity, Source
from ledger13710.logging import get_logger

if TYPE_CHECKING:
    from ledger13710.application.ledger import LedgerApp

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


def _check_choice(what: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise InputError(f"unknown {what} {value!r}; choose one of: {', '.join(allowed)}")


def register(
    app: LedgerApp,
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
    _check_choice("source", source, [s.value for s in Source])
    _check_choice("severity", severity, [s.value for s in Severity])
    _check_choice("board", board, list(app.boards))
    for uid in (raising_unit, lead_unit, *co_units):
        app.directory.unit(uid)
    for uid in (lead_unit, *co_units):
        if host_node(uid, app.node_ids) != app.node_id:
            raise InputError(
                f"{uid} is hosted by node {host_node(uid, app.node_ids)}, not {app.node_id}: "
                "give the item to a unit hosted here and sub-assign the part to it"
            )
    unit = app._actor_unit(actor)
    now = app.clock.now()

    def make(number: str) -> Item:
        item = Item.register(
            number=number, title=title, detail=detail, source=source, board=board,
            severity=severity, raising_unit=raising_unit, lead_unit=lead_unit,
            co_units=co_units, now=now, actor=actor, unit=unit, reference=reference,
            origin_node=app.node_id,
        )  # fmt: skip
        if assign:
            app._may(item, Action.ASSIGN, actor)
            item.assign(deadlines=app._clocks(item, now), now=now, actor=actor, unit=unit)
        return item

    if number is not None:
        item = make(number)
        app._save(number, item, exists=f"item {number} is already registered")
    else:
        item = _register_numbered(app, make, now, actor, unit)
    log.info("item_registered", node=app.node_id, item=item.state.number, lead=lead_unit)
    return item.state


def _register_numbered(
    app: LedgerApp, make: Callable[[str], Item], now: datetime, actor: str, unit: str
) -> Item:
    """Save the item ``make`` builds under the node's next number.

    Another process may issue the same number at the same time: its counter is saved
    first and ours is refused (optimistic concurrency), so we read the counter again and
    take the next number, a bounded number of times.
    """
    for attempt in range(1, REGISTER_ATTEMPTS + 1):
        counter = app._counter(now.year)
        number = counter.issue(now, actor, unit)
        while app.is_local(number):  # taken by an import or an explicit --number
            number = counter.issue(now, actor, unit)
        item = make(number)
        try:
            app.save(counter, item)
        except IntegrityError:
            log.info("number_taken_retrying", node=app.node_id, item=number, attempt=attempt)
            time.sleep(random.uniform(0, 0.005 * attempt))
            continue
        return item
    raise ConflictError(
        f"could not issue an item number after {REGISTER_ATTEMPTS} attempts: other "
        "registrations on this node keep taking the next one; retry"
    )


def assign(app: LedgerApp, number: str, *, actor: str, note: str = "") -> ItemState:
    """交办: start the item's clocks now."""
    now = app.clock.now()
    return app._act(
        number,
        actor,
        Action.ASSIGN,
        lambda it, unit: it.assign(
            deadlines=app._clocks(it, now), now=now, actor=actor, unit=unit, note=note
        ),
    )


def sub_assign(app: LedgerApp, number: str, *, to_unit: str, part: str, actor: str) -> ItemState:
    """分解交办: a part goes to a lower unit as a linked child item.

    When this node hosts the unit, the child is created and assigned here in the same
    transaction; otherwise only the parent records it and federation delivers it.
    """
    app.directory.unit(to_unit)
    unit = app._actor_unit(actor)
    parent = app.load(number)
    app._may(parent, Action.SUB_ASSIGN, actor)
    now = app.clock.now()
    child_number = f"{number}-{len(parent.state.children) + 1}"
    host = host_node(to_unit, app.node_ids)
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
    if host == app.node_id:
        child = child_item(
            app,
            parent.state,
            number=child_number,
            to_unit=to_unit,
            part=part,
            now=now,
            actor=actor,
            unit=unit,
        )
        parent.child_updated(child.state, now)
    app._save(number, parent, child)
    return app.item(child_number) if child is not None else parent.state


def child_item(
    app: LedgerApp,
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
        origin_node=app.node_id,
        parent_id=parent.id,
        parent_number=parent.number,
        part=part,
    )
    child.assign(deadlines=app._clocks(child, now), now=now, actor=actor, unit=unit)
    return child


__all__ = ["REGISTER_ATTEMPTS", "ParentLike", "assign", "child_item", "register", "sub_assign"]
