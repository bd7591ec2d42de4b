"""The lifecycle table (which action is allowed in which state) and who may act.

Undertaking actions belong to the lead unit (deploy and progress also to co-units); review
actions belong to the raising unit, its government, or a general office at or above it.
"""

from __future__ import annotations

from typing import get_args

from ledger13710.domain.directory import government_of, is_within
from ledger13710.domain.events import PartAction
from ledger13710.domain.state import State

OPEN = (State.ASSIGNED, State.DEPLOYED, State.IN_PROGRESS, State.PLANNED)

#: action -> states in which it is allowed
ALLOWED: dict[str, tuple[State, ...]] = {
    "assign": (State.REGISTERED,),
    "sub-assign": OPEN,
    "deploy": (State.ASSIGNED,),
    "feedback": (State.DEPLOYED,),
    "progress": (State.IN_PROGRESS, State.PLANNED),
    "resolve": (State.IN_PROGRESS, State.PLANNED),
    "plan": (State.IN_PROGRESS, State.PLANNED),
    "extend": OPEN,
    "extend-decision": OPEN,
    "return": (State.IN_PROGRESS, State.RESOLVED),
    "accept-feedback": (State.IN_PROGRESS, State.PLANNED),
    "urge": OPEN,
    "close-out": (State.RESOLVED,),
    "cancel": (State.REGISTERED, *OPEN, State.RESOLVED),
    "review-part": (*OPEN, State.RESOLVED),
}

#: review decisions an upper node may send down for a part hosted on a lower node
PART_ACTIONS: tuple[str, ...] = get_args(PartAction)


def allowed_actions(state: State) -> list[str]:
    """Actions the lifecycle allows in ``state`` (before any role check)."""
    return [a for a, states in ALLOWED.items() if state in states]


def may_supervise(actor_unit: str, raising_unit: str) -> bool:
    """The raising unit, its government, or the general office of it or of a government above."""
    if actor_unit == raising_unit:
        return True
    actor_gov = government_of(actor_unit)
    if not is_within(raising_unit, actor_gov):
        return False
    return actor_unit == actor_gov or actor_unit.endswith("/general-office")
