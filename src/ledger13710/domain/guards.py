"""The checks an item command makes before it emits: lifecycle state, who may act, its input.

Each function reads an :class:`ItemState` (or only the command's input) and raises
:class:`InvalidTransitionError` or :class:`InputError` when the command must be refused. None
changes state or builds an event: :class:`~ledger13710.domain.item.Item` calls them in order,
then emits, so a refused command writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from ledger13710.domain import events as ev
from ledger13710.domain.directory import GOVERNMENT_ID, government_of, is_within
from ledger13710.domain.errors import InputError, InvalidTransitionError
from ledger13710.domain.lifecycle import ALLOWED, PART_ACTIONS, allowed_actions, may_supervise
from ledger13710.domain.state import FINISHED, ChildRef, ItemState, State
from ledger13710.domain.types import Deadline

# -- lifecycle and roles ----------------------------------------------------------------------


def check_allowed(s: ItemState, action: str) -> None:
    """Refuse ``action`` unless the lifecycle table allows it in the item's current state."""
    if s.state not in ALLOWED[action]:
        raise InvalidTransitionError(s.number, s.state.value, action, allowed_actions(s.state))


def require_lead(s: ItemState, action: str, unit: str, *, co_ok: bool = False) -> None:
    """Refuse unless ``unit`` is the lead unit (or, with ``co_ok``, one of the co-units)."""
    if unit == s.lead_unit or (co_ok and unit in s.co_units):
        return
    who = "the lead unit or a co-unit" if co_ok else "the lead unit"
    raise InputError(f"item {s.number}: '{action}' is for {who} ({s.lead_unit}), not {unit}")


def require_supervisor(s: ItemState, action: str, unit: str) -> None:
    """Refuse unless ``unit`` may review the raising unit's item (see :func:`may_supervise`)."""
    if not may_supervise(unit, s.raising_unit):
        raise InputError(
            f"item {s.number}: '{action}' is for the raising unit "
            f"({s.raising_unit}), its government or a general office above it, "
            f"not {unit}"
        )


# -- input ------------------------------------------------------------------------------------

#: The longest item number, in characters.
NUMBER_MAX = 80
_SEGMENT = r"[a-z0-9]{1,12}"
_NUMBER_RE = re.compile(rf"{GOVERNMENT_ID}-[0-9]{{4}}-{_SEGMENT}(?:-{_SEGMENT}){{0,6}}")
NUMBER_SHAPE = (
    "<node>-<year>-<seq>[-<part>...] such as sx-2016-0001 or sx-2016-0001-2: <node> a "
    "government id, <year> four digits, <seq> and up to 6 parts of 1-12 lowercase letters "
    f"or digits each, at most {NUMBER_MAX} characters"
)


def check_number(number: str) -> str:
    """Return ``number`` if it has the shape of :data:`NUMBER_SHAPE`, else refuse it.

    ``<node>`` is the government that registered the item; a sub-assigned part adds a
    ``-<part>`` suffix to its parent's number, whichever node hosts it.
    """
    if len(number) > NUMBER_MAX or _NUMBER_RE.fullmatch(number) is None:
        shown = number if len(number) <= NUMBER_MAX else number[:NUMBER_MAX] + "..."
        raise InputError(f"bad item number {shown!r}: expected {NUMBER_SHAPE}")
    return number


def need_text(value: str, what: str, field: str = "") -> None:
    """Refuse a blank ``value``; ``what`` names it in the message, ``field`` for entry points."""
    if not value.strip():
        raise InputError(f"missing {what}", field=field)


def check_registration(title: str, lead_unit: str, co_units: Sequence[str]) -> None:
    """立项: a title, and co-units listed once each and apart from the lead unit."""
    if not title.strip():
        raise InputError("an item needs a title", field="title")
    if lead_unit in co_units:
        raise InputError(f"lead unit {lead_unit} is also listed as a co-unit")
    if len(set(co_units)) != len(co_units):
        raise InputError("a co-unit is listed twice")


def check_part_target(s: ItemState, to_unit: str, part: str) -> None:
    """分解交办: a unit under the lead unit's government that holds no part yet, and a part."""
    lead_gov = government_of(s.lead_unit)
    if to_unit in (s.lead_unit, lead_gov, *s.co_units) or not is_within(to_unit, lead_gov):
        raise InputError(
            f"item {s.number}: a part can go only to a unit under {lead_gov} "
            "(not the lead or a co-unit), "
            f"not {to_unit}"
        )
    if any(c.unit == to_unit for c in s.children.values()):
        raise InputError(f"item {s.number}: {to_unit} already has a part of it")
    if not part.strip():
        raise InputError("say which part is sub-assigned", field="part")


def part_to_review(s: ItemState, child_number: str, action: str, unit: str) -> ChildRef:
    """The part a review decision is about, once the action and the reviewing unit are valid.

    A part is reviewed by the unit that gave it (the lead unit), its government or a general
    office above it.
    """
    ref = next((c for c in s.children.values() if c.number == child_number), None)
    if ref is None:
        raise InputError(f"item {s.number} has no part {child_number}")
    if action not in PART_ACTIONS:
        raise InputError(f"unknown review action {action!r}; one of: {', '.join(PART_ACTIONS)}")
    if not may_supervise(unit, s.lead_unit):
        raise InputError(
            f"part {child_number}: '{action}' is for {s.lead_unit} (which gave the "
            f"part), its government or a general office above it, not {unit}"
        )
    return ref


def check_milestone(s: ItemState, milestone: int) -> None:
    """A progress report meets plan milestone ``milestone`` (1-based), or none when it is 0."""
    if milestone and not 1 <= milestone <= s.plan_milestones:
        raise InputError(
            f"item {s.number} has {s.plan_milestones} plan milestones; "
            f"there is no milestone {milestone}"
        )


def check_plan(milestones: Sequence[ev.PlanMilestone], target_at: datetime, now: datetime) -> None:
    """时间节点和方案: milestones due one after another, the first after ``now``.

    The plan's target date is no earlier than its last milestone.
    """
    if not milestones:
        raise InputError("a plan needs at least one milestone")
    last = now
    for i, m in enumerate(milestones, 1):
        if m.due_at <= last:
            raise InputError(f"plan milestone {i} ({m.title}) must be due after {last}")
        last = m.due_at
    if target_at < last:
        raise InputError("the plan's target date is before its last milestone")


def check_extension_request(s: ItemState, clock: str, requested_due: datetime) -> None:
    """延期申请: an open clock with no request waiting, asked to be due later than it is."""
    current = _open_deadline(s, clock)
    if clock in s.pending_extensions:
        raise InputError(f"item {s.number}: an extension of {clock} already waits")
    if requested_due <= current.due_at:
        raise InputError(
            f"the requested due time {requested_due} is not later than {current.due_at}"
        )


def check_extension_waiting(s: ItemState, clock: str) -> None:
    """延期审批: a request to extend ``clock`` waits for the decision."""
    if clock not in s.pending_extensions:
        raise InputError(f"item {s.number}: no extension of {clock} is waiting")


def check_feedback_pending(s: ItemState, untrue: bool = False) -> None:
    """Accepting feedback, or marking it untrue, needs feedback that awaits review."""
    if not s.feedback_pending:
        what = "mark as untrue" if untrue else "accept"
        raise InputError(f"item {s.number}: no feedback awaits review; nothing to {what}")


def check_parts_done(s: ItemState) -> None:
    """销号: every sub-assigned part is resolved or finished."""
    waiting = [c.number for c in s.children.values() if c.state not in (State.RESOLVED, *FINISHED)]
    if waiting:
        raise InputError(
            f"item {s.number} cannot be closed out: parts still open: " + ", ".join(sorted(waiting))
        )


def _open_deadline(s: ItemState, clock: str) -> Deadline:
    d = s.deadlines.get(clock)
    if d is None or clock in s.met:
        open_ = ", ".join(x.clock for x in s.open_clocks()) or "none"
        raise InputError(f"item {s.number} has no open clock '{clock}'; open clocks: {open_}")
    return d


__all__ = [
    "NUMBER_MAX",
    "NUMBER_SHAPE",
    "check_allowed",
    "check_extension_request",
    "check_extension_waiting",
    "check_milestone",
    "check_number",
    "check_part_target",
    "check_parts_done",
    "check_plan",
    "check_registration",
    "need_text",
    "part_to_review",
    "require_lead",
    "require_supervisor",
]
