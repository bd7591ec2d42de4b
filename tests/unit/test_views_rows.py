"""Row conversions of the views: exact times, clock families, labels."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.labels import SOURCE_ZH, code_of
from ledger13710.projections.rows import clock_kind, from_us, us
from ledger13710.projections.stats import Count, headline


def test_times_round_trip_to_the_microsecond() -> None:
    """``us`` and ``from_us`` are exact inverses (no float rounding at any magnitude)."""
    t = datetime(2016, 10, 20, 23, 59, 59, 999_999, tzinfo=SHANGHAI)
    assert t == from_us(us(t))
    assert us(t + timedelta(microseconds=1)) - us(t) == 1


def test_clock_kinds_group_milestones_and_the_plan_target() -> None:
    """Statistics group ``milestone-N`` clocks together and name the plan target ``plan``."""
    kinds = [clock_kind(c) for c in ("deploy", "milestone-3", "plan-target", "resolve")]
    assert kinds == ["deploy", "milestone", "plan", "resolve"]


def test_codes_are_found_by_code_or_by_label() -> None:
    """An import cell may hold the code or its Chinese label; anything else is unknown."""
    found = [code_of(v, SOURCE_ZH) for v in ("executive", " 常务会议 ", "rumour")]
    assert found == ["executive", "executive", None]


def test_headline_reads_like_the_seed() -> None:
    """746 items, 380 in 2016 and 366 in 2017, in the report's own wording."""
    line = headline(746, [Count("2016", 380), Count("2017", 366)])
    assert line == "共交办事项746件（2016年380件、2017年366件）"
