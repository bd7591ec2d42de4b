"""A working-day node in a year without holiday data: flagged deadlines, a warning, and the fix."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import structlog

from ledger13710.application.node import Node
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.policy import end_of_day
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import SHANGHAI

MakeNode = Callable[..., Node]

#: Monday 1 March 2027: chinesecalendar 1.11 has no data for 2027.
MONDAY = datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI)
WORKING = "builtin:13710-v1-working"

#: NOT the official 2027 schedule: two made-up holidays that only this test uses, so the
#: overrides visibly move the feedback deadline.
TEST_ONLY_OVERRIDES = """\
[years.2027]
holidays = ["2027-03-02", "2027-03-03"]
workdays = []
source = "TEST ONLY: made-up holidays for tests/integration/test_calendar_fallback_app.py"
"""


def register_and_assign(node: Node) -> tuple[ItemState, list[MutableMapping[str, Any]]]:
    """Register and assign one general item; return it and the log entries emitted meanwhile."""
    with structlog.testing.capture_logs() as logs:
        item = node.app.register(
            title="2027年度重点工作",
            source="executive",
            board="daily",
            severity="general",
            raising_unit="sx",
            lead_unit="sx/transport",
            actor="sx-general-office-sup1",
            assign=True,
        )
    return item, logs


def test_uncovered_year_flags_every_deadline_and_warns(
    make_node: MakeNode, clock: ManualClock
) -> None:
    """Without 2027 data every clock counts weekends only, says so, and a warning is logged."""
    clock.set(MONDAY)
    item, logs = register_and_assign(make_node(policy=WORKING))

    flags = {"deploy": True, "feedback": True, "resolve": True}
    assert flags == {c: d.calendar_fallback for c, d in item.deadlines.items()}
    days = {"deploy": date(2027, 3, 1), "feedback": date(2027, 3, 4), "resolve": date(2027, 3, 10)}
    due = {c: end_of_day(d) for c, d in days.items()}
    assert due == {c: d.due_at for c, d in item.deadlines.items()}
    warned = [
        e
        for e in logs
        if e["event"] == "calendar_year_not_covered" and e.get("item") == item.number
    ]
    assert sorted(due) == sorted(e["clock"] for e in warned)
    levels = {"warning"}
    assert levels == {e["log_level"] for e in warned}


def test_overrides_covering_the_year_clear_the_flag(
    make_node: MakeNode, clock: ManualClock, tmp_path: Path
) -> None:
    """With an overrides file for 2027 no clock falls back and the version names the overrides."""
    overrides = tmp_path / "calendar-overrides.toml"
    overrides.write_text(TEST_ONLY_OVERRIDES, "utf-8")
    clock.set(MONDAY)
    item, logs = register_and_assign(make_node(policy=WORKING, overrides=overrides))

    flags = {"deploy": False, "feedback": False, "resolve": False}
    assert flags == {c: d.calendar_fallback for c, d in item.deadlines.items()}
    assert all("+overrides-" in d.calendar_version for d in item.deadlines.values())
    # 2 and 3 March are (test-only) holidays: three working days after Monday end on Monday 8th.
    feedback_due = end_of_day(date(2027, 3, 8))
    assert feedback_due == item.deadlines["feedback"].due_at
    warnings: list[MutableMapping[str, Any]] = []
    assert warnings == [e for e in logs if e["event"] == "calendar_year_not_covered"]
