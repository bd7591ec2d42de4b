"""Factories for the pure-domain tests: an item driven through its lifecycle, no storage.

Deadlines come from the built-in ``13710-v1`` policy and the package calendar, as the
application computes them; time is a fixed aware Shanghai instant advanced by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from ledger13710.config.calendars import load_calendar
from ledger13710.config.policies import load_builtin_policy
from ledger13710.domain import events as ev
from ledger13710.domain.item import ALLOWED, PART_ACTIONS, Item, allowed_actions
from ledger13710.domain.snapshot import project_item
from ledger13710.domain.state import FINISHED, PLAN_TARGET, ItemState, State, evolve
from ledger13710.domain.types import SHANGHAI, Clock, Deadline, Severity

POLICY = load_builtin_policy("13710-v1")
CALENDAR = load_calendar()

#: Monday 10 October 2016, 09:00 in Shanghai: the month of the Dingxiang example.
T0 = datetime(2016, 10, 10, 9, 0, tzinfo=SHANGHAI)
NUMBER = "sx-2016-0001"
RAISING = "sx/general-office"
LEAD = "sx/transport"
CO = "sx/public-security"
OPERATOR = "op-transport"
SUPERVISOR = "sup-general-office"
#: Units under the lead unit's government (``sx``) that may receive a sub-assigned part.
SUB_UNITS = ("sx.xinzhou", "sx.xinzhou.dingxiang", "sx.taiyuan")

#: Actions of the undertaking side (lead unit; deploy/progress also a co-unit) ...
UNDERTAKING = ("sub-assign", "deploy", "feedback", "progress", "resolve", "plan", "extend")
#: ... and of the reviewing side (raising unit, its government, a general office above).
REVIEW = ("assign", "extend-decision", "return", "accept-feedback", "urge", "close-out", "cancel")
#: ... and the review of a part hosted below, by the side that gave the part (the lead unit's).
PART_REVIEW = ("review-part",)

#: The event each action emits (extension decisions: the approval, by default).
EMITS: dict[str, type[ev.ItemEvent]] = {
    "assign": ev.Assigned,
    "sub-assign": ev.SubAssigned,
    "accept-feedback": ev.FeedbackAccepted,
    "deploy": ev.Deployed,
    "feedback": ev.FeedbackSubmitted,
    "progress": ev.ProgressReported,
    "resolve": ev.Resolved,
    "plan": ev.PlanSubmitted,
    "extend": ev.ExtensionRequested,
    "extend-decision": ev.ExtensionApproved,
    "return": ev.Returned,
    "urge": ev.Urged,
    "close-out": ev.ClosedOut,
    "cancel": ev.Cancelled,
    "review-part": ev.PartReviewed,
}


def standing_deadlines(severity: Severity, at: datetime) -> list[Deadline]:
    """The deploy, feedback and resolve deadlines of an item assigned at ``at``."""
    return [
        POLICY.deadline(c, at, severity, CALENDAR)
        for c in (Clock.DEPLOY, Clock.FEEDBACK, Clock.RESOLVE)
    ]


def plan_deadlines(
    now: datetime, milestones: Sequence[ev.PlanMilestone], target_at: datetime
) -> list[Deadline]:
    """Milestone deadlines plus the plan-target deadline, as the application builds them."""
    deadlines = [
        POLICY.milestone_deadline(i, now, m.due_at, CALENDAR) for i, m in enumerate(milestones, 1)
    ]
    target = POLICY.milestone_deadline(len(milestones) + 1, now, target_at, CALENDAR)
    return [*deadlines, msgspec.structs.replace(target, clock=PLAN_TARGET)]


def as_builtins(state: ItemState) -> Any:
    """A state as plain data, for exact comparisons."""
    return msgspec.to_builtins(state)


def replay(events: Sequence[ev.ItemEvent]) -> ItemState:
    """Fold ``events`` with :func:`evolve` from nothing."""
    state: ItemState | None = None
    for e in events:
        state = evolve(state, e)
    assert state is not None
    return state


@dataclass
class Scenario:
    """An item, the instant it lives at, and every event it has emitted so far."""

    item: Item
    now: datetime
    history: list[ev.ItemEvent] = field(default_factory=list)
    children: dict[str, Item] = field(default_factory=dict)

    @property
    def state(self) -> ItemState:
        """The live state of the item."""
        return self.item.state

    def tick(self, hours: float = 1) -> datetime:
        """Advance the scenario's clock and return the new instant."""
        self.now += timedelta(hours=hours)
        return self.now

    def flush(self) -> list[ev.ItemEvent]:
        """Collect the item's pending events into the history and return them."""
        events = list(self.item.collect_events())
        self.history.extend(events)
        return events

    def replayed(self) -> ItemState:
        """The state rebuilt from the history by :func:`project_item`."""
        projected = project_item(None, self.history)
        assert projected is not None
        return projected.state


def register(
    *,
    number: str = NUMBER,
    severity: Severity = Severity.GENERAL,
    raising_unit: str = RAISING,
    lead_unit: str = LEAD,
    co_units: Sequence[str] = (CO,),
    now: datetime = T0,
    title: str = "Widen the lanes of the Dingxiang North toll station",
) -> Scenario:
    """A freshly registered item (its Registered event already flushed)."""
    item = Item.register(
        number=number,
        title=title,
        detail="Wind-power flanges and towers cannot leave Dingxiang county",
        source="key_work",
        board="daily",
        severity=severity.value,
        raising_unit=raising_unit,
        lead_unit=lead_unit,
        co_units=co_units,
        now=now,
        actor=SUPERVISOR,
        unit=raising_unit,
    )
    sc = Scenario(item=item, now=now)
    sc.flush()
    return sc


def assigned(**kwargs: Any) -> Scenario:
    """A registered and assigned item, deadlines from the 13710-v1 policy."""
    sc = register(**kwargs)
    perform(sc, "assign")
    sc.flush()
    return sc


# -- one valid command per action ------------------------------------------------------------


def _undertaker(sc: Scenario, unit: str | None) -> str:
    return unit if unit is not None else sc.state.lead_unit


def _reviewer(sc: Scenario, unit: str | None) -> str:
    return unit if unit is not None else sc.state.raising_unit


def _extend(sc: Scenario, unit: str | None, choice: int) -> None:
    free = [d for d in sc.state.open_clocks() if d.clock not in sc.state.pending_extensions]
    d = free[choice % len(free)] if free else None  # none: the command must refuse itself
    sc.item.request_extension(
        clock=d.clock if d else Clock.RESOLVE.value,
        requested_due=(d.due_at if d else sc.now) + timedelta(days=2),
        reason="the steel supplier needs more time",
        now=sc.tick(),
        actor=OPERATOR,
        unit=_undertaker(sc, unit),
    )


def _decide(sc: Scenario, unit: str | None, choice: int) -> None:
    pending = sorted(sc.state.pending_extensions) or [Clock.RESOLVE.value]
    clock = pending[choice % len(pending)]
    now = sc.tick()
    deadline = None
    if choice % 2 == 0 and clock in sc.state.pending_extensions:
        previous = sc.state.deadlines[clock]
        due = sc.state.pending_extensions[clock].requested_due
        if due <= max(previous.due_at, now):
            due = max(previous.due_at, now) + timedelta(days=1)
        deadline = POLICY.extended_deadline(previous, due, now, CALENDAR)
    sc.item.decide_extension(
        clock=clock,
        deadline=deadline,
        reason="approved" if deadline else "no new facts",
        now=now,
        actor=SUPERVISOR,
        unit=_reviewer(sc, unit),
    )


def _plan(sc: Scenario, unit: str | None, choice: int) -> None:
    now = sc.tick()
    count = 1 + choice % 3
    steps = [
        ev.PlanMilestone(title=f"step {i}", due_at=now + timedelta(days=2 * i))
        for i in range(1, count + 1)
    ]
    target = now + timedelta(days=2 * count + 3)
    sc.item.plan(
        reason="the toll station must stay open while the lanes are widened",
        target_at=target,
        milestones=steps,
        deadlines=plan_deadlines(now, steps, target),
        now=now,
        actor=OPERATOR,
        unit=_undertaker(sc, unit),
    )


def _sub_assign(sc: Scenario, unit: str | None, choice: int) -> None:
    used = {c.unit for c in sc.state.children.values()}
    free = [u for u in SUB_UNITS if u not in used] or list(SUB_UNITS)
    to_unit = free[choice % len(free)]
    now = sc.tick()
    child_number = f"{sc.state.number}-{len(sc.state.children) + 1}"
    sc.item.sub_assign(
        child_number=child_number,
        to_unit=to_unit,
        part=f"the part of {to_unit}",
        host_node="sx",
        now=now,
        actor=OPERATOR,
        unit=_undertaker(sc, unit),
    )
    child = Item.register(
        number=child_number,
        title=sc.state.title,
        detail="part",
        source=sc.state.source,
        board=sc.state.board,
        severity=sc.state.severity,
        raising_unit=sc.state.lead_unit,
        lead_unit=to_unit,
        co_units=(),
        now=now,
        actor=OPERATOR,
        unit=sc.state.lead_unit,
        parent_id=sc.state.id,
        parent_number=sc.state.number,
    )
    child.assign(
        deadlines=standing_deadlines(Severity(sc.state.severity), now),
        now=now,
        actor=OPERATOR,
        unit=sc.state.lead_unit,
    )
    child.collect_events()
    sc.children[child_number] = child
    sc.item.child_updated(child.state, now)  # same state as recorded: no event


def resolve_child(sc: Scenario, child_number: str) -> None:
    """Drive a sub-assigned child to resolved and roll it up into the parent."""
    child = sc.children[child_number]
    unit = child.state.lead_unit
    child.deploy(note="deployed", now=sc.tick(), actor="op-child", unit=unit)
    child.feedback(content="under way", now=sc.tick(), actor="op-child", unit=unit)
    child.resolve(content="done", now=sc.tick(), actor="op-child", unit=unit)
    child.collect_events()
    sc.item.child_updated(child.state, sc.now)


def _review_part(sc: Scenario, unit: str | None, choice: int) -> None:
    parts = sorted(c.number for c in sc.state.children.values()) or ["no-such-part"]
    action = PART_ACTIONS[choice % len(PART_ACTIONS)]
    extension = action.startswith("extend-")
    sc.item.review_part(
        child_number=parts[choice % len(parts)],
        action=action,
        text="the part's report is too thin",
        now=sc.tick(),
        actor=SUPERVISOR,
        unit=_undertaker(sc, unit),
        clock=Clock.RESOLVE.value if extension else "",
        until=sc.now + timedelta(days=10) if extension else None,
    )


#: the evidence every resolution in these walks carries
PHOTO = ev.Attachment(name="lane.jpg", media_type="image/jpeg", size=2048, sha256="ab" * 32)


def erase_photo(sc: Scenario) -> None:
    """删除附件: the raising side erases :data:`PHOTO` by a decision."""
    sc.item.erase_attachment(
        sha256=PHOTO.sha256, decision="晋政办〔2016〕9号", reason="a bystander's face",
        **_by_raiser(sc, None),
    )  # fmt: skip


def _by_lead(sc: Scenario, unit: str | None) -> dict[str, Any]:
    """``now``/``actor``/``unit`` keywords of an undertaking command, one hour on."""
    return {"now": sc.tick(), "actor": OPERATOR, "unit": _undertaker(sc, unit)}


def _by_raiser(sc: Scenario, unit: str | None) -> dict[str, Any]:
    """``now``/``actor``/``unit`` keywords of a review command, one hour on."""
    return {"now": sc.tick(), "actor": SUPERVISOR, "unit": _reviewer(sc, unit)}


def _assign(sc: Scenario, unit: str | None, _: int) -> None:
    kw = _by_raiser(sc, unit)
    deadlines = standing_deadlines(Severity(sc.state.severity), kw["now"])
    sc.item.assign(deadlines=deadlines, note="to transport and public security", **kw)


Command = Callable[[Scenario, str | None, int], None]

COMMANDS: dict[str, Command] = {
    "assign": _assign,
    "sub-assign": _sub_assign,
    "deploy": lambda sc, u, _: sc.item.deploy(note="studied it", **_by_lead(sc, u)),
    "feedback": lambda sc, u, _: sc.item.feedback(content="survey done", **_by_lead(sc, u)),
    "progress": lambda sc, u, c: sc.item.progress(
        content="works started", milestone=c % (sc.state.plan_milestones + 1), **_by_lead(sc, u)
    ),
    "resolve": lambda sc, u, _: sc.item.resolve(
        content="lanes widened", attachments=(PHOTO,), **_by_lead(sc, u)
    ),
    "plan": _plan,
    "extend": _extend,
    "extend-decision": _decide,
    "return": lambda sc, u, _: sc.item.return_for_rework(reason="thin", **_by_raiser(sc, u)),
    "accept-feedback": lambda sc, u, _: sc.item.accept_feedback(note="ok", **_by_raiser(sc, u)),
    "urge": lambda sc, u, _: sc.item.urge(message="speed up", **_by_raiser(sc, u)),
    "close-out": lambda sc, u, _: sc.item.close_out(verdict="verified", **_by_raiser(sc, u)),
    "cancel": lambda sc, u, _: sc.item.cancel(
        reason="merged into another item", approved_by="leader-1", **_by_raiser(sc, u)
    ),
    "review-part": _review_part,
}


def perform(sc: Scenario, action: str, *, unit: str | None = None, choice: int = 0) -> None:
    """Run a valid command for ``action`` (by its usual actor unless ``unit`` is given)."""
    COMMANDS[action](sc, unit, choice)


#: The path from registration to each state (actions performed in order).
PATHS: dict[State, tuple[str, ...]] = {
    State.REGISTERED: (),
    State.ASSIGNED: ("assign",),
    State.DEPLOYED: ("assign", "deploy"),
    State.IN_PROGRESS: ("assign", "deploy", "feedback"),
    State.PLANNED: ("assign", "deploy", "feedback", "plan"),
    State.RESOLVED: ("assign", "deploy", "feedback", "resolve"),
    State.CLOSED: ("assign", "deploy", "feedback", "resolve", "close-out"),
    State.CANCELLED: ("assign", "cancel"),
}


#: What an action needs beyond the state: done right after assignment by :func:`drive_to`.
PREPARE: dict[str, str] = {"extend-decision": "extend", "review-part": "sub-assign"}


def drive_to(state: State, *, ready_for: str = "", **kwargs: Any) -> Scenario:
    """An item in ``state``, prepared (when the path allows) so ``ready_for`` can succeed.

    Preparing means: a resolve-clock extension waits (for ``extend-decision``), or a part has
    been sub-assigned (for ``review-part``). ``kwargs`` go to :func:`register`.
    """
    sc = register(**kwargs)
    for i, action in enumerate(PATHS[state]):
        perform(sc, action)
        if i == 0 and ready_for in PREPARE:
            perform(sc, PREPARE[ready_for], choice=2)  # extend: 3rd open clock, resolve
    sc.flush()
    assert sc.state.state is state
    return sc


def open_children(sc: Scenario) -> list[str]:
    """Numbers of sub-assigned children not yet resolved, closed or cancelled."""
    done = {State.RESOLVED.value, *(s.value for s in FINISHED)}
    return sorted(c.number for c in sc.state.children.values() if c.state not in done)


def feasible(sc: Scenario) -> list[str]:
    """Actions that are allowed now and have valid arguments; ``child-resolve`` included."""
    s = sc.state
    acts: list[str] = []
    for action in allowed_actions(s.state):
        if action == "extend" and all(d.clock in s.pending_extensions for d in s.open_clocks()):
            continue
        if action == "extend-decision" and not s.pending_extensions:
            continue
        if action == "accept-feedback" and not s.feedback_pending:
            continue
        if action == "close-out" and open_children(sc):
            continue
        if action == "sub-assign" and len(s.children) >= len(SUB_UNITS):
            continue
        if action == "review-part" and not s.children:
            continue
        acts.append(action)
    if open_children(sc):
        acts.append("child-resolve")
    return acts


def step(sc: Scenario, action: str, choice: int) -> None:
    """One step of a random walk: an action from :func:`feasible`."""
    if action == "child-resolve":
        resolve_child(sc, open_children(sc)[choice % len(open_children(sc))])
    else:
        perform(sc, action, choice=choice)


assert set(COMMANDS) == set(ALLOWED) == set(EMITS) == {*UNDERTAKING, *REVIEW, *PART_REVIEW}
