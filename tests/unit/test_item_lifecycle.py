"""The item lifecycle: every action in every state, and what each transition means."""

from __future__ import annotations

from datetime import timedelta

import pytest
from domain_helpers import (
    CALENDAR,
    CO,
    EMITS,
    LEAD,
    NUMBER,
    OPERATOR,
    POLICY,
    SUPERVISOR,
    Scenario,
    as_builtins,
    assigned,
    drive_to,
    perform,
    register,
    resolve_child,
)

from ledger13710.domain import events as ev
from ledger13710.domain.errors import InputError, InvalidTransitionError
from ledger13710.domain.item import ALLOWED, allowed_actions
from ledger13710.domain.state import PLAN_TARGET, State
from ledger13710.domain.types import Clock, milestone_clock

#: Where an allowed action takes the item (absent: it stays where it is).
NEXT: dict[tuple[str, State], State] = {
    ("assign", State.REGISTERED): State.ASSIGNED,
    ("deploy", State.ASSIGNED): State.DEPLOYED,
    ("feedback", State.DEPLOYED): State.IN_PROGRESS,
    ("plan", State.IN_PROGRESS): State.PLANNED,
    ("plan", State.PLANNED): State.PLANNED,
    ("resolve", State.IN_PROGRESS): State.RESOLVED,
    ("resolve", State.PLANNED): State.RESOLVED,
    ("return", State.IN_PROGRESS): State.DEPLOYED,
    ("return", State.RESOLVED): State.IN_PROGRESS,
    ("close-out", State.RESOLVED): State.CLOSED,
    **{("cancel", s): State.CANCELLED for s in ALLOWED["cancel"]},
}

CASES = [(action, state) for action in ALLOWED for state in State]
ALLOWED_CASES = [c for c in CASES if c[1] in ALLOWED[c[0]]]
REFUSED_CASES = [c for c in CASES if c[1] not in ALLOWED[c[0]]]


def _id(case: tuple[str, State]) -> str:
    """Test id ``action@state``."""
    return f"{case[0]}@{case[1].value}"


@pytest.mark.parametrize("case", ALLOWED_CASES, ids=_id)
def test_allowed_action_emits_one_event(case: tuple[str, State]) -> None:
    """An action the table allows in a state succeeds with exactly one event of its kind."""
    action, state = case
    sc = drive_to(state, ready_for=action)
    version = sc.item.version
    perform(sc, action)
    events = sc.flush()
    assert [EMITS[action]] == [type(e) for e in events]
    assert version + 1 == events[0].originator_version == sc.item.version
    assert NEXT.get((action, state), state) == sc.state.state


@pytest.mark.parametrize("case", REFUSED_CASES, ids=_id)
def test_refused_action_names_item_state_and_allowed(case: tuple[str, State]) -> None:
    """A refused action raises InvalidTransitionError naming it all, and emits nothing."""
    action, state = case
    sc = drive_to(state)
    before = as_builtins(sc.state)
    with pytest.raises(InvalidTransitionError) as info:
        perform(sc, action)
    message = str(info.value)
    assert NUMBER in message
    assert f" is {state.value}:" in message
    assert f"'{action}'" in message
    allowed = allowed_actions(state)
    assert allowed == info.value.allowed
    named = ", ".join(allowed) or "nothing (the item is finished)"
    assert message.endswith(f"; allowed: {named}")
    assert list(sc.item.collect_events()) == []
    assert before == as_builtins(sc.state)  # version included


def test_finished_states_allow_nothing() -> None:
    """Closed and cancelled items accept no action at all."""
    expected: list[str] = []
    assert expected == allowed_actions(State.CLOSED)
    assert expected == allowed_actions(State.CANCELLED)


# -- semantics -------------------------------------------------------------------------------


def test_assign_starts_the_three_clocks() -> None:
    """Assignment records deploy, feedback and the 7-day resolve deadline."""
    sc = assigned()
    expected = {Clock.DEPLOY.value, Clock.FEEDBACK.value, Clock.RESOLVE.value}
    assert expected == set(sc.state.deadlines)
    resolve_due = sc.state.deadlines[Clock.RESOLVE].due_at
    assert resolve_due.date().isoformat() == "2016-10-17"


@pytest.mark.parametrize(
    ("path", "clock"),
    [
        (("deploy",), Clock.DEPLOY),
        (("deploy", "feedback"), Clock.FEEDBACK),
        (("deploy", "feedback", "resolve"), Clock.RESOLVE),
    ],
)
def test_undertaking_steps_record_met(path: tuple[str, ...], clock: Clock) -> None:
    """Deploy, feedback and resolve each mark their clock met at the event's time."""
    sc = assigned()
    for action in path:
        perform(sc, action)
    assert sc.now == sc.state.met[clock]


def test_return_of_feedback_reopens_feedback_clock() -> None:
    """Returning feedback sends the item back to deployed, the feedback clock open again."""
    sc = drive_to(State.IN_PROGRESS)
    perform(sc, "return")
    assert sc.state.state == State.DEPLOYED
    assert Clock.FEEDBACK not in sc.state.met
    assert Clock.FEEDBACK in [d.clock for d in sc.state.open_clocks()]
    assert sc.state.returns == 1
    returned = sc.flush()[-1]
    assert isinstance(returned, ev.Returned)
    assert returned.stage == "feedback"


def test_return_of_resolution_goes_back_to_in_progress_and_counts() -> None:
    """A returned resolution reopens the resolve clock; ``returns`` counts every return."""
    sc = drive_to(State.RESOLVED)
    perform(sc, "return")
    after_first = sc.state.state
    assert Clock.RESOLVE not in sc.state.met
    perform(sc, "resolve")
    perform(sc, "return")
    perform(sc, "return")  # in progress: this one returns the feedback
    assert (after_first, sc.state.state) == (State.IN_PROGRESS, State.DEPLOYED)
    assert sc.state.returns == 3


def test_return_of_resolution_under_a_plan_goes_back_to_planned() -> None:
    """With a plan, a returned resolution reopens both the resolve and plan-target clocks."""
    sc = drive_to(State.PLANNED)
    perform(sc, "resolve")
    assert PLAN_TARGET in sc.state.met
    perform(sc, "return")
    assert sc.state.state == State.PLANNED
    assert PLAN_TARGET not in sc.state.met
    assert Clock.RESOLVE not in sc.state.met


def test_plan_creates_milestone_and_target_deadlines() -> None:
    """A plan of three milestones gives milestone-1..3 and plan-target, state planned."""
    sc = drive_to(State.IN_PROGRESS)
    perform(sc, "plan", choice=2)
    expected = {milestone_clock(i) for i in (1, 2, 3)} | {PLAN_TARGET}
    assert expected <= set(sc.state.deadlines)
    assert sc.state.state == State.PLANNED
    assert sc.state.plan_milestones == 3


def test_progress_with_milestone_marks_it_met() -> None:
    """Progress naming milestone 2 marks only milestone-2 met."""
    sc = drive_to(State.IN_PROGRESS)
    perform(sc, "plan", choice=2)
    perform(sc, "progress", choice=2)
    assert sc.now == sc.state.met[milestone_clock(2)]
    assert milestone_clock(1) not in sc.state.met
    assert sc.state.state == State.PLANNED


@pytest.mark.parametrize("milestone", [-1, 3, 99])
def test_progress_with_unknown_milestone_is_refused(milestone: int) -> None:
    """A milestone index outside 1..plan_milestones is refused, naming the count."""
    sc = drive_to(State.PLANNED)  # the path plans one milestone
    version = sc.item.version
    with pytest.raises(InputError, match="has 1 plan milestones; there is no milestone"):
        sc.item.progress(content="x", now=sc.tick(), actor=OPERATOR, unit=LEAD, milestone=milestone)
    assert version == sc.item.version
    assert list(sc.item.collect_events()) == []


@pytest.mark.parametrize(
    ("offsets", "problem"),
    [
        ((-1.0,), "must be due after"),
        ((0.0,), "must be due after"),
        ((48.0, 24.0), "milestone 2"),
        ((48.0, 48.0), "milestone 2"),
    ],
)
def test_plan_milestones_must_increase_after_now(offsets: tuple[float, ...], problem: str) -> None:
    """Plan milestones must be due after now and strictly increasing."""
    sc = drive_to(State.IN_PROGRESS)
    hours = [timedelta(hours=h) for h in offsets]
    with pytest.raises(InputError, match=problem):
        _submit_plan(sc, hours, timedelta(days=30))
    assert list(sc.item.collect_events()) == []


def test_plan_needs_a_milestone_and_a_late_enough_target() -> None:
    """An empty plan and a target before the last milestone are refused."""
    sc = drive_to(State.IN_PROGRESS)
    with pytest.raises(InputError, match="at least one milestone"):
        _submit_plan(sc, [], timedelta(days=9))
    with pytest.raises(InputError, match="before its last milestone"):
        _submit_plan(sc, [timedelta(days=5)], timedelta(days=4))
    assert list(sc.item.collect_events()) == []


def _submit_plan(sc: Scenario, offsets: list[timedelta], target: timedelta) -> None:
    """The lead unit submits a plan with milestones and target this far from now."""
    now = sc.tick()
    steps = [ev.PlanMilestone(title=f"m{i}", due_at=now + o) for i, o in enumerate(offsets, 1)]
    sc.item.plan(
        reason="r",
        target_at=now + target,
        milestones=steps,
        deadlines=(),
        now=now,
        actor=OPERATOR,
        unit=LEAD,
    )


def _request(sc: Scenario, clock: str, days: int = 3) -> None:
    """The lead unit asks to move ``clock`` ``days`` later."""
    due = sc.state.deadlines[clock].due_at + timedelta(days=days)
    sc.item.request_extension(
        clock=clock,
        requested_due=due,
        reason="steel late",
        now=sc.tick(),
        actor=OPERATOR,
        unit=LEAD,
    )


def test_extension_approved_replaces_the_deadline() -> None:
    """Request → pending; approval records the new deadline and counts the grant."""
    sc = assigned()
    _request(sc, Clock.RESOLVE)
    pending = sc.state.pending_extensions[Clock.RESOLVE]
    assert sc.state.extensions_requested == 1
    old = sc.state.deadlines[Clock.RESOLVE]
    new = POLICY.extended_deadline(old, pending.requested_due, sc.tick(), CALENDAR)
    sc.item.decide_extension(
        clock=Clock.RESOLVE,
        deadline=new,
        reason="ok",
        now=sc.now,
        actor=SUPERVISOR,
        unit=sc.state.raising_unit,
    )
    assert new == sc.state.deadlines[Clock.RESOLVE]
    assert pending.requested_due == sc.state.deadlines[Clock.RESOLVE].due_at
    assert sc.state.extensions_granted == 1
    assert sc.state.pending_extensions == {}


def test_extension_denied_keeps_the_deadline() -> None:
    """A denial clears the request and keeps the recorded deadline."""
    sc = assigned()
    old = sc.state.deadlines[Clock.RESOLVE]
    _request(sc, Clock.RESOLVE)
    perform(sc, "extend-decision", choice=1)
    assert old == sc.state.deadlines[Clock.RESOLVE]
    assert sc.state.extensions_granted == 0
    assert sc.state.pending_extensions == {}
    assert isinstance(sc.flush()[-1], ev.ExtensionDenied)


def test_second_request_while_pending_is_refused() -> None:
    """Only one extension request per clock may wait at a time."""
    sc = assigned()
    _request(sc, Clock.RESOLVE)
    sc.flush()
    with pytest.raises(InputError, match="an extension of resolve already waits"):
        _request(sc, Clock.RESOLVE, days=5)
    assert list(sc.item.collect_events()) == []
    _request(sc, Clock.FEEDBACK)  # another clock is fine
    assert sc.state.extensions_requested == 2


@pytest.mark.parametrize("clock", [Clock.DEPLOY.value, "milestone-7", "nonsense"])
def test_extension_of_met_or_unknown_clock_is_refused(clock: str) -> None:
    """Asking to extend a met or unknown clock is refused, naming the open clocks."""
    sc = drive_to(State.DEPLOYED)
    with pytest.raises(InputError) as info:
        sc.item.request_extension(
            clock=clock,
            requested_due=sc.now + timedelta(days=30),
            reason="r",
            now=sc.tick(),
            actor=OPERATOR,
            unit=LEAD,
        )
    assert f"no open clock '{clock}'; open clocks: feedback, resolve" in str(info.value)
    assert list(sc.item.collect_events()) == []


def test_decision_without_request_is_refused() -> None:
    """Deciding an extension nobody asked for is refused."""
    sc = assigned()
    with pytest.raises(InputError, match="no extension of resolve is waiting"):
        perform(sc, "extend-decision")


def test_urges_count() -> None:
    """Each urge counts, and the item stays where it is."""
    sc = drive_to(State.DEPLOYED)
    perform(sc, "urge")
    perform(sc, "urge")
    assert sc.state.urges == 2
    assert sc.state.state == State.DEPLOYED


def test_close_out_waits_for_sub_assigned_children() -> None:
    """Close-out is refused while a part is open, allowed once every part is resolved."""
    sc = assigned()
    perform(sc, "sub-assign", choice=0)
    perform(sc, "sub-assign", choice=0)
    for action in ("deploy", "feedback", "resolve"):
        perform(sc, action)
    sc.flush()
    with pytest.raises(InputError, match=f"parts still open: {NUMBER}-1, {NUMBER}-2"):
        perform(sc, "close-out")
    assert list(sc.item.collect_events()) == []
    resolve_child(sc, f"{NUMBER}-1")
    assert isinstance(sc.flush()[-1], ev.ChildUpdated)
    with pytest.raises(InputError, match=f"parts still open: {NUMBER}-2$"):
        perform(sc, "close-out")
    child = sc.children[f"{NUMBER}-2"]
    child.cancel(
        reason="not needed",
        approved_by="leader-1",
        now=sc.tick(),
        actor="x",
        unit=child.state.raising_unit,
    )
    sc.item.child_updated(child.state, sc.now)
    assert sc.state.child_counts() == {"resolved": 1, "cancelled": 1}
    perform(sc, "close-out")
    assert sc.state.state == State.CLOSED


def test_child_update_without_change_emits_nothing() -> None:
    """Rolling up a child whose state did not change records no event."""
    sc = assigned()
    perform(sc, "sub-assign")
    sc.flush()
    child = next(iter(sc.children.values()))
    sc.item.child_updated(child.state, sc.tick())
    assert list(sc.item.collect_events()) == []


@pytest.mark.parametrize(("reason", "approved_by"), [("", "leader-1"), ("merged", " ")])
def test_cancel_needs_reason_and_approver(reason: str, approved_by: str) -> None:
    """Cancelling without a reason or without an approver is refused."""
    sc = assigned()
    with pytest.raises(InputError, match="missing"):
        sc.item.cancel(
            reason=reason,
            approved_by=approved_by,
            now=sc.tick(),
            actor=SUPERVISOR,
            unit=sc.state.raising_unit,
        )
    assert sc.state.state == State.ASSIGNED


def test_cancel_records_reason_and_finish() -> None:
    """A cancelled item keeps its reason and when it finished."""
    sc = drive_to(State.CANCELLED)
    assert sc.state.cancel_reason == "merged into another item"
    assert sc.now == sc.state.finished_at


@pytest.mark.parametrize(
    ("title", "co_units", "problem"),
    [
        (" ", (CO,), "needs a title"),
        ("t", (CO, CO), "listed twice"),
        ("t", (LEAD,), "also listed as a co-unit"),
    ],
)
def test_register_refuses_bad_input(title: str, co_units: tuple[str, ...], problem: str) -> None:
    """Registration refuses an empty title, duplicate co-units and the lead as a co-unit."""
    with pytest.raises(InputError, match=problem):
        register(title=title, co_units=co_units)
