"""Incentive points from recorded facts: what one item event earns or costs, and why.

:func:`score` reads the item's state *before* the event (its recorded deadlines and review
clocks), the event, and a small :class:`Tally` of what was already scored; it returns the
:class:`Point` s the event earns and updates the tally. Nothing here reads today's policy or
the wall clock: due times come from the events that started the clocks, so a score is
recomputed from the log alone. Which fact scores what is documented in ``data/points-v1.toml``.

Fairness: the undertaking unit is not charged for time the item waited on the raising side.
While feedback awaits acceptance, a resolution awaits close-out, or an extension awaits a
decision, the wait is an interval of the clock concerned; when the clock is met late, the part
of those intervals after its due time is taken off the lateness. The raising side's own review
clock (recorded in the event that started the wait) is scored for the raising unit instead.
"""

from __future__ import annotations

import math
from datetime import datetime

import msgspec

from ledger13710.domain import events as ev
from ledger13710.domain.points_rules import PointsRules
from ledger13710.domain.state import (
    PLAN_TARGET,
    REVIEW_FEEDBACK,
    REVIEW_RESOLUTION,
    ItemState,
    review_extension_clock,
)
from ledger13710.domain.types import Clock, milestone_clock

_DAY_S = 86_400


class Point(msgspec.Struct, frozen=True, kw_only=True):
    """Points (in hundredths) one event earned one unit, priced by one rule of one version."""

    unit: str
    item: str  # item number
    version: int  # the item event's originator_version: with the item, the event itself
    at: datetime  # when the event was recorded: decides the period
    rule: str
    rules_version: str
    clock: str  # the clock concerned, "" when none
    quantity: int  # days for per-day rules, else 1
    centi: int


class Tally(msgspec.Struct, kw_only=True):
    """What scoring remembers about one item between its events."""

    waits: dict[str, list[tuple[datetime, datetime]]] = msgspec.field(default_factory=dict)
    waiting: dict[str, datetime] = msgspec.field(default_factory=dict)  # clock -> wait start
    on_time: list[str] = msgspec.field(default_factory=list)  # clocks awarded on time
    missed: list[str] = msgspec.field(default_factory=list)  # clocks charged as missed
    late_days: dict[str, int] = msgspec.field(default_factory=dict)  # days charged per clock


def _resolve_clock(s: ItemState) -> str:
    return PLAN_TARGET if PLAN_TARGET in s.deadlines else Clock.RESOLVE.value


class _Scorer:
    """Scores one event against the state before it."""

    def __init__(self, s: ItemState, t: Tally, e: ev.ItemEvent, rules: PointsRules) -> None:
        self.s, self.t, self.e, self.rules = s, t, e, rules
        self.points: list[Point] = []

    def add(self, unit: str, rule: str, clock: str = "", quantity: int = 1) -> None:
        if quantity <= 0:
            return
        centi = self.rules.price(rule, self.s.board, self.s.severity, quantity)
        if centi == 0:
            return
        self.points.append(
            Point(
                unit=unit, item=self.s.number, version=self.e.originator_version,
                at=self.e.timestamp, rule=rule, rules_version=self.rules.version,
                clock=clock, quantity=quantity, centi=centi,
            )
        )  # fmt: skip

    def clock_met(self, clock: str, *, early_bonus: bool = False) -> None:
        """The lead unit met ``clock`` now: on time, early, or late net of review waits."""
        deadline = self.s.deadlines.get(clock)
        if deadline is None:
            return
        self.end_wait(clock)  # an extension still awaiting a decision stops waiting now
        at, due, lead, t = self.e.timestamp, deadline.due_at, self.s.lead_unit, self.t
        late_s = (at - due).total_seconds() - _overlap(t.waits.get(clock, []), due, at)
        if late_s <= 0:
            if clock not in t.on_time and clock not in t.missed:
                t.on_time.append(clock)
                self.add(lead, "clock_on_time", clock)
                if early_bonus:
                    early = int((due - at).total_seconds() // _DAY_S)
                    self.add(lead, "early_per_day", clock, min(early, self.rules.early_max_days))
            return
        if clock not in t.missed:
            t.missed.append(clock)
            self.add(lead, "clock_missed", clock)
        days = min(math.ceil(late_s / _DAY_S), self.rules.overdue_max_days)
        self.add(lead, "overdue_per_day", clock, days - t.late_days.get(clock, 0))
        t.late_days[clock] = max(days, t.late_days.get(clock, 0))

    def review_decided(self, review_clock: str) -> None:
        """The raising side decided a review whose clock ``review_clock`` was running."""
        deadline = self.s.reviews.get(review_clock)
        if deadline is None:
            return  # the policy did not time this review
        late_s = (self.e.timestamp - deadline.due_at).total_seconds()
        raiser = self.s.raising_unit
        if late_s <= 0:
            self.add(raiser, "review_on_time", review_clock)
            return
        self.add(raiser, "review_missed", review_clock)
        days = min(math.ceil(late_s / _DAY_S), self.rules.overdue_max_days)
        self.add(raiser, "review_overdue_per_day", review_clock, days)

    def wait(self, clock: str) -> None:
        self.t.waiting[clock] = self.e.timestamp

    def end_wait(self, clock: str) -> None:
        start = self.t.waiting.pop(clock, None)
        if start is not None:
            self.t.waits.setdefault(clock, []).append((start, self.e.timestamp))


def _overlap(waits: list[tuple[datetime, datetime]], due: datetime, at: datetime) -> float:
    """Seconds of the ``waits`` that fall between ``due`` and ``at``."""
    total = 0.0
    for start, end in waits:
        lo, hi = max(start, due), min(end, at)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def score(
    before: ItemState | None, tally: Tally, e: ev.ItemEvent, rules: PointsRules
) -> list[Point]:
    """The points ``e`` earns, given the item's state before it; updates ``tally``."""
    if before is None:
        return []
    sc = _Scorer(before, tally, e, rules)
    _score(sc, before, e)
    return sc.points


def _score(sc: _Scorer, s: ItemState, e: ev.ItemEvent) -> None:  # noqa: PLR0912 - one branch per event type
    lead = s.lead_unit
    match e:
        case ev.Deployed():
            sc.clock_met(Clock.DEPLOY.value)
        case ev.FeedbackSubmitted():
            sc.clock_met(Clock.FEEDBACK.value)
            sc.wait(Clock.FEEDBACK.value)
        case ev.FeedbackAccepted():
            sc.end_wait(Clock.FEEDBACK.value)
            sc.review_decided(REVIEW_FEEDBACK)
        case ev.ProgressReported() if e.milestone:
            clock = milestone_clock(e.milestone)
            if clock not in s.met:
                sc.clock_met(clock)
        case ev.Resolved():
            clock = _resolve_clock(s)
            sc.clock_met(clock, early_bonus=True)
            sc.wait(clock)
        case ev.Returned():
            clock = Clock.FEEDBACK.value if e.stage == "feedback" else _resolve_clock(s)
            sc.end_wait(clock)
            sc.review_decided(REVIEW_FEEDBACK if e.stage == "feedback" else REVIEW_RESOLUTION)
            sc.add(lead, "returned", clock)
            if e.untrue:
                sc.add(lead, "untrue_feedback", clock)
        case ev.ExtensionRequested():
            sc.wait(e.clock)
        case ev.ExtensionApproved() | ev.ExtensionDenied():
            sc.end_wait(e.clock)
            sc.review_decided(review_extension_clock(e.clock))
        case ev.Urged():
            sc.add(lead, "urged")
        case ev.ClosedOut():
            sc.end_wait(_resolve_clock(s))
            sc.review_decided(REVIEW_RESOLUTION)
            sc.add(lead, "zero_cleared")
        case _:
            pass
