"""Replay: the raw notification log alone rebuilds every item exactly as the app reports it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import msgspec

from ledger13710.application.ledger import LedgerApp
from ledger13710.application.mapper import decode_event
from ledger13710.application.node import Node
from ledger13710.domain import events as ev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.numbering import NumberIssued
from ledger13710.domain.state import ItemState, evolve

SUP = "sx-general-office-sup1"
LEAD = "sx-transport-head"
OP = "sx-transport-op1"
CO = "sx-public-security-head"
HWY = "sx-highway-group-head"

Step = Callable[[LedgerApp, str, ManualClock], None]


def _open(app: LedgerApp, n: str, clock: ManualClock) -> None:
    app.urge(n, actor=SUP, message="请尽快部署")
    clock.advance(timedelta(hours=2))
    app.deploy(n, actor=CO, note="协办先行部署")


def _feedback(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _open(app, n, clock)
    clock.advance(timedelta(days=1))
    app.feedback(n, actor=OP, content="已摸清情况")


def _closed(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _feedback(app, n, clock)
    app.resolve(n, actor=LEAD, content="已解决")
    clock.advance(timedelta(hours=3))
    app.close_out(n, actor=SUP, verdict="同意销号")


def _returned_and_planned(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _feedback(app, n, clock)
    app.return_for_rework(n, actor=SUP, reason="反馈过于笼统")
    app.feedback(n, actor=OP, content="补充反馈")
    now = clock.advance(timedelta(hours=5))
    app.plan(
        n,
        actor=LEAD,
        reason="涉及跨部门协调",
        milestones=[("方案", now + timedelta(days=5)), ("实施", now + timedelta(days=15))],
        target_at=now + timedelta(days=20),
    )
    clock.advance(timedelta(days=4))
    app.progress(n, actor=CO, content="方案已定", milestone=1)
    app.resolve(n, actor=LEAD, content="已解决")
    app.return_for_rework(n, actor=SUP, reason="缺验收")
    app.progress(n, actor=OP, content="实施完毕", milestone=2)
    app.resolve(n, actor=LEAD, content="验收完成")


def _planned(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _feedback(app, n, clock)
    now = clock.now()
    app.plan(
        n,
        actor=LEAD,
        reason="需等待冬季施工窗口",
        milestones=[("招标", now + timedelta(days=10))],
        target_at=now + timedelta(days=40),
    )


def _extended_then_cancelled(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _feedback(app, n, clock)
    resolve_due = app.item(n).deadlines["resolve"].due_at
    app.request_extension(
        n, actor=LEAD, clock="resolve", until=resolve_due + timedelta(days=5), reason="等材料"
    )
    app.decide_extension(n, actor=SUP, clock="resolve", approve=True)
    app.request_extension(
        n, actor=LEAD, clock="resolve", until=resolve_due + timedelta(days=9), reason="再等等"
    )
    app.decide_extension(n, actor=SUP, clock="resolve", approve=False, reason="不再延期")
    app.cancel(n, actor=SUP, reason="并入其他事项", approved_by="sx-head")


def _sub_assigned(app: LedgerApp, n: str, clock: ManualClock) -> None:
    _open(app, n, clock)
    child = app.sub_assign(n, to_unit="sx/highway-group", part="拓宽收费站车道", actor=LEAD)
    app.sub_assign(n, to_unit="sx.xinzhou", part="定襄县配合", actor=LEAD)
    clock.advance(timedelta(hours=1))
    app.deploy(child.number, actor=HWY)
    app.feedback(child.number, actor=HWY, content="进场施工")
    app.resolve(child.number, actor=HWY, content="车道已拓宽")
    app.feedback(n, actor=LEAD, content="分解落实中")
    app.progress(n, actor=OP, content="子项已解决")


def _untouched(app: LedgerApp, n: str, clock: ManualClock) -> None:
    """Registered and assigned, nothing else."""


SCENARIOS: list[Step] = [
    _untouched,
    _open,
    _feedback,
    _closed,
    _returned_and_planned,
    _planned,
    _extended_then_cancelled,
    _sub_assigned,
]


def run_scenario(app: LedgerApp, clock: ManualClock, items: int = 30) -> list[str]:
    """Register ``items`` items with varied histories; return every item number made."""
    numbers: list[str] = []
    for i in range(items):
        clock.advance(timedelta(minutes=37))
        state = app.register(
            title=f"事项{i + 1}",
            source=["executive", "key_work", "leader_instruction"][i % 3],
            board=["daily", "key-work", "key-project"][i % 3],
            severity=["general", "major", "complex"][i % 3],
            raising_unit="sx",
            lead_unit="sx/transport",
            co_units=["sx/public-security"],
            actor=SUP,
            number=f"sx-2016-x{i:02d}" if i % 10 == 9 else None,
            assign=i % 9 != 8,
        )
        numbers.append(state.number)
        if i % 9 == 8:
            continue  # registered, never assigned
        SCENARIOS[i % len(SCENARIOS)](app, state.number, clock)
    for n in list(numbers):
        numbers += [c.number for c in app.item(n).children.values() if c.host_node == "sx"]
    return numbers


def rebuild_from_log(app: LedgerApp) -> tuple[dict[UUID, ItemState], set[str]]:
    """Fold every item event of the notification log; also return the other topics seen."""
    states: dict[UUID, ItemState] = {}
    others: set[str] = set()
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=100)
        for record in batch:
            event = decode_event(record.topic, record.state)
            if not record.topic.startswith("ledger13710.item."):
                others.add(record.topic)
                continue
            assert isinstance(event, ev.ItemEvent)
            iid = UUID(str(record.originator_id))
            states[iid] = evolve(states.get(iid), event)
        if len(batch) < 100:
            return states, others
        start = batch[-1].id + 1


def test_the_log_alone_rebuilds_every_item(node: Node, clock: ManualClock) -> None:
    """Decoding and folding the raw log gives each item's state exactly as the app has it."""
    app = node.app
    numbers = run_scenario(app, clock)
    rebuilt, others = rebuild_from_log(app)

    expected_others = {NumberIssued.TOPIC}
    assert expected_others == others
    assert set(app.item_ids()) == set(rebuilt)
    assert len(numbers) == len(rebuilt)
    states = {app.item(n).state.value for n in numbers}
    expected_states = {
        "registered",
        "assigned",
        "deployed",
        "in_progress",
        "planned",
        "resolved",
        "closed",
        "cancelled",
    }
    assert expected_states == states
    for number in numbers:
        current = app.item(number)
        assert msgspec.to_builtins(current) == msgspec.to_builtins(rebuilt[current.id])
