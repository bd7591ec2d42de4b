"""A scripted year of items for the points tests, and its hand-computed points.

Policy ``13710-v2`` (calendar days; reviews timed at 3 days) and the example rules
``points-v1``. Every action happens at 10:00 Shanghai time unless said otherwise; a due time is
the end (23:59:59) of its day, so "late by 10 h" is one started day, and "early" counts whole
days before the due time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from ledger13710.config.calendars import load_calendar
from ledger13710.config.policies import load_builtin_policy
from ledger13710.domain import events as ev
from ledger13710.domain.item import Item
from ledger13710.domain.points import Point, Tally, score
from ledger13710.domain.points_rules import PointsRules, parse_points_rules
from ledger13710.domain.policy import Policy
from ledger13710.domain.state import (
    REVIEW_FEEDBACK,
    REVIEW_RESOLUTION,
    ItemState,
    evolve,
    review_extension_clock,
)
from ledger13710.domain.types import SHANGHAI, Clock, Severity

POLICY = load_builtin_policy("13710-v2")
CALENDAR = load_calendar()
RAISING = "sx/general-office"
TRANSPORT = "sx/transport"
SECURITY = "sx/public-security"
SUPERVISOR = "sup-general-office"


def example_rules() -> PointsRules:
    """The shipped example rules, ``data/points-v1.toml``."""
    text = resources.files("ledger13710").joinpath("data/points-v1.toml").read_text("utf-8")
    return parse_points_rules(text, "points-v1.toml")


def at(day: str, hour: int = 10) -> datetime:
    """``2016-03-04`` at ``hour``:00 Shanghai time."""
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, 0, tzinfo=SHANGHAI)


@dataclass
class Drive:
    """One item driven by hand: each call is one command at an explicit instant."""

    item: Item
    events: list[ev.ItemEvent] = field(default_factory=list)
    policy: Policy = POLICY  # whose review rule times the raising side's reviews

    @classmethod
    def assigned(
        cls, number: str, lead: str, day: str, *, board: str = "daily", severity: str = "general"
    ) -> Drive:
        """An item registered and assigned at 09:00 on ``day``."""
        now = at(day, 9)
        item = Item.register(
            number=number, title=f"item {number}", detail="", source="executive", board=board,
            severity=severity, raising_unit=RAISING, lead_unit=lead, co_units=(), now=now,
            actor=SUPERVISOR, unit=RAISING,
        )  # fmt: skip
        deadlines = [
            POLICY.deadline(c, now, Severity(severity), CALENDAR)
            for c in (Clock.DEPLOY, Clock.FEEDBACK, Clock.RESOLVE)
        ]
        item.assign(deadlines=deadlines, now=now, actor=SUPERVISOR, unit=RAISING)
        return cls(item)

    def _flush(self) -> Drive:
        self.events.extend(self.item.collect_events())
        return self

    @property
    def lead(self) -> str:
        """The item's lead unit."""
        return self.item.state.lead_unit

    def deploy(self, day: str, hour: int = 10) -> Drive:
        """研究部署."""
        self.item.deploy(note="deployed", now=at(day, hour), actor="op", unit=self.lead)
        return self._flush()

    def feedback(self, day: str, hour: int = 10) -> Drive:
        """反馈, starting the feedback review clock."""
        review = self.policy.review_deadline(REVIEW_FEEDBACK, at(day, hour), CALENDAR)
        self.item.feedback(
            content="status", review=review, now=at(day, hour), actor="op", unit=self.lead
        )
        return self._flush()

    def resolve(self, day: str, hour: int = 10) -> Drive:
        """落实解决, starting the resolution review clock."""
        review = self.policy.review_deadline(REVIEW_RESOLUTION, at(day, hour), CALENDAR)
        self.item.resolve(
            content="done", review=review, now=at(day, hour), actor="op", unit=self.lead
        )
        return self._flush()

    def request_extension(self, day: str, until: str) -> Drive:
        """延期申请 of the resolve clock, starting the extension review clock."""
        review = self.policy.review_deadline(review_extension_clock("resolve"), at(day), CALENDAR)
        self.item.request_extension(
            clock="resolve", requested_due=at(until, 23), reason="supplier late", review=review,
            now=at(day), actor="op", unit=self.lead,
        )  # fmt: skip
        return self._flush()

    def approve_extension(self, day: str) -> Drive:
        """延期批准 to the requested due time."""
        s = self.item.state
        due = s.pending_extensions["resolve"].requested_due
        deadline = POLICY.extended_deadline(s.deadlines["resolve"], due, at(day), CALENDAR)
        self.item.decide_extension(
            clock="resolve", deadline=deadline, reason="ok", now=at(day), actor=SUPERVISOR,
            unit=RAISING,
        )  # fmt: skip
        return self._flush()

    def accept(self, day: str) -> Drive:
        """反馈审核通过."""
        self.item.accept_feedback(note="ok", now=at(day), actor=SUPERVISOR, unit=RAISING)
        return self._flush()

    def send_back(self, day: str, *, untrue: bool = False) -> Drive:
        """退回 (feedback may be marked untrue)."""
        self.item.return_for_rework(
            reason="not enough", now=at(day), actor=SUPERVISOR, unit=RAISING, untrue=untrue
        )
        return self._flush()

    def urge(self, day: str) -> Drive:
        """催办."""
        self.item.urge(message="hurry", now=at(day), actor=SUPERVISOR, unit=RAISING)
        return self._flush()

    def close_out(self, day: str) -> Drive:
        """销号."""
        self.item.close_out(verdict="verified", now=at(day), actor=SUPERVISOR, unit=RAISING)
        return self._flush()


def scripted_year() -> list[Drive]:
    """Four items of 2016 whose points are worked out by hand in :data:`EXPECTED`."""
    # 1. daily/general, transport: everything on time; resolved 3 whole days early.
    one = Drive.assigned("sx-2016-0001", TRANSPORT, "2016-01-04")
    one.deploy("2016-01-04").feedback("2016-01-05").accept("2016-01-06")
    one.resolve("2016-01-08").close_out("2016-01-09")
    # 2. key-work (x1.5)/general, public security: deploy 10 h late; feedback on time but
    #    returned as untrue 4 review-days late; the resubmission is 1 day late net of the wait
    #    (7 days gross); urged; resolved 12 days late; closed out 2 review-days late.
    two = Drive.assigned("sx-2016-0002", SECURITY, "2016-03-01", board="key-work")
    two.deploy("2016-03-02").feedback("2016-03-03").send_back("2016-03-10", untrue=True)
    two.feedback("2016-03-11").urge("2016-03-12").accept("2016-03-12")
    two.resolve("2016-03-20").close_out("2016-03-25")
    # 3. daily/major (x1.5), transport: resolved a day early, then waits two weeks for the
    #    close-out: the wait is the reviewer's (11 days late), not the undertaker's.
    three = Drive.assigned("sx-2016-0003", TRANSPORT, "2016-06-01", severity="major")
    three.deploy("2016-06-01").feedback("2016-06-02").accept("2016-06-03")
    three.resolve("2016-06-30").close_out("2016-07-14")
    # 4. daily/general, public security: an extension decided 2 days late, then resolved on
    #    time against the extended due time (1 whole day early); still awaiting close-out.
    four = Drive.assigned("sx-2016-0004", SECURITY, "2016-09-01")
    four.deploy("2016-09-01").feedback("2016-09-02").accept("2016-09-02")
    four.request_extension("2016-09-07", until="2016-09-20").approve_extension("2016-09-12")
    four.resolve("2016-09-19")
    return [one, two, three, four]


#: (unit, item, rule, clock, quantity, hundredths) of every point of :func:`scripted_year`.
EXPECTED: list[tuple[str, str, str, str, int, int]] = [
    (TRANSPORT, "0001", "clock_on_time", "deploy", 1, 100),
    (TRANSPORT, "0001", "clock_on_time", "feedback", 1, 100),
    (RAISING, "0001", "review_on_time", "review-feedback", 1, 50),
    (TRANSPORT, "0001", "clock_on_time", "resolve", 1, 100),
    (TRANSPORT, "0001", "early_per_day", "resolve", 3, 150),
    (RAISING, "0001", "review_on_time", "review-resolution", 1, 50),
    (TRANSPORT, "0001", "zero_cleared", "", 1, 200),
    (SECURITY, "0002", "clock_missed", "deploy", 1, -300),
    (SECURITY, "0002", "overdue_per_day", "deploy", 1, -75),
    (SECURITY, "0002", "clock_on_time", "feedback", 1, 150),
    (RAISING, "0002", "review_missed", "review-feedback", 1, -150),
    (RAISING, "0002", "review_overdue_per_day", "review-feedback", 4, -300),
    (SECURITY, "0002", "returned", "feedback", 1, -150),
    (SECURITY, "0002", "untrue_feedback", "feedback", 1, -750),
    (SECURITY, "0002", "clock_missed", "feedback", 1, -300),
    (SECURITY, "0002", "overdue_per_day", "feedback", 1, -75),
    (SECURITY, "0002", "urged", "", 1, -150),
    (RAISING, "0002", "review_on_time", "review-feedback", 1, 75),
    (SECURITY, "0002", "clock_missed", "resolve", 1, -300),
    (SECURITY, "0002", "overdue_per_day", "resolve", 12, -900),
    (RAISING, "0002", "review_missed", "review-resolution", 1, -150),
    (RAISING, "0002", "review_overdue_per_day", "review-resolution", 2, -150),
    (SECURITY, "0002", "zero_cleared", "", 1, 300),
    (TRANSPORT, "0003", "clock_on_time", "deploy", 1, 150),
    (TRANSPORT, "0003", "clock_on_time", "feedback", 1, 150),
    (RAISING, "0003", "review_on_time", "review-feedback", 1, 75),
    (TRANSPORT, "0003", "clock_on_time", "resolve", 1, 150),
    (TRANSPORT, "0003", "early_per_day", "resolve", 1, 75),
    (RAISING, "0003", "review_missed", "review-resolution", 1, -150),
    (RAISING, "0003", "review_overdue_per_day", "review-resolution", 11, -825),
    (TRANSPORT, "0003", "zero_cleared", "", 1, 300),
    (SECURITY, "0004", "clock_on_time", "deploy", 1, 100),
    (SECURITY, "0004", "clock_on_time", "feedback", 1, 100),
    (RAISING, "0004", "review_on_time", "review-feedback", 1, 50),
    (RAISING, "0004", "review_missed", "review-extension-resolve", 1, -100),
    (RAISING, "0004", "review_overdue_per_day", "review-extension-resolve", 2, -100),
    (SECURITY, "0004", "clock_on_time", "resolve", 1, 100),
    (SECURITY, "0004", "early_per_day", "resolve", 1, 50),
]

#: The year's totals per unit, in hundredths (sums of :data:`EXPECTED`, added up by hand).
TOTALS = {TRANSPORT: 1475, SECURITY: -2200, RAISING: -1625}


def score_all(events: Sequence[ev.ItemEvent], rules: PointsRules) -> list[Point]:
    """Fold one item's events through :func:`score` and :func:`evolve`, as the projection does."""
    state: ItemState | None = None
    tally = Tally()
    points: list[Point] = []
    for e in events:
        points += score(state, tally, e, rules)
        state = evolve(state, e)
    return points
