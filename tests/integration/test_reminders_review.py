"""The raising side's review clock is reminded like the others (policy 13710-v2): its
supervisors get the reminder before the review is due and the overdue notice after; a decision
stops both."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

import pytest

from ledger13710.application.node import Node
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.reminders.engine import ReminderEngine

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"
SUPERVISORS = ["sx-general-office-sup1", "sx-general-office-sup2", "sx-general-office-sup3"]


def at(text: str) -> datetime:
    """A Shanghai instant from ``YYYY-MM-DDTHH:MM[:SS]``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def node(make_node: MakeNode) -> Node:
    """A province node on policy 13710-v2, at 2016-10-20 09:00."""
    return make_node("sqlite", policy="builtin:13710-v2")


@pytest.fixture
def engine(node: Node, clock: ManualClock) -> Iterator[ReminderEngine]:
    """The node's engine on the outbox gateway."""
    made = engine_for(node, clock)
    yield made
    close_engine(made)


def review_sent(node: Node) -> list[rev.ReminderSent]:
    """Every ReminderSent of a review clock in the node's log."""
    app = node.app
    found: list[rev.ReminderSent] = []
    for n in app.recorder.select_notifications(start=1, limit=100_000):
        e = app.mapper.to_domain_event(n)
        if isinstance(e, rev.ReminderSent) and e.clock.startswith("review-"):
            found.append(e)
    return found


def step(engine: ReminderEngine, clock: ManualClock, when: str) -> None:
    """Move the clock to ``when`` and tick once."""
    clock.set(at(when))
    engine.tick()


def feedback_given(node: Node, clock: ManualClock) -> str:
    """An item of transport raised by the general office, feedback given 10-21 10:00."""
    number = node.app.register(
        title="拓宽定襄北收费站车道", source="executive", board="daily", severity="general",
        raising_unit="sx/general-office", lead_unit="sx/transport", actor=SUP, assign=True,
    ).number  # fmt: skip
    clock.set(at("2016-10-20T10:00"))
    node.app.deploy(number, actor=HEAD)
    clock.set(at("2016-10-21T10:00"))
    node.app.feedback(number, actor=HEAD, content="已调研")
    return number


def test_the_supervisors_are_reminded_of_their_review(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Review due 10-24 23:59:59: at 18:59:59 the general office's supervisors (not the lead
    unit) are reminded; after the due time they get the overdue notice."""
    feedback_given(node, clock)
    step(engine, clock, "2016-10-24T18:59:58")
    assert review_sent(node) == []
    step(engine, clock, "2016-10-24T18:59:59")
    before = review_sent(node)
    assert [(e.contact, e.kind, e.clock) for e in before] == [
        (c, "before-due", "review-feedback") for c in SUPERVISORS
    ]
    assert {e.due_at for e in before} == {at("2016-10-24T23:59:59")}
    step(engine, clock, "2016-10-25T00:00:00")
    overdue = review_sent(node)[len(before) :]
    assert [(e.contact, e.kind) for e in overdue] == [(c, "overdue") for c in SUPERVISORS]


def test_accepting_the_feedback_stops_the_review_reminders(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Accepted on 10-22: no review reminder or overdue notice follows."""
    number = feedback_given(node, clock)
    step(engine, clock, "2016-10-22T09:00")
    clock.set(at("2016-10-22T10:00"))
    node.app.accept_feedback(number, actor=SUP)
    for when in ("2016-10-24T19:00", "2016-10-25T01:00", "2016-10-26T01:00"):
        step(engine, clock, when)
    assert review_sent(node) == []
    assert [r for r in engine.index.rows() if r.clock.startswith("review-")] == []


def test_an_extension_request_is_reminded_until_decided(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """A request on 10-22 puts the decision on the supervisors' clock (due 10-25); deciding
    on 10-23 removes it."""
    number = feedback_given(node, clock)
    clock.set(at("2016-10-22T10:00"))
    node.app.request_extension(
        number, actor=HEAD, clock="resolve", until=at("2016-11-10T23:00"), reason="施工"
    )
    step(engine, clock, "2016-10-22T11:00")
    waiting = [r.clock for r in engine.index.rows() if r.clock.startswith("review-")]
    assert sorted(set(waiting)) == ["review-extension-resolve", "review-feedback"]
    clock.set(at("2016-10-23T10:00"))
    node.app.decide_extension(number, actor=SUP, clock="resolve", approve=False, reason="不必")
    step(engine, clock, "2016-10-23T11:00")
    waiting = [r.clock for r in engine.index.rows() if r.clock.startswith("review-")]
    assert sorted(set(waiting)) == ["review-feedback"]
