"""The working-day calendar: package data, 调休, the weekends-only fallback and overrides."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import pytest
import structlog
from structlog.testing import capture_logs

from ledger13710.config.calendars import (
    FALLBACK_EXPLANATION,
    load_calendar,
    package_version,
    warn_if_uncovered,
)
from ledger13710.domain.calendar import WorkCalendar, YearData
from ledger13710.domain.errors import ConfigError

CAL = load_calendar()

OVERRIDE_2027 = """\
[years.2027]
holidays = ["2027-01-01", "2027-01-02", "2027-01-03"]
workdays = ["2027-01-09"]
source = "test data, not the official table"
"""


def write(tmp_path: Path, text: str, name: str = "overrides.toml") -> Path:
    """Write ``text`` to a file under ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_package_calendar_covers_2004_to_2026_only() -> None:
    """chinesecalendar 1.11 has data for 2004-2026 and none for 2027; the version names it."""
    assert CAL.covered_years() == list(range(2004, 2027))
    assert CAL.covers(2026) is True
    assert CAL.covers(2027) is False
    assert CAL.version == f"chinesecalendar-{package_version()}"
    assert package_version() == "1.11.0"


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_2026_is_a_holiday(day: int) -> None:
    """2026-10-01 .. 10-07 are public holidays, so not working days, weekday or not."""
    assert CAL.is_workday(date(2026, 10, day)) is False


def test_2026_make_up_weekend_days_are_working_days() -> None:
    """Sun 2026-09-20 and Sat 2026-10-10 are make-up working days (调休)."""
    assert [CAL.is_workday(date(2026, 9, 20)), CAL.is_workday(date(2026, 10, 10))] == [True, True]


def test_ordinary_days_follow_the_week() -> None:
    """A plain Wednesday is a working day; a plain Saturday and Sunday are not."""
    assert CAL.is_workday(date(2026, 10, 14)) is True
    assert CAL.is_workday(date(2026, 10, 17)) is False
    assert CAL.is_workday(date(2026, 10, 18)) is False


def test_next_workday_rolls_over_a_holiday_period() -> None:
    """From a National Day holiday the next working day is Thu 2026-10-08."""
    assert CAL.next_workday(date(2026, 10, 1)) == date(2026, 10, 8)


def test_next_workday_inclusive_and_exclusive() -> None:
    """Inclusive returns a working day itself; exclusive looks strictly after it."""
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 9, 30)
    assert CAL.next_workday(date(2026, 9, 30), inclusive=False) == date(2026, 10, 8)
    assert CAL.next_workday(date(2026, 10, 9), inclusive=False) == date(2026, 10, 10)


def test_add_workdays_across_national_day() -> None:
    """The 3rd working day after Wed 2026-09-30 is the make-up Saturday 2026-10-10."""
    assert CAL.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_add_workdays_zero_and_negative() -> None:
    """n=0 gives the date itself; a negative n is a caller bug."""
    assert CAL.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError, match="n >= 0"):
        CAL.add_workdays(date(2026, 10, 3), -1)


def test_year_without_data_falls_back_to_weekends_only() -> None:
    """In 2027 (no data) Fri 2027-01-01 counts as a working day and Sat 2027-01-02 does not."""
    assert CAL.is_workday(date(2027, 1, 1)) is True
    assert CAL.is_workday(date(2027, 1, 2)) is False
    assert CAL.add_workdays(date(2026, 12, 31), 2) == date(2027, 1, 4)


def test_fallback_years_between() -> None:
    """Uncovered years in a span are listed, in either argument order; covered spans give []."""
    assert CAL.fallback_years_between(date(2026, 12, 30), date(2028, 1, 5)) == [2027, 2028]
    assert CAL.fallback_years_between(date(2027, 1, 5), date(2026, 12, 30)) == [2027]
    assert CAL.fallback_years_between(date(2026, 1, 1), date(2026, 12, 31)) == []


def test_weekends_only_calendar() -> None:
    """A calendar with no year data covers nothing and treats Mon-Fri as working days."""
    cal = WorkCalendar.weekends_only()
    assert (cal.version, cal.covers(2026), cal.is_workday(date(2026, 10, 1))) == (
        "weekends-only",
        False,
        True,
    )


def test_year_data_rejects_a_day_both_holiday_and_workday() -> None:
    """YearData refuses a date that is both a holiday and a make-up working day."""
    d = date(2027, 1, 2)
    with pytest.raises(ConfigError, match="2027-01-02 both"):
        YearData(frozenset({d}), frozenset({d}))


def test_next_workday_gives_up_on_broken_data() -> None:
    """Data with no working day for over a year cannot hang the search: it raises ConfigError."""
    years = {
        y: YearData(frozenset(date(y, 1, 1) + timedelta(days=i) for i in range(365)), frozenset())
        for y in (2030, 2031)
    }
    cal = WorkCalendar(years, "broken")
    with pytest.raises(ConfigError, match="no working day"):
        cal.next_workday(date(2030, 1, 1))


def test_warn_if_uncovered_logs_each_missing_year() -> None:
    """Uncovered years are logged at warning level with the fallback explained; covered are not."""
    with capture_logs() as logs:
        missing = warn_if_uncovered(CAL, [2026, 2027, 2027], structlog.get_logger())
    assert missing == [2027]
    assert logs == [
        {
            "event": "calendar_year_not_covered",
            "log_level": "warning",
            "year": 2027,
            "calendar_version": CAL.version,
            "fallback": FALLBACK_EXPLANATION,
        }
    ]


def test_warn_if_uncovered_is_silent_when_covered() -> None:
    """Nothing is logged when every year has data."""
    with capture_logs() as logs:
        missing = warn_if_uncovered(CAL, range(2020, 2027), structlog.get_logger())
    assert (missing, logs) == ([], [])


def test_override_file_adds_2027_and_changes_the_version(tmp_path: Path) -> None:
    """An override year is used instead of the fallback; the version carries the file's hash."""
    path = write(tmp_path, OVERRIDE_2027)
    cal = load_calendar(path)
    digest = hashlib.sha256(OVERRIDE_2027.encode()).hexdigest()[:12]
    assert cal.version == f"chinesecalendar-1.11.0+overrides-{digest}"
    assert cal.covers(2027) is True
    assert cal.is_workday(date(2027, 1, 1)) is False
    assert cal.is_workday(date(2027, 1, 9)) is True
    assert cal.is_workday(date(2026, 10, 1)) is False


def test_override_year_replaces_package_year(tmp_path: Path) -> None:
    """An override for a covered year replaces the package's data for that year entirely."""
    path = write(tmp_path, '[years.2026]\nholidays = ["2026-12-31"]\n')
    cal = load_calendar(path)
    assert cal.is_workday(date(2026, 10, 1)) is True
    assert cal.is_workday(date(2026, 10, 10)) is False
    assert cal.is_workday(date(2026, 12, 31)) is False


def example_text() -> str:
    """The shipped override example."""
    data = resources.files("ledger13710").joinpath("data")
    return data.joinpath("calendar-overrides.example.toml").read_text(encoding="utf-8")


def test_shipped_example_loads_as_is(tmp_path: Path) -> None:
    """The example file, all commented out, is a valid override file adding no year."""
    cal = load_calendar(write(tmp_path, example_text()))
    assert cal.covers(2027) is False


def test_shipped_example_2027_table_is_valid_format(tmp_path: Path) -> None:
    """Uncommented, the example's (made-up) 2027 table passes validation."""
    lines = example_text().splitlines()
    start = lines.index("# [years.2027]")
    body = "\n".join(line.removeprefix("# ") for line in lines[start:])
    cal = load_calendar(write(tmp_path, body))
    assert (cal.covers(2027), cal.is_workday(date(2027, 10, 9))) == (True, True)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[years.2027]\nholidays = ["2027-02-30"]\n', "years.2027.holidays: bad date '2027-02-30'"),
        ('[years.2027]\nholidays = ["27-1-1"]\n', "years.2027.holidays: bad date"),
        ("[years.2027]\nholidays = [20270101]\n", "years.2027.holidays: bad date 20270101"),
        (
            '[years.2027]\nholidays = ["2027-01-02"]\nworkdays = ["2027-01-02"]\n',
            "years.2027: 2027-01-02 listed both in holidays and in workdays",
        ),
        (
            '[years.2027]\nholidays = []\nworkdays = ["2027-02-03"]\n',
            "years.2027.workdays: 2027-02-03 is a Wednesday",
        ),
        ('[years.2027]\nholidays = ["2028-01-01"]\n', "years.2027.holidays: 2028-01-01 is not"),
        (
            '[years.2027]\nholidays = ["2027-01-01", "2027-01-01"]\n',
            "2027-01-01 is listed twice",
        ),
        ('[years.2027]\nholidays = []\nnotes = "x"\n', "years.2027: unknown key(s) ['notes']"),
        ("[years.2027]\nworkdays = []\n", "years.2027: 'holidays' is missing"),
        ("[years.27]\nholidays = []\n", "years.27: the table name must be a 4-digit year"),
        ('[years.2027]\nholidays = "2027-01-01"\n', "years.2027.holidays: must be a list"),
        ("[year.2027]\nholidays = []\n", "unknown top-level key(s) ['year']"),
        ("[years.2027\n", "not a valid UTF-8 TOML file"),
    ],
)
def test_bad_override_file_names_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    """A malformed override file raises ConfigError naming the file and what is wrong."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_calendar(path)
    assert str(err.value).startswith(f"{path}: ")
    assert fragment in str(err.value)


def test_missing_override_file(tmp_path: Path) -> None:
    """A missing override file is a ConfigError naming the path."""
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match="cannot read the calendar override file"):
        load_calendar(path)
