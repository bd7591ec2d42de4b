"""The reminder engine on a real node (SQLite store) with a manual clock and the outbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from ledger13710.application.node import Node
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.item import item_id
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.reminders.engine import ReminderEngine
from ledger13710.reminders.gateways.base import Accepted, Gateway, Receipt, Sms

MakeNode = Callable[..., Node]
SUP = "sx-general-office-sup1"
LEAD_HEAD, LEAD_OP = "sx-transport-head", "sx-transport-op1"
LEAD = [LEAD_HEAD, LEAD_OP]
SUPERVISORS = ["sx-general-office-sup1", "sx-general-office-sup2", "sx-general-office-sup3"]
START = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    """A Shanghai instant from ``YYYY-MM-DDTHH:MM[:SS]``."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def register(node: Node, severity: str = "general", title: str = "拓宽定襄北收费站车道") -> str:
    """Register and assign one item led by the transport department; return its number."""
    item: ItemState = node.app.register(
        title=title, source="executive", board="daily", severity=severity,
        raising_unit="sx", lead_unit="sx/transport", actor=SUP, assign=True,
    )  # fmt: skip
    return item.number


def sent(node: Node, number: str) -> list[rev.ReminderSent]:
    """Every ReminderSent in the node's log for item ``number``, in log order."""
    return [e for e in reminder_events(node) if isinstance(e, rev.ReminderSent)
            and e.number == number]  # fmt: skip


def reminder_events(node: Node) -> list[rev.ReminderEvent]:
    """Every reminder event in the node's log."""
    app = node.app
    found: list[rev.ReminderEvent] = []
    for n in app.recorder.select_notifications(start=1, limit=100_000):
        e = app.mapper.to_domain_event(n)
        if isinstance(e, rev.ReminderEvent):
            found.append(e)
    return found


def step(engine: ReminderEngine, clock: ManualClock, when: datetime) -> None:
    """Move the clock to ``when`` and tick once."""
    clock.set(when)
    engine.tick()


@pytest.fixture
def node(make_node: MakeNode) -> Node:
    """A province node on SQLite at 2016-10-20 09:00."""
    return make_node("sqlite")


@pytest.fixture
def engine(node: Node, clock: ManualClock) -> Iterator[ReminderEngine]:
    """The node's engine on the outbox gateway."""
    made = engine_for(node, clock)
    yield made
    close_engine(made)


@pytest.mark.parametrize(
    ("severity", "clock_name", "remind_at", "due"),
    [
        ("general", "deploy", "2016-10-20T18:59:59", "2016-10-20T23:59:59"),
        ("general", "feedback", "2016-10-23T18:59:59", "2016-10-23T23:59:59"),
        ("general", "resolve", "2016-10-26T23:59:59", "2016-10-27T23:59:59"),
        ("major", "resolve", "2016-11-18T23:59:59", "2016-11-20T23:59:59"),
    ],
)
def test_each_clock_reminds_once_at_due_minus_offset(
    node: Node, engine: ReminderEngine, clock: ManualClock,
    severity: str, clock_name: str, remind_at: str, due: str,
) -> None:  # fmt: skip
    """Each of the four clocks: reminder at exactly due − offset, to head and operators, once."""
    number = register(node, severity)
    before = [e for e in sent(node, number) if e.clock == clock_name]
    step(engine, clock, at(remind_at) - timedelta(seconds=1))
    assert [e for e in sent(node, number) if e.clock == clock_name][len(before) :] == []
    step(engine, clock, at(remind_at))
    step(engine, clock, at(remind_at) + timedelta(minutes=1))
    mine = [e for e in sent(node, number) if e.clock == clock_name and e.kind == "before-due"]
    assert [e.contact for e in mine] == LEAD
    assert {at(remind_at)} == {e.planned_at for e in mine}
    assert {at(due)} == {e.due_at for e in mine}
    assert {False} == {e.late for e in mine}
    assert all(m.message_id.startswith("outbox-") for m in mine)


def test_no_reminder_after_the_milestone_is_met(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Deploying before 18:59:59 cancels the deploy reminder and its overdue notice."""
    number = register(node)
    clock.set(at("2016-10-20T12:00"))
    node.app.deploy(number, actor=LEAD_HEAD, note="已部署")
    step(engine, clock, at("2016-10-21T08:00"))
    assert [e for e in sent(node, number) if e.clock == "deploy"] == []


def test_overdue_notice_goes_to_unit_and_supervisors_and_repeats(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """An unmet deploy clock: notice at due + 1s to the unit and the raiser's supervisors, daily."""
    number = register(node)
    step(engine, clock, at("2016-10-20T18:59:59"))
    step(engine, clock, at("2016-10-21T00:00:00"))
    overdue = [e for e in sent(node, number) if e.kind == "overdue"]
    assert [e.contact for e in overdue] == LEAD + SUPERVISORS
    assert {1} == {e.occurrence for e in overdue}
    step(engine, clock, at("2016-10-21T23:59:59"))
    assert len([e for e in sent(node, number) if e.kind == "overdue"]) == 5
    step(engine, clock, at("2016-10-22T00:00:00"))
    assert {1, 2} == {e.occurrence for e in sent(node, number) if e.kind == "overdue"}


def test_urge_sends_the_supervisors_words(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """催办: an Urged event becomes an SMS with the supervisor's own words, to the unit."""
    number = register(node)
    clock.set(at("2016-10-20T10:00"))
    node.app.urge(number, actor=SUP, message="请今天内完成部署")
    engine.tick()
    urges = [e for e in sent(node, number) if e.kind == "urge"]
    assert [e.contact for e in urges] == LEAD
    (planned,) = [e for e in reminder_events(node)
                  if isinstance(e, rev.ReminderPlanned) and e.kind == "urge"]  # fmt: skip
    assert "请今天内完成部署" in planned.text
    assert planned.urged_by == SUP


def test_plan_milestones_and_extensions_are_reminded(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Plan milestones remind 24h before; an extended deadline reminds at its new time only."""
    number = register(node, "major")
    clock.set(at("2016-10-20T12:00"))
    node.app.deploy(number, actor=LEAD_HEAD, note="已部署")
    node.app.feedback(number, actor=LEAD_OP, content="已反馈")
    node.app.plan(
        number, actor=LEAD_HEAD, reason="跨部门",
        milestones=[("方案", at("2016-10-25T23:59:59"))], target_at=at("2016-11-30T23:59:59"),
    )  # fmt: skip
    step(engine, clock, at("2016-10-24T23:59:59"))
    assert [e.clock for e in sent(node, number)] == ["milestone-1"] * 2
    node.app.request_extension(
        number, actor=LEAD_HEAD, clock="plan-target", until=at("2016-12-10T12:00"), reason="雨季"
    )
    node.app.decide_extension(number, actor=SUP, clock="plan-target", approve=True)
    node.app.progress(number, actor=LEAD_HEAD, content="方案定", milestone=1)
    step(engine, clock, at("2016-11-29T23:59:59"))
    assert [e for e in sent(node, number) if e.clock == "plan-target"] == []
    step(engine, clock, at("2016-12-09T12:00"))
    target = [e for e in sent(node, number) if e.clock == "plan-target"]
    assert [at("2016-12-10T12:00")] * 2 == [e.due_at for e in target]
    assert {False} == {e.late for e in target}


class CrashAfterSend:
    """Wraps a gateway; the first send reaches it, then the process "dies" before recording."""

    def __init__(self, inner: Gateway) -> None:
        self.inner, self.name, self.crashed = inner, inner.name, False

    def send(self, sms: Sms) -> Accepted:
        """Send, then raise once, as if the process died before recording."""
        accepted = self.inner.send(sms)
        if not self.crashed:
            self.crashed = True
            raise KeyboardInterrupt("simulated crash between send and record")
        return accepted

    def receipts(self) -> list[Receipt]:
        """None."""
        return []

    def close(self) -> None:
        """Close the wrapped gateway."""
        self.inner.close()


def test_crash_between_send_and_record_neither_loses_nor_repeats(
    node: Node, clock: ManualClock, reopen: Callable[[Node], Node]
) -> None:
    """After a crash mid-send, a fresh engine resends with the same key: one SMS, one record."""
    number = register(node)
    first = engine_for(node, clock)
    crashing = CrashAfterSend(first.gateway)
    first.gateway = crashing
    clock.set(at("2016-10-20T18:59:59"))
    with pytest.raises(KeyboardInterrupt):
        first.tick()
    assert sent(node, number) == []
    first.index.close()
    again = reopen(node)
    second = engine_for(again, clock)
    try:
        second.tick()
        records = sent(again, number)
        assert [e.contact for e in records] == LEAD
        assert [e.attempt for e in records] == [2, 1]
        outbox = second.gateway.messages()  # type: ignore[attr-defined]
        assert len(outbox) == 2
        assert records[0].message_id == outbox[0].message_id
    finally:
        close_engine(second)
        crashing.close()


def test_catch_up_after_a_two_day_outage(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Down from 10-20 10:00 to 10-22 10:00: late where useful, skipped otherwise, none lost."""
    number = register(node)
    step(engine, clock, at("2016-10-20T10:00"))
    step(engine, clock, at("2016-10-22T10:00"))
    events = [e for e in reminder_events(node) if e.number == number]
    skipped = {(e.clock, e.kind, e.occurrence): e.reason for e in events
               if isinstance(e, rev.ReminderSkipped)}  # fmt: skip
    assert {("deploy", "before-due", 1), ("deploy", "overdue", 1)} == set(skipped)
    late = sent(node, number)
    assert {("deploy", "overdue", 2)} == {(e.clock, e.kind, e.occurrence) for e in late}
    assert {True} == {e.late for e in late}
    step(engine, clock, at("2016-10-23T18:59:59"))
    fb = [e for e in sent(node, number) if e.clock == "feedback"]
    assert [e.contact for e in fb] == LEAD
    assert {False} == {e.late for e in fb}


def test_catch_up_after_nine_months_records_one_skip_per_clock_not_a_flood(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Back after nine months with every clock long overdue (about 270 daily notices missed per
    clock): each clock gets one summary skip for its missed notices, one for its before-due
    reminder and one latest notice, so the log grows by a bounded number of records."""
    number = register(node)
    step(engine, clock, at("2016-10-20T10:00"))
    before = node.app.recorder.max_notification_id() or 0
    step(engine, clock, at("2017-07-20T10:00"))
    events = [e for e in reminder_events(node) if e.number == number]
    skips = [e for e in events if isinstance(e, rev.ReminderSkipped)]
    overdue_skips = [e for e in skips if e.kind == "overdue"]
    clocks = {e.clock for e in skips}
    assert clocks == {"deploy", "feedback", "resolve"}
    assert len(overdue_skips) == len(clocks)
    assert len(skips) == 2 * len(clocks)  # the before-due reminder and the missed notices
    assert all(" were missed; only notice " in e.reason for e in overdue_skips)
    latest = {(e.clock, e.occurrence) for e in sent(node, number) if e.kind == "overdue"}
    assert {c for c, _ in latest} == clocks
    assert all(k > 200 for _, k in latest)
    grown = (node.app.recorder.max_notification_id() or 0) - before
    # per clock: two skips, one intent, one ReminderSent per recipient (lead unit, supervisors)
    assert grown == len(clocks) * (3 + len(LEAD) + len(SUPERVISORS))


def test_catch_up_sends_a_useful_missed_reminder_late(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Down across 18:59:59 but back before the deploy is due: the reminder goes, marked late."""
    number = register(node)
    step(engine, clock, at("2016-10-20T21:00"))
    mine = sent(node, number)
    assert [e.contact for e in mine] == LEAD
    assert {True} == {e.late for e in mine}


def test_quiet_hours_move_night_reminders_to_the_morning(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """With quiet hours on, the 23:59:59 resolve reminder goes at 07:00 and says so."""
    text = (Path(__file__).parents[2] / "src/ledger13710/data/policy-13710-v1.toml").read_text()
    text = text.replace('version = "13710-v1"', 'version = "13710-v1-quiet"')
    text = text.replace("enabled = false", "enabled = true")
    policy = tmp_path / "quiet.toml"
    policy.write_text(text, "utf-8")
    quiet_node = make_node("sqlite", policy=str(policy))
    engine = engine_for(quiet_node, clock)
    try:
        number = register(quiet_node)
        quiet_node.app.deploy(number, actor=LEAD_HEAD, note="已部署")
        quiet_node.app.feedback(number, actor=LEAD_OP, content="已反馈")
        step(engine, clock, at("2016-10-26T23:59:59"))
        assert sent(quiet_node, number) == []
        step(engine, clock, at("2016-10-27T07:00"))
        mine = sent(quiet_node, number)
        assert [e.contact for e in mine] == LEAD
        assert {"morning"} == {e.quiet_shift for e in mine}
        assert {at("2016-10-26T23:59:59")} == {e.planned_at for e in mine}
        assert {False} == {e.late for e in mine}
    finally:
        close_engine(engine)


def test_index_rebuilds_from_the_log(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """Rebuilding the index from the log yields the same rows and sends nothing twice."""
    number = register(node)
    step(engine, clock, at("2016-10-20T18:59:59"))
    rows = engine.index.rows()
    engine.rebuild()
    engine.tick()
    assert rows == engine.index.rows()
    assert len(sent(node, number)) == 2
    assert item_id(number) == UUID(str(rows[0].item))


def test_run_ticks_in_a_worker_thread_until_stopped(
    node: Node, engine: ReminderEngine, clock: ManualClock
) -> None:
    """``run(stop)`` ticks off the event loop and returns promptly once ``stop`` is set."""
    number = register(node)
    clock.set(at("2016-10-20T18:59:59"))

    async def drive() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop, interval_s=0.01))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(sent(node, number)) == 2:
                break
        stop.set()
        await asyncio.wait_for(task, 2)

    asyncio.run(drive())
    assert [e.contact for e in sent(node, number)] == LEAD
