"""The store contract: the same test bodies, run on the SQLite and the PostgreSQL store."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import pytest

from ledger13710.application.ledger import LedgerApp
from ledger13710.application.node import Node
from ledger13710.domain import events as ev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.errors import (
    ConflictError,
    InputError,
    InvalidTransitionError,
    NotFoundError,
    RoleError,
)
from ledger13710.domain.item import item_id
from ledger13710.domain.snapshot import ItemSnapshot
from ledger13710.domain.state import ItemState, State, evolve
from ledger13710.domain.types import SHANGHAI

Reopen = Callable[[Node], Node]

SUP = "sx-general-office-sup1"  # supervisor of the provincial general office (raising side)
LEAD = "sx-transport-head"
LEAD_OP = "sx-transport-op1"
CO = "sx-public-security-head"


def register(app: LedgerApp, **changes: Any) -> ItemState:
    """Register a general item raised by ``sx``, led by transport with public security."""
    fields: dict[str, Any] = {
        "title": "定襄县风电法兰及塔筒产品运输受阻",
        "source": "executive",
        "board": "daily",
        "severity": "general",
        "raising_unit": "sx",
        "lead_unit": "sx/transport",
        "co_units": ["sx/public-security"],
        "actor": SUP,
        "assign": True,
    }
    fields.update(changes)
    return app.register(**fields)


def log_position(app: LedgerApp) -> int:
    """The last notification id of the node's log (0 when empty)."""
    return app.recorder.max_notification_id() or 0


def topics(app: LedgerApp, number: str) -> list[str]:
    """The topics of an item's stored events, oldest first."""
    return [type(e).TOPIC for e in app.item_events(number)]


def at(day: int, hour: int = 10) -> datetime:
    """A time in October 2016, Shanghai."""
    return datetime(2016, 10, day, hour, tzinfo=SHANGHAI)


def test_register_issues_numbers_in_order_and_accepts_explicit_ones(node: Node) -> None:
    """Auto numbers run sx-2016-0001, -0002; an explicit number is kept as given."""
    app = node.app
    first = register(app)
    second = register(app, assign=False)
    explicit = register(app, number="sx-2016-jz-7")
    expected = ["sx-2016-0001", "sx-2016-0002", "sx-2016-jz-7"]
    assert expected == [first.number, second.number, explicit.number]
    states = [State.ASSIGNED, State.REGISTERED, State.ASSIGNED]
    assert states == [first.state, second.state, explicit.state]
    assert item_id("sx-2016-0001") == first.id
    assert expected == [i.number for i in app.items()]


def test_full_lifecycle_is_identical_after_reopening(
    node: Node, clock: ManualClock, reopen: Reopen
) -> None:
    """Every lifecycle command works, and a fresh open of the same store sees the same item."""
    app = node.app
    number = register(app).number
    app.urge(number, actor=SUP, message="今日内研究部署")
    app.deploy(number, actor=CO, note="公安厅同步部署")
    clock.set(at(21))
    app.feedback(number, actor=LEAD_OP, content="已现场查看收费站")
    app.progress(number, actor=CO, content="交警疏导方案已定")
    app.request_extension(number, actor=LEAD, clock="resolve", until=at(31), reason="施工期")
    app.decide_extension(number, actor=SUP, clock="resolve", approve=True)
    app.request_extension(number, actor=LEAD, clock="resolve", until=at(31, 23), reason="再延")
    app.decide_extension(number, actor=SUP, clock="resolve", approve=False, reason="不予延期")
    app.resolve(number, actor=LEAD, content="车道已拓宽")
    app.return_for_rework(number, actor=SUP, reason="缺验收材料")
    clock.set(at(22))
    app.plan(
        number,
        actor=LEAD,
        reason="需协调高速集团",
        milestones=[("设计", at(25)), ("施工", at(28))],
        target_at=at(30),
    )
    app.progress(number, actor=LEAD_OP, content="设计完成", milestone=1)
    app.progress(number, actor=LEAD_OP, content="施工完成", milestone=2)
    app.resolve(number, actor=LEAD, content="两条车道拓宽完成")
    final = app.close_out(number, actor=SUP, verdict="问题已解决，同意销号")
    cancelled = app.cancel(
        register(app).number, actor=SUP, reason="重复立项", approved_by="sx-head"
    )

    states = [State.CLOSED, State.CANCELLED]
    assert states == [final.state, cancelled.state]
    expected_met = {"deploy", "feedback", "resolve", "milestone-1", "milestone-2", "plan-target"}
    assert expected_met == set(final.met)
    counts = (1, 2, 1, 1)  # returns, extensions requested and granted, urges
    assert counts == (
        final.returns,
        final.extensions_requested,
        final.extensions_granted,
        final.urges,
    )
    due = {"resolve": at(31), "milestone-1": at(25), "milestone-2": at(28), "plan-target": at(30)}
    assert due == {c: final.deadlines[c].due_at for c in due}
    again = reopen(node).app
    for n in (number, cancelled.number):
        assert msgspec.to_builtins(app.item(n)) == msgspec.to_builtins(again.item(n))
        assert app.item_events(n) == again.item_events(n)


def test_duplicate_explicit_number_conflicts_and_writes_nothing(node: Node) -> None:
    """Registering an explicit number twice raises ConflictError and leaves the log alone."""
    app = node.app
    register(app, number="sx-2016-dup")
    before = log_position(app)
    with pytest.raises(ConflictError, match="sx-2016-dup"):
        register(app, number="sx-2016-dup", title="另一个事项")
    assert before == log_position(app)
    first_title = "定襄县风电法兰及塔筒产品运输受阻"
    assert first_title == app.item("sx-2016-dup").title


def test_refused_command_writes_nothing(node: Node) -> None:
    """Deploying a registered-but-unassigned item is refused and the log does not move."""
    app = node.app
    number = register(app, assign=False).number
    before = log_position(app)
    with pytest.raises(InvalidTransitionError, match="'deploy' is not allowed"):
        app.deploy(number, actor=LEAD)
    with pytest.raises(RoleError, match="'assign' is for a head or supervisor of sx"):
        app.assign(number, actor=LEAD)
    assert before == log_position(app)
    unchanged = (State.REGISTERED, 1)
    assert unchanged == (app.item(number).state, app.item(number).version)


def test_notification_log_is_the_single_ordered_record(node: Node) -> None:
    """Positions run 1..n without gaps and hold every event of every item and counter."""
    app = node.app
    numbers = [register(app).number for _ in range(3)]
    app.deploy(numbers[0], actor=LEAD)
    app.urge(numbers[1], actor=SUP, message="请加快")
    app.sub_assign(numbers[0], to_unit="sx/highway-group", part="收费站车道", actor=LEAD)
    log = app.recorder.select_notifications(start=1, limit=1000)
    expected_ids = list(range(1, len(log) + 1))
    assert expected_ids == [n.id for n in log]
    assert log[-1].id == log_position(app)
    stored = {(n.originator_id, n.originator_version) for n in log}
    every_event = {
        (e.originator_id, e.originator_version)
        for number in [*numbers, f"{numbers[0]}-1"]
        for e in app.item_events(number)
    }
    counter = {(e.originator_id, e.originator_version) for e in app.events.get(_counter_id())}
    assert every_event | counter == stored
    assert len(every_event) + len(counter) == len(log)


def _counter_id() -> Any:
    from ledger13710.domain.numbering import Numbering  # noqa: PLC0415 - only used here

    return Numbering.id_for("sx", 2016)


def test_snapshots_every_20_events_and_snapshot_load_equals_full_replay(
    node: Node, reopen: Reopen
) -> None:
    """A 42-event item has snapshots at versions 20 and 40; loading from them equals replay."""
    app = node.app
    number = register(app).number
    app.deploy(number, actor=LEAD)
    app.feedback(number, actor=LEAD, content="已反馈")
    for i in range(38):
        app.progress(number, actor=LEAD_OP, content=f"第{i + 1}次进展")
    iid = item_id(number)
    snapshots = list(app.snapshots.get(iid)) if app.snapshots is not None else []
    versions = [20, 40]
    assert versions == [s.originator_version for s in snapshots]
    assert all(isinstance(s, ItemSnapshot) for s in snapshots)
    replayed: ItemState | None = None
    for e in app.events.get(iid):
        assert isinstance(e, ev.ItemEvent)
        replayed = evolve(replayed, e)
    fresh = reopen(node).app  # an empty aggregate cache: this load starts from snapshot 40
    loaded = fresh.item(number)
    assert replayed is not None
    total = 42
    assert total == loaded.version
    assert msgspec.to_builtins(replayed) == msgspec.to_builtins(loaded)


def test_two_writers_on_the_same_version_conflict(
    node: Node, reopen: Reopen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two apps on one store load the same version; the second to act gets ConflictError."""
    first = node.app
    second = reopen(node).app
    number = register(first).number
    loaded_first = first.load(number)
    loaded_second = second.load(number)
    assert loaded_first.version == loaded_second.version
    monkeypatch.setattr(first, "load", lambda n: loaded_first)
    monkeypatch.setattr(second, "load", lambda n: loaded_second)
    first.deploy(number, actor=LEAD, note="交通运输厅部署")
    before = log_position(first)
    with pytest.raises(ConflictError, match=f"item {number} was changed by someone else"):
        second.deploy(number, actor=CO, note="公安厅部署")
    assert before == log_position(second)
    monkeypatch.undo()
    retried = second.urge(number, actor=SUP, message="重新加载后催办")
    winner = ["交通运输厅部署"]
    assert winner == [e.note for e in second.item_events(number) if isinstance(e, ev.Deployed)]
    after_retry = (State.DEPLOYED, 4)
    assert after_retry == (retried.state, retried.version)


@pytest.mark.parametrize(
    ("action", "bad", "error"),
    [
        ("lead", "sx/no-such-dept", NotFoundError),
        ("co", "sx.nowhere", NotFoundError),
        ("raising", "sx/bad_id", NotFoundError),
        ("actor", "sx-nobody", NotFoundError),
        ("board", "no-board", InputError),
        ("source", "hearsay", InputError),
        ("severity", "tiny", InputError),
        ("item", "sx-2016-9999", NotFoundError),
        ("to_unit", "sx/no-such-dept", NotFoundError),
        ("approved_by", "sx-nobody", NotFoundError),
    ],
)
def test_unknown_ids_are_refused_naming_the_bad_value(
    node: Node, action: str, bad: str, error: type[Exception]
) -> None:
    """An unknown unit, contact, board, source, severity or item is named in the error."""
    app = node.app
    number = register(app).number
    before = log_position(app)
    register_field = {
        "lead": "lead_unit",
        "co": "co_units",
        "raising": "raising_unit",
        "actor": "actor",
        "board": "board",
        "source": "source",
        "severity": "severity",
    }
    attempt: Callable[[], object]
    if action in register_field:
        value: Any = [bad] if action == "co" else bad
        attempt = lambda: register(app, **{register_field[action]: value})  # noqa: E731
    elif action == "item":
        attempt = lambda: app.deploy(bad, actor=LEAD)  # noqa: E731
    elif action == "to_unit":
        attempt = lambda: app.sub_assign(number, to_unit=bad, part="一部分", actor=LEAD)  # noqa: E731
    else:
        attempt = lambda: app.cancel(number, actor=SUP, reason="撤销", approved_by=bad)  # noqa: E731
    with pytest.raises(error, match=re.escape(repr(bad))):
        attempt()
    assert before == log_position(app)


def test_local_sub_assignment_creates_the_child_and_rolls_up(node: Node) -> None:
    """A part for a unit this node hosts becomes a local child item whose changes roll up."""
    app = node.app
    parent_number = register(app, severity="major").number
    before = log_position(app)
    child = app.sub_assign(parent_number, to_unit="sx/highway-group", part="拓宽车道", actor=LEAD)
    written = 3  # SubAssigned + the child's Registered and Assigned, in one save
    assert written == log_position(app) - before
    facts = (f"{parent_number}-1", State.ASSIGNED, parent_number, "sx/transport", "拓宽车道")
    assert facts == (
        child.number,
        child.state,
        child.parent_number,
        child.raising_unit,
        child.detail,
    )
    lead = "sx/highway-group"
    assert lead == child.lead_unit
    ref = app.item(parent_number).children[child.id.hex]
    known = (child.number, "sx", "assigned")
    assert known == (ref.number, ref.host_node, ref.state)

    app.deploy(child.number, actor="sx-highway-group-head")
    app.feedback(child.number, actor="sx-highway-group-op1", content="已施工")
    app.resolve(child.number, actor="sx-highway-group-head", content="车道已拓宽")
    parent = app.item(parent_number)
    rollups = [e for e in app.item_events(parent_number) if isinstance(e, ev.ChildUpdated)]
    expected = ["deployed", "in_progress", "resolved"]
    assert expected == [e.child_state for e in rollups]
    counts = {"resolved": 1}
    assert counts == parent.child_counts()


def test_remote_sub_assignment_records_only_sub_assigned(node: Node) -> None:
    """A part for a city with its own node is recorded on the parent only."""
    app = node.app
    parent_number = register(app, lead_unit="sx", co_units=[]).number
    before = log_position(app)
    result = app.sub_assign(parent_number, to_unit="sx.xinzhou", part="定襄县协调", actor="sx-head")
    assert before + 1 == log_position(app)
    (last,) = app.recorder.select_notifications(start=before + 1, limit=10)
    topic = ev.SubAssigned.TOPIC
    assert topic == last.topic
    ref = result.children[item_id(f"{parent_number}-1").hex]
    city = ("sx.xinzhou", "sx.xinzhou")
    assert city == (ref.unit, ref.host_node)
    with pytest.raises(NotFoundError, match=f"{parent_number}-1"):
        app.item(f"{parent_number}-1")


def test_auto_numbers_skip_numbers_taken_explicitly(node: Node) -> None:
    """A number taken by an explicit --number (or an import) is skipped by the node's counter."""
    app = node.app
    taken = register(app, number="sx-2016-0002")
    first = register(app)
    second = register(app)
    expected = ["sx-2016-0002", "sx-2016-0001", "sx-2016-0003"]
    assert expected == [taken.number, first.number, second.number]
