"""The 13710 policy as data: parsing, the four clocks on both day bases, reminders, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path

import msgspec
import pytest

from ledger13710.config.calendars import load_calendar
from ledger13710.config.policies import (
    builtin_policy_names,
    load_builtin_policy,
    load_policy,
    load_policy_file,
)
from ledger13710.domain.calendar import WorkCalendar
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.domain.policy import Policy, add_months, end_of_day, parse_duration, parse_policy
from ledger13710.domain.types import SHANGHAI, Clock, Deadline, Severity

CAL = load_calendar()
CALENDAR = load_builtin_policy("builtin:13710-v1")
WORKING = load_builtin_policy("builtin:13710-v1-working")
H = 3600


def at(y: int, m: int, d: int, hh: int = 10) -> datetime:
    """An aware Shanghai instant."""
    return datetime(y, m, d, hh, tzinfo=SHANGHAI)


def due(policy: Policy, clock: Clock, start: datetime, sev: Severity = Severity.GENERAL) -> date:
    """Local due date of ``clock`` started at ``start`` under ``policy``, package calendar."""
    dl = policy.deadline(clock, start, sev, CAL)
    assert dl.due_at.time().isoformat() == "23:59:59"
    return dl.due_at.date()


def builtin_text() -> str:
    """The text of the default built-in policy."""
    data = resources.files("ledger13710").joinpath("data")
    return data.joinpath("policy-13710-v1.toml").read_text(encoding="utf-8")


def test_builtin_policies_are_listed_and_versioned() -> None:
    """Three built-in policies ship: calendar-day (default), working-day basis, and v2 (the
    calendar-day rules plus a review clock for the raising side)."""
    assert builtin_policy_names() == [
        "builtin:13710-v1",
        "builtin:13710-v1-working",
        "builtin:13710-v2",
    ]
    assert (CALENDAR.version, CALENDAR.day_basis) == ("13710-v1", "calendar")
    assert (WORKING.version, WORKING.day_basis) == ("13710-v1-working", "working")


def test_default_policy_values() -> None:
    """The default policy carries the 13710 numbers and the documented defaults."""
    p = CALENDAR
    assert [(r.days, r.months) for r in (p.deploy, p.feedback, p.resolve_general)] == [
        (0, 0),
        (3, 0),
        (7, 0),
    ]
    assert [(r.days, r.months) for r in (p.resolve_major, p.resolve_complex)] == [(0, 1), (0, 1)]
    assert (p.milestone_remind_before_s, p.overdue_repeat_s) == (24 * H, 24 * H)
    assert (p.co_units_reminded, p.overdue_notify_raising_unit) == (False, True)
    assert (p.quiet_hours.enabled, str(p.quiet_hours.start), str(p.quiet_hours.end)) == (
        False,
        "22:00:00",
        "07:00:00",
    )


def test_four_clocks_on_calendar_days() -> None:
    """Calendar basis from Wed 2026-09-30: same day, +3, +7 and +1 month, holidays ignored."""
    start = at(2026, 9, 30)
    assert due(CALENDAR, Clock.DEPLOY, start) == date(2026, 9, 30)
    assert due(CALENDAR, Clock.FEEDBACK, start) == date(2026, 10, 3)
    assert due(CALENDAR, Clock.RESOLVE, start, Severity.GENERAL) == date(2026, 10, 7)
    assert due(CALENDAR, Clock.RESOLVE, start, Severity.MAJOR) == date(2026, 10, 30)
    assert due(CALENDAR, Clock.RESOLVE, start, Severity.COMPLEX) == date(2026, 10, 30)


def test_four_clocks_on_working_days_across_national_day() -> None:
    """Working basis from Wed 2026-09-30: holidays 10-01..07 skipped, Sat 10-10 (调休) counts."""
    start = at(2026, 9, 30)
    assert due(WORKING, Clock.DEPLOY, start) == date(2026, 9, 30)
    assert due(WORKING, Clock.FEEDBACK, start) == date(2026, 10, 10)
    assert due(WORKING, Clock.RESOLVE, start, Severity.GENERAL) == date(2026, 10, 15)
    assert due(WORKING, Clock.RESOLVE, start, Severity.MAJOR) == date(2026, 10, 30)


def test_deploy_on_a_holiday_rolls_to_next_working_day() -> None:
    """Working basis: an item assigned on 2026-10-01 must be deployed by end of 2026-10-08."""
    assert due(WORKING, Clock.DEPLOY, at(2026, 10, 1)) == date(2026, 10, 8)


def test_deploy_on_a_make_up_saturday_is_the_same_day() -> None:
    """Working basis: Sat 2026-10-10 is a 调休 working day, so deploy is due that day."""
    assert due(WORKING, Clock.DEPLOY, at(2026, 10, 10)) == date(2026, 10, 10)


def test_deploy_on_a_plain_saturday_rolls_to_monday() -> None:
    """Working basis: Sat 2026-10-17 is not a working day; deploy is due Mon 2026-10-19."""
    assert due(WORKING, Clock.DEPLOY, at(2026, 10, 17)) == date(2026, 10, 19)
    assert due(CALENDAR, Clock.DEPLOY, at(2026, 10, 17)) == date(2026, 10, 17)


def test_month_clock_landing_on_a_holiday_rolls_forward() -> None:
    """Working basis: 2026-09-01 + 1 month is the holiday 10-01, so due moves to 10-08."""
    assert due(WORKING, Clock.RESOLVE, at(2026, 9, 1), Severity.MAJOR) == date(2026, 10, 8)
    assert due(CALENDAR, Clock.RESOLVE, at(2026, 9, 1), Severity.MAJOR) == date(2026, 10, 1)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2024, 1, 31), date(2024, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 5, 15), date(2026, 6, 15)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, expected: date) -> None:
    """Same day-of-month one month later, clamped to the last day; December rolls the year."""
    assert add_months(start, 1) == expected


def test_one_month_clock_from_january_31() -> None:
    """Calendar basis: a major problem raised 2026-01-31 is due end of 2026-02-28."""
    dl = CALENDAR.deadline(Clock.RESOLVE, at(2026, 1, 31), Severity.MAJOR, CAL)
    assert dl.due_at == datetime(2026, 2, 28, 23, 59, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("clock", "severity", "hours"),
    [
        (Clock.DEPLOY, Severity.GENERAL, 5),
        (Clock.FEEDBACK, Severity.GENERAL, 5),
        (Clock.RESOLVE, Severity.GENERAL, 24),
        (Clock.RESOLVE, Severity.MAJOR, 48),
        (Clock.RESOLVE, Severity.COMPLEX, 48),
    ],
)
@pytest.mark.parametrize("policy", [CALENDAR, WORKING], ids=["calendar", "working"])
def test_reminder_offsets_per_clock(
    policy: Policy, clock: Clock, severity: Severity, hours: int
) -> None:
    """SMS reminders: 5h before deploy and feedback, 24h before 7 days, 48h before 1 month."""
    dl = policy.deadline(clock, at(2026, 9, 30), severity, CAL)
    assert dl.remind_before_s == hours * H


def test_deadline_records_versions_and_start() -> None:
    """The deadline carries clock, start, both versions and the day basis."""
    dl = WORKING.deadline(Clock.FEEDBACK, at(2026, 9, 30), Severity.GENERAL, CAL)
    assert dl == Deadline(
        clock="feedback",
        started_at=at(2026, 9, 30),
        due_at=datetime(2026, 10, 10, 23, 59, 59, tzinfo=SHANGHAI),
        remind_before_s=5 * H,
        policy_version="13710-v1-working",
        calendar_version="chinesecalendar-1.11.0",
        day_basis="working",
        calendar_fallback=False,
    )


def test_deadline_survives_json_round_trip() -> None:
    """A deadline encodes into an event payload and decodes back equal."""
    dl = WORKING.deadline(Clock.RESOLVE, at(2026, 9, 30), Severity.MAJOR, CAL)
    assert msgspec.json.decode(msgspec.json.encode(dl), type=Deadline) == dl


def test_start_date_is_the_shanghai_local_date() -> None:
    """17:00 UTC on 09-30 is 01:00 on 10-01 in Shanghai, so deploy is due end of 10-01."""
    start = datetime(2026, 9, 30, 17, tzinfo=UTC)
    dl = CALENDAR.deadline(Clock.DEPLOY, start, Severity.GENERAL, CAL)
    assert (dl.started_at, dl.due_at) == (
        datetime(2026, 10, 1, 1, tzinfo=SHANGHAI),
        datetime(2026, 10, 1, 23, 59, 59, tzinfo=SHANGHAI),
    )


def test_naive_start_is_refused() -> None:
    """A naive started_at is a caller bug: ValueError."""
    with pytest.raises(ValueError, match="timezone-aware"):
        CALENDAR.deadline(Clock.DEPLOY, datetime(2026, 9, 30, 10), Severity.GENERAL, CAL)


def test_working_basis_into_uncovered_year_sets_fallback() -> None:
    """Mon 2026-12-28 + 7 working days reaches 2027 (no data): weekends-only, flagged."""
    dl = WORKING.deadline(Clock.RESOLVE, at(2026, 12, 28), Severity.GENERAL, CAL)
    assert (dl.due_at.date(), dl.calendar_fallback) == (date(2027, 1, 6), True)


def test_working_basis_inside_covered_year_has_no_fallback() -> None:
    """A deadline that stays in 2026 is computed on real data: no fallback flag."""
    dl = WORKING.deadline(Clock.FEEDBACK, at(2026, 12, 21), Severity.GENERAL, CAL)
    assert (dl.due_at.date(), dl.calendar_fallback) == (date(2026, 12, 24), False)


def test_calendar_basis_never_falls_back() -> None:
    """Calendar days need no holiday data, so a 2027 due date is not flagged."""
    dl = CALENDAR.deadline(Clock.RESOLVE, at(2026, 12, 28), Severity.GENERAL, CAL)
    assert (dl.due_at.date(), dl.calendar_fallback) == (date(2027, 1, 4), False)


def test_override_year_removes_fallback(tmp_path: Path) -> None:
    """With 2027 in an override file the same deadline uses it and records the new version."""
    path = tmp_path / "cal.toml"
    path.write_text('[years.2027]\nholidays = ["2027-01-01"]\n', encoding="utf-8")
    cal = load_calendar(path)
    dl = WORKING.deadline(Clock.RESOLVE, at(2026, 12, 28), Severity.GENERAL, cal)
    assert (dl.due_at.date(), dl.calendar_fallback) == (date(2027, 1, 7), False)
    assert dl.calendar_version.startswith("chinesecalendar-1.11.0+overrides-")


def test_weekends_only_calendar_flags_every_working_deadline() -> None:
    """On a calendar without data every working-day deadline is flagged as a fallback."""
    cal = WorkCalendar.weekends_only()
    dl = WORKING.deadline(Clock.DEPLOY, at(2026, 10, 1), Severity.GENERAL, cal)
    assert (dl.due_at.date(), dl.calendar_fallback, dl.calendar_version) == (
        date(2026, 10, 1),
        True,
        "weekends-only",
    )


def test_milestone_deadline() -> None:
    """A plan milestone is due when the plan says, with the milestone reminder offset."""
    start, end = at(2026, 10, 8), end_of_day(date(2026, 11, 20))
    dl = WORKING.milestone_deadline(2, start, end, CAL)
    assert dl == Deadline(
        clock="milestone-2",
        started_at=start,
        due_at=end,
        remind_before_s=24 * H,
        policy_version="13710-v1-working",
        calendar_version=CAL.version,
        day_basis="working",
    )


def test_milestone_due_before_start_is_refused() -> None:
    """A milestone due before it starts is an input error; index 0 is a caller bug."""
    with pytest.raises(InputError, match="milestone 1 is due"):
        CALENDAR.milestone_deadline(1, at(2026, 10, 8), at(2026, 10, 7), CAL)
    with pytest.raises(ValueError, match="1-based"):
        CALENDAR.milestone_deadline(0, at(2026, 10, 8), at(2026, 10, 9), CAL)


def test_extended_deadline_keeps_clock_and_offset_and_takes_new_versions() -> None:
    """An extension keeps clock, start and offset; versions are those in force at approval."""
    old = CALENDAR.deadline(Clock.RESOLVE, at(2026, 9, 30), Severity.GENERAL, CAL)
    new_due = end_of_day(date(2026, 10, 20))
    cal = WorkCalendar.weekends_only("cal-2")
    ext = WORKING.extended_deadline(old, new_due, at(2026, 10, 6), cal)
    assert ext == Deadline(
        clock="resolve",
        started_at=old.started_at,
        due_at=new_due,
        remind_before_s=24 * H,
        policy_version="13710-v1-working",
        calendar_version="cal-2",
        day_basis="working",
    )


def test_extension_must_move_the_deadline_later() -> None:
    """An 'extension' to an earlier or equal time is an input error."""
    old = CALENDAR.deadline(Clock.RESOLVE, at(2026, 9, 30), Severity.GENERAL, CAL)
    with pytest.raises(InputError, match="later than"):
        CALENDAR.extended_deadline(old, old.due_at, at(2026, 10, 6), CAL)
    with pytest.raises(InputError, match="not after the approval"):
        CALENDAR.extended_deadline(old, old.due_at + timedelta(days=1), at(2026, 10, 9), CAL)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5h", 5 * H), ("30m", 1800), ("24h", 24 * H), ("2d", 48 * H), ("1h30m", 5400), ("0s", 0)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    """Durations are whole units, alone or in descending combination."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "h", "5 h", "-5h", "5H", "1.5h", "30m1h", "5hours"])
def test_parse_duration_is_strict(text: str) -> None:
    """Anything else is refused."""
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        ("days = 3\n", "days = -3\n", "feedback.days: must be 0..3660, got -3"),
        ('day_basis = "calendar"', 'day_basis = "lunar"', "day_basis: must be 'calendar' or"),
        (
            'days = 3\nremind_before = "5h"',
            'days = 3\nremind_before = "5 hours"',
            "feedback.remind_before: bad duration '5 hours'",
        ),
        ('overdue_repeat = "24h"', 'overdue_repeat = "0h"', "overdue_repeat: must be longer"),
        (
            'milestone_remind_before = "24h"',
            'milestone_remind_before = "1w"',
            "milestone_remind_before: bad duration",
        ),
        (
            'months = 1\nremind_before = "48h"\n\n[resolve_complex]',
            'months = 1\ndays = 2\nremind_before = "48h"\n\n[resolve_complex]',
            "resolve_major: give either days or months",
        ),
        ('start = "22:00"', 'start = "25:00"', "quiet_hours.start: bad time '25:00'"),
        ('version = "13710-v1"', 'version = ""', "version: '' must be"),
        ('name = "13710 工作制度"', 'name = " "', "name: must not be empty"),
        ("days = 3\n", 'days = "3"\n', "Expected `int`, got `str` - at `$.feedback.days`"),
        ("days = 3\n", "days = 3\nhours = 2\n", "unknown field `hours` - at `$.feedback`"),
        (
            '[deploy]            # the "1": same day\ndays = 0\nremind_before = "5h"',
            "",
            "missing required field `deploy`",
        ),
        ('day_basis = "calendar"', "day_basis = calendar", "not a valid TOML file"),
    ],
)
def test_bad_policy_names_source_and_field(old: str, new: str, fragment: str) -> None:
    """Every problem in a policy file is a ConfigError naming the source and the field."""
    text = builtin_text()
    assert old in text
    with pytest.raises(ConfigError) as err:
        parse_policy(text.replace(old, new, 1), "my-policy.toml")
    assert str(err.value).startswith("my-policy.toml: ")
    assert fragment in str(err.value)


def test_quiet_hours_enabled_with_equal_bounds_is_refused() -> None:
    """Quiet hours from 22:00 to 22:00 make no sense when enabled."""
    text = (
        builtin_text()
        .replace("enabled = false", "enabled = true")
        .replace('end = "07:00"', 'end = "22:00"')
    )
    with pytest.raises(ConfigError, match="quiet_hours: start and end are equal"):
        parse_policy(text, "p.toml")


def test_unknown_builtin_policy_lists_the_available_ones() -> None:
    """An unknown built-in name is a ConfigError listing what exists."""
    with pytest.raises(ConfigError) as err:
        load_builtin_policy("builtin:13710-v9")
    assert str(err.value) == (
        "unknown built-in policy 'builtin:13710-v9'; available: "
        "builtin:13710-v1, builtin:13710-v1-working, builtin:13710-v2"
    )


def test_load_policy_file_and_dispatch(tmp_path: Path) -> None:
    """A policy file loads from a path; load_policy takes a path or a builtin: name."""
    path = tmp_path / "p.toml"
    path.write_text(builtin_text().replace('"13710-v1"', '"shanxi-2026"'), encoding="utf-8")
    assert load_policy_file(path).version == "shanxi-2026"
    assert load_policy(str(path)).version == "shanxi-2026"
    assert load_policy("builtin:13710-v1") == CALENDAR
    assert load_builtin_policy("13710-v1") == CALENDAR


def test_bad_policy_file_names_the_path(tmp_path: Path) -> None:
    """A broken or missing policy file is a ConfigError naming its path."""
    path = tmp_path / "p.toml"
    path.write_text(builtin_text().replace("days = 7", "days = -7"), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_policy_file(path)
    assert str(err.value) == f"{path}: resolve_general.days: must be 0..3660, got -7"
    with pytest.raises(ConfigError, match="cannot read the policy file"):
        load_policy_file(tmp_path / "absent.toml")


def test_v2_times_the_raising_sides_review_and_v1_does_not() -> None:
    """13710-v2 gives a review started on Thursday 2016-10-20 a due at the end of Sunday
    2016-10-23 (3 calendar days), recording v2; 13710-v1 times no review."""
    v2 = load_builtin_policy("13710-v2")
    started = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)
    deadline = v2.review_deadline("review-feedback", started, CAL)
    assert deadline is not None
    assert (deadline.clock, deadline.due_at, deadline.policy_version) == (
        "review-feedback",
        datetime(2016, 10, 23, 23, 59, 59, tzinfo=SHANGHAI),
        "13710-v2",
    )
    assert deadline.remind_before_s == 5 * 3600
    assert CALENDAR.review_deadline("review-feedback", started, CAL) is None
