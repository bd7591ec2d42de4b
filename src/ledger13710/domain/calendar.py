"""The working-day calendar (工作日历): which local dates are working days.

China moves working days around public holidays (调休): a holiday period may swallow weekdays
and be paid back by working on a Saturday or Sunday. The official table is published once a
year by the State Council General Office, so the calendar is *data*, injected here by the
adapter ``ledger13710.config.calendars`` (which reads the ``chinesecalendar`` package and an
operator override file). This module is pure: it does no I/O and never reads the wall clock.

A year without data falls back to *weekends only*: Monday to Friday are working days, Saturday
and Sunday are not. Callers find out with :meth:`WorkCalendar.fallback_years_between` and flag
the result (``Deadline.calendar_fallback``) so a deadline computed on the fallback can be told
apart from one computed on the official table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from ledger13710.domain.errors import ConfigError

#: How far :meth:`WorkCalendar.next_workday` looks before it gives up. No real calendar has a
#: run of non-working days this long; only broken data can get here.
MAX_SEARCH_DAYS = 366

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class YearData:
    """Official data for one year.

    ``holidays`` are the days off of the public-holiday periods (weekend days inside a period
    may be listed too); ``workdays`` are the make-up working days (调休) that fall on a weekend.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]

    def __post_init__(self) -> None:
        both = self.holidays & self.workdays
        if both:
            days = ", ".join(d.isoformat() for d in sorted(both))
            raise ConfigError(f"calendar data lists {days} both as holiday and as workday")


def is_weekend(d: date) -> bool:
    """True on Saturday and Sunday."""
    return d.weekday() >= _SATURDAY


class WorkCalendar:
    """Working days per the official table for covered years, weekends-only elsewhere."""

    __slots__ = ("_version", "_years")

    def __init__(self, years: Mapping[int, YearData], version: str) -> None:
        if not version:
            raise ConfigError("a calendar needs a non-empty version")
        self._years: Mapping[int, YearData] = MappingProxyType(dict(years))
        self._version = version

    @classmethod
    def weekends_only(cls, version: str = "weekends-only") -> WorkCalendar:
        """A calendar without any year data: Monday to Friday are working days."""
        return cls({}, version)

    @property
    def version(self) -> str:
        """Identifies the data; recorded in every deadline computed with this calendar."""
        return self._version

    @property
    def years(self) -> Mapping[int, YearData]:
        """The year data, read-only."""
        return self._years

    def covered_years(self) -> list[int]:
        """The years with official data, ascending."""
        return sorted(self._years)

    def covers(self, year: int) -> bool:
        """True when ``year`` has official data (no weekends-only fallback)."""
        return year in self._years

    def is_workday(self, d: date) -> bool:
        """True when ``d`` is a working day."""
        data = self._years.get(d.year)
        if data is not None:
            if d in data.workdays:
                return True
            if d in data.holidays:
                return False
        return not is_weekend(d)

    def next_workday(self, d: date, inclusive: bool = True) -> date:
        """The first working day on or after ``d`` (strictly after when not ``inclusive``)."""
        day = d if inclusive else d + timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_workday(day):
                return day
            day += timedelta(days=1)
        raise ConfigError(
            f"calendar {self._version} has no working day in the {MAX_SEARCH_DAYS} days "
            f"from {d.isoformat()}: check its holiday data"
        )

    def add_workdays(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (``d`` itself does not count; n=0 gives ``d``)."""
        if n < 0:
            raise ValueError(f"add_workdays needs n >= 0, got {n}")
        day = d
        for _ in range(n):
            day = self.next_workday(day, inclusive=False)
        return day

    def fallback_years_between(self, d1: date, d2: date) -> list[int]:
        """Years from ``d1`` to ``d2`` (either order, inclusive) that have no data, ascending."""
        lo, hi = sorted((d1.year, d2.year))
        return [y for y in range(lo, hi + 1) if y not in self._years]

    def __repr__(self) -> str:
        years = self.covered_years()
        span = f"{years[0]}-{years[-1]}" if years else "none"
        return f"WorkCalendar(version={self._version!r}, years={span})"
