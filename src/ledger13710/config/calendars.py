"""Calendar adapter: builds the domain's :class:`WorkCalendar` from real data.

Sources, in order of precedence:

1. an operator-editable override TOML (see ``data/calendar-overrides.example.toml``); a year
   listed there *replaces* the package's data for that year;
2. the ``chinesecalendar`` package (``chinese_calendar.constants.holidays`` / ``.workdays``,
   dicts from ``date`` to the holiday's name).

The calendar's version names both, e.g. ``chinesecalendar-1.11.0`` or
``chinesecalendar-1.11.0+overrides-0123456789ab`` (first 12 hex digits of the override file's
SHA-256), so every deadline records exactly which table produced it.

Years with no data fall back to weekends-only; the application calls :func:`warn_if_uncovered`
at start-up so an operator sees it and adds the year to the override file.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any, Protocol

import chinese_calendar
from chinese_calendar import constants as cc_constants

from ledger13710.domain.calendar import WorkCalendar, YearData, is_weekend
from ledger13710.domain.errors import ConfigError

#: What a year without data means, in words for the log and the operator.
FALLBACK_EXPLANATION = (
    "no official holiday table for this year: Monday-Friday count as working days and "
    "Saturday/Sunday do not (weekends-only fallback); public holidays and make-up working "
    "days (调休) are ignored. Add the year to the calendar override file once the State "
    "Council notice is published."
)

_MIN_YEAR = 1900
_MAX_YEAR = 2200
_YEAR_KEYS = frozenset({"holidays", "workdays", "source"})


class WarningLogger(Protocol):
    """The part of a structlog logger that :func:`warn_if_uncovered` uses."""

    def warning(self, event: str, **kw: Any) -> Any:
        """Log ``event`` at warning level."""
        ...


def package_version() -> str:
    """Version of the installed ``chinesecalendar`` package."""
    return str(getattr(chinese_calendar, "__version__", "unknown"))


def package_years() -> dict[int, YearData]:
    """The years the ``chinesecalendar`` package has data for."""
    holidays: dict[int, set[date]] = defaultdict(set)
    workdays: dict[int, set[date]] = defaultdict(set)
    for d in cc_constants.holidays:
        holidays[d.year].add(d)
    for d in cc_constants.workdays:
        workdays[d.year].add(d)
    return {
        year: YearData(frozenset(holidays[year]), frozenset(workdays[year]))
        for year in sorted(set(holidays) | set(workdays))
    }


def load_calendar(overrides_path: Path | None = None) -> WorkCalendar:
    """The package's calendar, with the years in ``overrides_path`` (if given) replacing it."""
    years = package_years()
    version = f"chinesecalendar-{package_version()}"
    if overrides_path is not None:
        raw = _read(overrides_path)
        years.update(parse_overrides(raw, str(overrides_path)))
        digest = hashlib.sha256(raw).hexdigest()[:12]
        version = f"{version}+overrides-{digest}"
    return WorkCalendar(years, version)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the calendar override file: {exc}") from exc


def parse_overrides(raw: bytes, source: str) -> dict[int, YearData]:
    """Parse an override file's bytes; ``source`` names the file in error messages."""
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{source}: not a valid UTF-8 TOML file: {exc}") from exc
    unknown = sorted(set(doc) - {"years"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {unknown}; only [years.<YYYY>]")
    years = doc.get("years", {})
    if not isinstance(years, dict):
        raise ConfigError(f"{source}: 'years' must be a table of [years.<YYYY>] tables")
    return {_year_key(key, source): _year(key, value, source) for key, value in years.items()}


def _year_key(key: str, source: str) -> int:
    if not (key.isascii() and key.isdigit() and len(key) == 4):
        raise ConfigError(f"{source}: years.{key}: the table name must be a 4-digit year")
    year = int(key)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ConfigError(f"{source}: years.{key}: year out of range {_MIN_YEAR}-{_MAX_YEAR}")
    return year


def _year(key: str, value: object, source: str) -> YearData:
    where = f"{source}: years.{key}"
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: must be a table with 'holidays' and 'workdays'")
    unknown = sorted(set(value) - _YEAR_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_YEAR_KEYS)}")
    if "holidays" not in value:
        raise ConfigError(f"{where}: 'holidays' is missing (use [] if there are none)")
    src = value.get("source", "")
    if not isinstance(src, str):
        raise ConfigError(f"{where}.source: must be a string")
    year = int(key)
    holidays = _dates(value["holidays"], f"{where}.holidays", year)
    workdays = _dates(value.get("workdays", []), f"{where}.workdays", year)
    both = sorted(holidays & workdays)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise ConfigError(f"{where}: {listed} listed both in holidays and in workdays")
    for d in sorted(workdays):
        if not is_weekend(d):
            raise ConfigError(
                f"{where}.workdays: {d.isoformat()} is a {d.strftime('%A')}; 'workdays' lists "
                "only weekend days that are working days (调休)"
            )
    return YearData(frozenset(holidays), frozenset(workdays))


def _dates(value: object, where: str, year: int) -> set[date]:
    if not isinstance(value, list):
        raise ConfigError(f'{where}: must be a list of dates like "{year}-01-01"')
    out: set[date] = set()
    for item in value:
        d = _date(item, where)
        if d.year != year:
            raise ConfigError(f"{where}: {d.isoformat()} is not in {year}")
        if d in out:
            raise ConfigError(f"{where}: {d.isoformat()} is listed twice")
        out.add(d)
    return out


def _date(item: object, where: str) -> date:
    if isinstance(item, date) and not hasattr(item, "hour"):
        return item
    if isinstance(item, str):
        try:
            if len(item) == 10:
                return date.fromisoformat(item)
        except ValueError:
            pass
    raise ConfigError(f'{where}: bad date {item!r}; write dates as "YYYY-MM-DD"')


def warn_if_uncovered(
    calendar: WorkCalendar, years: Iterable[int], log: WarningLogger
) -> list[int]:
    """Log a warning for each of ``years`` the calendar has no data for; return those years."""
    missing = sorted({y for y in years if not calendar.covers(y)})
    for year in missing:
        log.warning(
            "calendar_year_not_covered",
            year=year,
            calendar_version=calendar.version,
            fallback=FALLBACK_EXPLANATION,
        )
    return missing
