"""Traffic lights of the ledger: green, yellow inside the reminder window, red, done."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from domain_helpers import LEAD, OPERATOR, T0, assigned, drive_to, perform

from ledger13710.domain.errors import InputError
from ledger13710.domain.lights import (
    Light,
    behind_plan,
    clock_light,
    item_light,
    met_late,
    overdue_clocks,
)
from ledger13710.domain.state import PLAN_TARGET, State
from ledger13710.domain.types import SHANGHAI, Clock, Deadline, milestone_clock

DUE = datetime(2016, 10, 13, 23, 59, 59, tzinfo=SHANGHAI)
FIVE_HOURS = 5 * 3600
FEEDBACK = Deadline(
    clock=Clock.FEEDBACK.value,
    started_at=T0,
    due_at=DUE,
    remind_before_s=FIVE_HOURS,
    policy_version="13710-v1",
    calendar_version="test",
    day_basis="calendar",
)
S = timedelta(seconds=1)
WINDOW = timedelta(seconds=FIVE_HOURS)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T0, Light.GREEN),
        (DUE - WINDOW - S, Light.GREEN),
        (DUE - WINDOW, Light.YELLOW),
        (DUE - S, Light.YELLOW),
        (DUE, Light.YELLOW),
        (DUE + S, Light.RED),
        (DUE + timedelta(days=30), Light.RED),
    ],
    ids=["start", "just-before-window", "window-opens", "last-second", "due", "overdue", "late"],
)
def test_open_clock_light(now: datetime, expected: Light) -> None:
    """Green before the reminder window, yellow inside it (due included), red after due."""
    assert expected == clock_light(FEEDBACK, None, now)


@pytest.mark.parametrize("met_at", [DUE - timedelta(days=1), DUE + timedelta(days=1)])
def test_met_clock_never_turns_red(met_at: datetime) -> None:
    """A met clock stays green, even long after its due time and even when met late."""
    expected = Light.GREEN
    assert expected == clock_light(FEEDBACK, met_at, DUE + timedelta(days=60))


def test_met_late() -> None:
    """``met_late`` is true only for a clock met after its due time."""
    assert not met_late(FEEDBACK, None)
    assert not met_late(FEEDBACK, DUE)
    assert not met_late(FEEDBACK, DUE - S)
    assert met_late(FEEDBACK, DUE + S)


def test_item_light_follows_the_worst_open_clock() -> None:
    """An assigned item is green, yellow 5h before the deploy deadline, red after it."""
    sc = assigned()
    deploy_due = sc.state.deadlines[Clock.DEPLOY].due_at
    assert item_light(sc.state, T0) == Light.GREEN
    assert item_light(sc.state, deploy_due - WINDOW) == Light.YELLOW
    assert item_light(sc.state, deploy_due + S) == Light.RED
    assert [Clock.DEPLOY.value] == overdue_clocks(sc.state, deploy_due + S)


def test_met_clock_does_not_make_the_item_red() -> None:
    """Once deployed, the passed deploy deadline no longer counts against the item."""
    sc = drive_to(State.DEPLOYED)
    after_deploy_due = sc.state.deadlines[Clock.DEPLOY].due_at + S
    assert item_light(sc.state, after_deploy_due) == Light.GREEN
    expected: list[str] = []
    assert expected == overdue_clocks(sc.state, after_deploy_due)


def test_late_deploy_is_met_late_but_green() -> None:
    """A deploy a day late is recorded as met late; its clock light is green."""
    sc = assigned()
    due = sc.state.deadlines[Clock.DEPLOY]
    sc.now = due.due_at + timedelta(hours=10)
    perform(sc, "deploy")
    met = sc.state.met[Clock.DEPLOY]
    assert met_late(due, met)
    assert clock_light(due, met, sc.now) == Light.GREEN


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED])
def test_finished_items_are_done(state: State) -> None:
    """Closed and cancelled items are done, however late their clocks."""
    sc = drive_to(state)
    later = sc.now + timedelta(days=365)
    assert item_light(sc.state, later) == Light.DONE
    assert sc.state.open_clocks() == []


def test_resolved_item_has_no_open_clocks() -> None:
    """A resolved item awaits review: no clock runs, nothing is overdue, the light is green."""
    sc = drive_to(State.RESOLVED)
    later = sc.now + timedelta(days=365)
    assert sc.state.open_clocks() == []
    assert overdue_clocks(sc.state, later) == []
    assert item_light(sc.state, later) == Light.GREEN


def test_behind_plan_needs_a_passed_unmet_milestone() -> None:
    """Behind plan: planned state and a milestone past due and unmet; not before, not after met."""
    sc = drive_to(State.IN_PROGRESS)
    perform(sc, "plan", choice=1)  # two milestones, 2 and 4 days ahead
    first = sc.state.deadlines[milestone_clock(1)].due_at
    assert not behind_plan(sc.state, first)
    assert behind_plan(sc.state, first + S)
    sc.item.progress(content="step 1", now=sc.tick(), actor=OPERATOR, unit=LEAD, milestone=1)
    assert not behind_plan(sc.state, first + S)
    second = sc.state.deadlines[milestone_clock(2)].due_at
    assert behind_plan(sc.state, second + S)


def test_behind_plan_only_in_planned_state() -> None:
    """A resolved item with a missed milestone is not behind plan; nor is one without a plan."""
    sc = drive_to(State.PLANNED)
    late = sc.state.deadlines[milestone_clock(1)].due_at + timedelta(days=1)
    assert behind_plan(sc.state, late)
    perform(sc, "resolve")
    assert not behind_plan(sc.state, late)
    plain = drive_to(State.IN_PROGRESS)
    assert not behind_plan(plain.state, plain.now + timedelta(days=365))


def test_revised_plan_with_fewer_milestones_drops_the_old_ones() -> None:
    """A revised plan replaces the old one: milestones it no longer has stop being tracked."""
    sc = drive_to(State.IN_PROGRESS)
    perform(sc, "plan", choice=2)  # milestones 1..3
    perform(sc, "plan", choice=0)  # revised: milestone 1 only
    perform(sc, "progress", choice=1)  # milestone 1 met
    with pytest.raises(InputError, match="there is no milestone 3"):
        sc.item.progress(content="x", now=sc.tick(), actor=OPERATOR, unit=LEAD, milestone=3)
    open_ = {d.clock for d in sc.state.open_clocks()}
    assert {PLAN_TARGET} == open_  # the plan's target supersedes the resolve clock
    assert not behind_plan(sc.state, sc.now + timedelta(days=6))
