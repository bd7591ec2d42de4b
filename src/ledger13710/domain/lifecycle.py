"""The lifecycle table (which action is allowed in which state) and who may act.

Undertaking actions belong to the lead unit (deploy and progress also to co-units); review
actions belong to the raising unit, its government, or a general office at or above it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import get_args

from ledger13710.domain.directory import government_of, is_within
from ledger13710.domain.events import PartAction
from ledger13710.domain.state import State


class Action(StrEnum):
    """What can be done to an item: the lifecycle table's keys and the part decisions.

    A member equals its string, so events, messages and command names carry the same text as
    before; the strings are the stable names (on the wire and in the CLI).
    """

    ASSIGN = "assign"
    SUB_ASSIGN = "sub-assign"
    DEPLOY = "deploy"
    FEEDBACK = "feedback"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    PLAN = "plan"
    EXTEND = "extend"
    EXTEND_DECISION = "extend-decision"
    RETURN = "return"
    ACCEPT_FEEDBACK = "accept-feedback"
    URGE = "urge"
    CLOSE_OUT = "close-out"
    CANCEL = "cancel"
    REVIEW_PART = "review-part"
    #: the two outcomes of an extension decision, as sent down for a part hosted below
    EXTEND_APPROVE = "extend-approve"
    EXTEND_DENY = "extend-deny"
    #: allowed in every state, so not in :data:`ALLOWED`
    ERASE_ATTACHMENT = "erase-attachment"


OPEN = (State.ASSIGNED, State.DEPLOYED, State.IN_PROGRESS, State.PLANNED)

#: action -> states in which it is allowed
ALLOWED: dict[str, tuple[State, ...]] = {
    Action.ASSIGN: (State.REGISTERED,),
    Action.SUB_ASSIGN: OPEN,
    Action.DEPLOY: (State.ASSIGNED,),
    Action.FEEDBACK: (State.DEPLOYED,),
    Action.PROGRESS: (State.IN_PROGRESS, State.PLANNED),
    Action.RESOLVE: (State.IN_PROGRESS, State.PLANNED),
    Action.PLAN: (State.IN_PROGRESS, State.PLANNED),
    Action.EXTEND: OPEN,
    Action.EXTEND_DECISION: OPEN,
    Action.RETURN: (State.IN_PROGRESS, State.RESOLVED),
    Action.ACCEPT_FEEDBACK: (State.IN_PROGRESS, State.PLANNED),
    Action.URGE: OPEN,
    Action.CLOSE_OUT: (State.RESOLVED,),
    Action.CANCEL: (State.REGISTERED, *OPEN, State.RESOLVED),
    Action.REVIEW_PART: (*OPEN, State.RESOLVED),
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
