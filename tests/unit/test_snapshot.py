"""Replay: events folded with ``evolve`` (with or without a snapshot) give the live state;
events round-trip through JSON; the numbering counter projects back to its version."""

from __future__ import annotations

import re
from datetime import timedelta

import msgspec
import pytest
from domain_helpers import (
    NUMBER,
    T0,
    Scenario,
    as_builtins,
    assigned,
    erase_photo,
    feasible,
    perform,
    replay,
    resolve_child,
    step,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger13710.domain import events as ev
from ledger13710.domain.numbering import Numbering, NumberIssued, project_numbering
from ledger13710.domain.snapshot import ItemSnapshot, copy_state, project_item
from ledger13710.domain.state import evolve

#: One walk through every kind of event: plan, extensions, sub-assignment, returns, feedback
#: accepted, close-out.
WALK: tuple[tuple[str, int], ...] = (
    ("sub-assign", 0),
    ("review-part", 0),
    ("extend", 2),
    ("extend-decision", 0),
    ("deploy", 0),
    ("urge", 0),
    ("feedback", 0),
    ("return", 0),
    ("feedback", 0),
    ("accept-feedback", 0),
    ("plan", 1),
    ("progress", 1),
    ("extend", 0),
    ("extend-decision", 1),  # a denial
    ("resolve", 0),
    ("return", 0),
    ("resolve", 0),
)


def full_walk() -> Scenario:
    """An item taken through every lifecycle event type, ending closed out, its photo erased."""
    sc = assigned()
    for action, choice in WALK:
        perform(sc, action, choice=choice)
    resolve_child(sc, f"{NUMBER}-1")
    perform(sc, "close-out")
    erase_photo(sc)
    sc.flush()
    return sc


def test_full_walk_covers_every_lifecycle_event() -> None:
    """The reference walk emits every lifecycle event type at least once."""
    sc = full_walk()
    expected = set(ev.LIFECYCLE_EVENTS) - {ev.Cancelled}
    assert expected == {type(e) for e in sc.history}


def test_replay_from_nothing_equals_live_state() -> None:
    """Folding the emitted events with evolve from None rebuilds exactly the live state."""
    sc = full_walk()
    expected = as_builtins(sc.state)
    assert expected == as_builtins(replay(sc.history))
    assert expected == as_builtins(sc.replayed())


@pytest.mark.parametrize("cut", [1, 2, 7, 12, -1])
def test_replay_from_a_snapshot_equals_live_state(cut: int) -> None:
    """A snapshot taken midway plus the later events gives the same state as full replay."""
    sc = full_walk()
    head, tail = sc.history[:cut], sc.history[cut:]
    snapshot = ItemSnapshot.take(project_item(None, head) or pytest.fail("no item"))
    assert head[-1].originator_version == snapshot.originator_version
    projected = project_item(None, [snapshot, *tail])
    assert projected is not None
    assert as_builtins(sc.state) == as_builtins(projected.state)


def test_snapshot_is_independent_of_live_state() -> None:
    """Changing the item after a snapshot leaves the snapshot's state untouched."""
    sc = assigned()
    snapshot = ItemSnapshot.take(sc.item)
    frozen = as_builtins(snapshot.state)
    perform(sc, "extend")
    perform(sc, "deploy")
    assert frozen == as_builtins(snapshot.state)
    assert frozen != as_builtins(sc.state)


def test_project_item_continues_an_existing_item() -> None:
    """Projecting later events onto a loaded item extends that same item in place."""
    sc = full_walk()
    loaded = project_item(None, sc.history[:5])
    assert loaded is not None
    continued = project_item(loaded, sc.history[5:])
    assert continued is loaded
    assert as_builtins(sc.state) == as_builtins(loaded.state)
    assert project_item(None, []) is None


def test_evolve_refuses_gaps_and_double_registration() -> None:
    """Replay refuses an event out of sequence, one before registration, and a second Registered."""
    sc = full_walk()
    with pytest.raises(ValueError, match="does not follow"):
        replay([sc.history[0], sc.history[2]])
    with pytest.raises(ValueError, match="before its registration"):
        evolve(None, sc.history[1])
    with pytest.raises(ValueError, match="registered twice"):
        replay([sc.history[0], sc.history[0]])


@settings(max_examples=60, deadline=None)
@given(walk=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), max_size=30))
def test_random_walks_replay_to_the_live_state(walk: list[tuple[int, int]]) -> None:
    """Any sequence of valid commands replays (fully, or from a midway snapshot) to live state."""
    sc = assigned()
    snapshot: ItemSnapshot | None = None
    snapshot_at = 0
    for i, (pick, choice) in enumerate(walk):
        actions = feasible(sc)
        if not actions:
            break
        going_on = [a for a in actions if a != "cancel"]  # cancel only on pick 0: longer walks
        action = "cancel" if pick == 0 and "cancel" in actions else None
        step(sc, action or (going_on or actions)[pick % len(going_on or actions)], choice)
        sc.flush()
        if i == len(walk) // 2:
            snapshot, snapshot_at = ItemSnapshot.take(sc.item), len(sc.history)
    live = as_builtins(sc.state)
    assert live == as_builtins(replay(sc.history))
    if snapshot is not None:
        projected = project_item(None, [snapshot, *sc.history[snapshot_at:]])
        assert projected is not None
        assert live == as_builtins(projected.state)


# -- events ----------------------------------------------------------------------------------

TOPIC = re.compile(r"ledger13710\.(?P<kind>[a-z]+)\.(?P<name>[A-Z][A-Za-z]+)\.v(?P<v>[1-9]\d*)")


def test_every_event_type_has_a_unique_well_formed_topic() -> None:
    """Each registered type's topic reads ledger13710.<kind>.<Name>.v<N> and is its own."""
    kinds: set[str] = set()
    for topic, cls in ev.EVENT_TYPES.items():
        match = TOPIC.fullmatch(topic)
        assert match is not None, topic
        assert topic == getattr(cls, "TOPIC", None)
        kinds.add(match.group("kind"))
    topics = [getattr(cls, "TOPIC", "") for cls in ev.EVENT_TYPES.values()]
    assert len(set(topics)) == len(topics)
    assert {"item", "numbering"} <= kinds  # reminders and audit add kinds of their own
    assert {NumberIssued, ItemSnapshot} < set(ev.EVENT_TYPES.values())


def sample_events() -> list[msgspec.Struct]:
    """One or more instances of every class in EVENT_TYPES."""
    sc = full_walk()
    cancelled = assigned()
    perform(cancelled, "cancel")
    counter = Numbering("sx", 2016)
    counter.issue(T0, "op", "sx/general-office")
    return [
        *sc.history,
        *cancelled.flush(),
        *counter.collect_events(),
        ItemSnapshot.take(sc.item),
    ]


def test_every_event_round_trips_through_json() -> None:
    """Every item and numbering event type round-trips through JSON by its topic's class."""
    samples = sample_events()
    kinds = ("item", "numbering")  # other kinds have round-trip tests of their own
    expected = {cls for t, cls in ev.EVENT_TYPES.items() if t.split(".")[1] in kinds}
    assert expected == {type(e) for e in samples}
    for original in samples:
        cls = ev.EVENT_TYPES[getattr(original, "TOPIC", "")]
        decoded = msgspec.json.decode(msgspec.json.encode(original), type=cls)
        assert original == decoded
        assert msgspec.to_builtins(original) == msgspec.to_builtins(decoded)


def test_copy_state_is_equal_and_independent() -> None:
    """copy_state gives an equal state that shares nothing mutable with the original."""
    sc = full_walk()
    copy = copy_state(sc.state)
    assert as_builtins(sc.state) == as_builtins(copy)
    copy.met.clear()
    next(iter(copy.children.values())).state = "cancelled"
    assert as_builtins(sc.state) != as_builtins(copy)
    assert as_builtins(sc.state) == as_builtins(replay(sc.history))


# -- numbering -------------------------------------------------------------------------------


def test_numbering_issues_consecutive_numbers() -> None:
    """A node's counter issues sx-2016-0001, -0002, ... with matching versions."""
    counter = Numbering("sx", 2016)
    numbers = [counter.issue(T0 + timedelta(minutes=i), "op", "sx") for i in range(3)]
    expected = ["sx-2016-0001", "sx-2016-0002", "sx-2016-0003"]
    assert expected == numbers
    issued = counter.collect_events()
    assert expected == [e.number for e in issued]
    assert [e.originator_version for e in issued] == [1, 2, 3]
    assert all(e.originator_id == Numbering.id_for("sx", 2016) for e in issued)
    assert counter.collect_events() == []


def test_project_numbering_restores_the_counter() -> None:
    """Projecting the issued events restores prefix, year and version; the next number follows."""
    counter = Numbering("sx.xinzhou.dingxiang", 2017)
    for _ in range(12):
        counter.issue(T0, "op", "sx.xinzhou.dingxiang")
    events: list[NumberIssued] = list(counter.collect_events())
    restored = project_numbering(None, events)
    assert restored is not None
    assert (restored.prefix, restored.year, restored.version) == ("sx.xinzhou.dingxiang", 2017, 12)
    assert restored.issue(T0, "op", "x") == "sx.xinzhou.dingxiang-2017-0013"
    assert project_numbering(None, []) is None
