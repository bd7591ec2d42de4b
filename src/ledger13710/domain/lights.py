"""Traffic lights of the ledger (台账): green on track, yellow inside the reminder window, red
overdue; and "behind plan" for an item whose plan milestone has passed unmet.

Computed from recorded deadlines and an instant: never from today's policy.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from ledger13710.domain.state import FINISHED, ItemState, State
from ledger13710.domain.types import Deadline


class Light(enum.StrEnum):
    """The colour of an item or a clock."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    DONE = "done"  # closed out or cancelled


def clock_light(deadline: Deadline, met_at: datetime | None, now: datetime) -> Light:
    """A single clock's light: met clocks are green (late or not: see :func:`met_late`)."""
    if met_at is not None:
        return Light.GREEN
    if now > deadline.due_at:
        return Light.RED
    if now >= deadline.due_at - timedelta(seconds=deadline.remind_before_s):
        return Light.YELLOW
    return Light.GREEN


def met_late(deadline: Deadline, met_at: datetime | None) -> bool:
    """Whether the clock was met after its due time."""
    return met_at is not None and met_at > deadline.due_at


def item_light(item: ItemState, now: datetime) -> Light:
    """The worst light over the item's open clocks."""
    if item.state in FINISHED:
        return Light.DONE
    worst = Light.GREEN
    for d in item.open_clocks():
        light = clock_light(d, None, now)
        if light is Light.RED:
            return Light.RED
        if light is Light.YELLOW:
            worst = Light.YELLOW
    return worst


def behind_plan(item: ItemState, now: datetime) -> bool:
    """True when the item runs under a plan and a milestone has passed unmet."""
    if item.state is not State.PLANNED:
        return False
    return any(
        c.startswith("milestone-") and c not in item.met and now > d.due_at
        for c, d in item.deadlines.items()
    )


def overdue_clocks(item: ItemState, now: datetime) -> list[str]:
    """Names of open clocks already past due."""
    return [d.clock for d in item.open_clocks() if now > d.due_at]
