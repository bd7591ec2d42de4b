"""Who may do what to an item, person by person, from the directory's roles.

:mod:`~ledger13710.domain.guards` checks the acting *unit*; this module checks the acting
*person* (a contact id) against the roles the directory gives them:

* the undertaking side: a head (一把手) or operator (具体操作人员) of the lead unit; for deploy
  and progress also of a co-unit;
* the raising side: a head or supervisor (督查) of the raising unit, of a government at or above
  it, or of such a government's general office (the units :func:`may_supervise` accepts);
* a cancellation's approver: a head or supervisor of the raising unit or of a government at
  or above it.

A refusal names who may. The table in ``docs/roles.md`` states the same rules per person, and
its test runs one case per cell.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger13710.domain.directory import ContactRole, Directory, ancestor_governments
from ledger13710.domain.errors import RoleError
from ledger13710.domain.lifecycle import Action, may_supervise
from ledger13710.domain.state import ItemState

UNDERTAKERS: tuple[ContactRole, ...] = ("head", "operator")
REVIEWERS: tuple[ContactRole, ...] = ("head", "supervisor")

#: Undertaking actions a co-unit may take too.
CO_ACTIONS = frozenset({Action.DEPLOY, Action.PROGRESS})
#: Undertaking actions (the lead unit's side).
UNDERTAKING = frozenset(
    {
        Action.SUB_ASSIGN,
        Action.DEPLOY,
        Action.FEEDBACK,
        Action.PROGRESS,
        Action.RESOLVE,
        Action.PLAN,
        Action.EXTEND,
    }
)

#: How many eligible people a refusal lists before it summarises the rest.
_NAMED = 6


def holders(directory: Directory, unit: str, roles: Iterable[ContactRole]) -> list[str]:
    """Contact ids holding one of ``roles`` in ``unit``: from the unit's lists and contacts."""
    wanted = set(roles)
    found: list[str] = []
    if directory.has_unit(unit):
        u = directory.unit(unit)
        if "head" in wanted and u.head:
            found.append(u.head)
        if "operator" in wanted:
            found += u.operators
        if "supervisor" in wanted:
            found += u.supervisors
    found += [c.id for c in directory.contacts() if c.unit == unit and c.role in wanted]
    return list(dict.fromkeys(found))


def supervising_units(directory: Directory, raising_unit: str) -> list[str]:
    """Known units that may review an item raised by ``raising_unit``, nearest first."""
    candidates = [raising_unit]
    for gov in ancestor_governments(raising_unit):
        candidates += [gov, f"{gov}/general-office"]
    return [
        u
        for u in dict.fromkeys(candidates)
        if directory.has_unit(u) and may_supervise(u, raising_unit)
    ]


def eligible(directory: Directory, s: ItemState, action: str) -> tuple[str, list[str]]:
    """Who may take ``action`` on ``s``: a description of the side and the contact ids."""
    if action in UNDERTAKING:
        units = [s.lead_unit, *(s.co_units if action in CO_ACTIONS else ())]
        side = "a head or operator of " + " or ".join(units)
        return side, [c for u in units for c in holders(directory, u, UNDERTAKERS)]
    # Review actions; a part is reviewed by the side that gave it, the lead unit's.
    raising = s.lead_unit if action == Action.REVIEW_PART else s.raising_unit
    units = supervising_units(directory, raising)
    side = f"a head or supervisor of {raising} or of a government or general office above it"
    return side, list(dict.fromkeys(c for u in units for c in holders(directory, u, REVIEWERS)))


def approvers(directory: Directory, raising_unit: str) -> list[str]:
    """Who may approve cancelling an item raised by ``raising_unit``: heads and supervisors of
    that unit and of the governments at or above it."""
    units = [raising_unit, *ancestor_governments(raising_unit)]
    found = (c for u in dict.fromkeys(units) for c in holders(directory, u, REVIEWERS))
    return list(dict.fromkeys(found))


def require_person(directory: Directory, s: ItemState, action: str, actor: str) -> None:
    """Refuse ``actor`` unless the directory gives them a role that may take ``action``."""
    side, people = eligible(directory, s, action)
    if actor not in people:
        raise RoleError(
            f"item {s.number}: '{action}' is for {side}; {_who(directory, actor)} may not. "
            f"May: {_names(people)}"
        )


def require_approver(directory: Directory, number: str, raising_unit: str, approver: str) -> None:
    """Refuse a cancellation of item ``number`` approved by someone without the role for it.

    A blank ``approver`` passes here: the item command asks for one itself.
    """
    people = approvers(directory, raising_unit)
    if approver.strip() and approver not in people:
        raise RoleError(
            f"item {number}: a cancellation is approved by a head or supervisor of "
            f"{raising_unit} or of a government above it; {_who(directory, approver)} "
            f"may not. May: {_names(people)}"
        )


def _who(directory: Directory, cid: str) -> str:
    if not directory.has_contact(cid):
        return f"{cid} (not in this node's directory)"
    c = directory.contact(cid)
    return f"{cid} ({c.role} of {c.unit})"


def _names(people: list[str]) -> str:
    if not people:
        return "nobody in this node's directory"
    more = f" … ({len(people) - _NAMED} more)" if len(people) > _NAMED else ""
    return ", ".join(people[:_NAMED]) + more


__all__ = [
    "approvers",
    "eligible",
    "holders",
    "require_approver",
    "require_person",
    "supervising_units",
]
