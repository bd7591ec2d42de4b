"""The 13710 policy as versioned data, and the deadline arithmetic it drives.

The rules of 13710 (deploy the same day, feed back within 3 days, resolve a general problem
within 7 days or a major/complex one within 1 month, remind 5h/5h/24h/48h before) live in a
TOML file (``data/policy-13710-v1.toml``), decoded into the frozen :class:`Policy`. Every due
time is computed once, when its clock starts, and recorded as a :class:`Deadline` carrying the
policy version and calendar version, so replay never depends on the rules in force today.

Due semantics
-------------
* All local times are China Standard Time (``SHANGHAI``, Asia/Shanghai, UTC+8, no DST).
  ``started_at`` must be timezone-aware (naive values raise ``ValueError``: a caller bug); it is
  converted to Shanghai time and its local date is the *start date*.
* A due time is the END of a local day: 23:59:59 Shanghai time (see :func:`end_of_day`).
* ``days = 0`` (deploy, the "1"): end of the start date. On the working-day basis, when the
  start date is not a working day, end of the next working day.
* ``days = N`` (N > 0): calendar basis, end of (start date + N days); working basis, end of the
  N-th working day after the start date (the start date itself never counts).
* ``months = N``: end of the same day of the month N months later, clamped to that month's last
  day (Jan 31 + 1 month = Feb 28, or Feb 29 in a leap year). On the working-day basis, when
  that day is not a working day, end of the next working day.
* ``Deadline.calendar_fallback`` is True when, on the working-day basis, any year from the start
  date to the due date has no calendar data (weekends-only fallback). Calendar basis never
  consults the calendar, so it never falls back; the calendar version is still recorded.
* ``remind_before_s``: the SMS reminder goes out that many seconds before ``due_at``.
* Plan milestones take their due time from the plan as given (``milestone_deadline``);
  extensions (延期) keep clock, start and reminder offset of the deadline they replace and
  record the policy and calendar versions in force when the extension is approved.

Durations in the file are strings of whole units, strictly ``<n>d``, ``<n>h``, ``<n>m``,
``<n>s`` or a descending combination such as ``1h30m``.
"""

from __future__ import annotations

import calendar as _stdcal
import re
from datetime import date, datetime, time, timedelta
from typing import Protocol, TypeVar

import msgspec

from ledger13710.domain.attachments import AttachmentRules, AttachmentsFile, parse_rules
from ledger13710.domain.calendar import WorkCalendar
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.domain.types import (
    SHANGHAI,
    Clock,
    DayBasis,
    Deadline,
    Severity,
    milestone_clock,
)

#: Sanity bounds, so a typo cannot make a clock run for years.
MAX_DAYS = 3660
MAX_MONTHS = 120

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_END_OF_DAY = time(23, 59, 59)


# --- the file, as written -------------------------------------------------------------------


class RuleFile(msgspec.Struct, forbid_unknown_fields=True):
    """One clock's rule as written in the TOML file."""

    remind_before: str
    days: int = 0
    months: int = 0


class QuietHoursFile(msgspec.Struct, forbid_unknown_fields=True):
    """``[quiet_hours]`` as written: no SMS between ``start`` and ``end`` when enabled."""

    enabled: bool = False
    start: str = "22:00"
    end: str = "07:00"


class PolicyFile(msgspec.Struct, forbid_unknown_fields=True):
    """The whole policy file as written; :func:`parse_policy` validates it into a Policy."""

    version: str
    name: str
    day_basis: str
    deploy: RuleFile
    feedback: RuleFile
    resolve_general: RuleFile
    resolve_major: RuleFile
    resolve_complex: RuleFile
    description: str = ""
    milestone_remind_before: str = "24h"
    co_units_reminded: bool = False
    quiet_hours: QuietHoursFile = msgspec.field(default_factory=QuietHoursFile)
    overdue_repeat: str = "24h"
    overdue_notify_raising_unit: bool = True
    review: RuleFile | None = None
    attachments: AttachmentsFile = msgspec.field(default_factory=AttachmentsFile)


# --- the validated policy -------------------------------------------------------------------


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """One clock's rule: ``days`` or ``months`` from the start, reminder ``remind_before_s``."""

    days: int = 0
    months: int = 0
    remind_before_s: int


class QuietHours(msgspec.Struct, frozen=True, kw_only=True):
    """No SMS between ``start`` and ``end`` (local time; may wrap midnight) when enabled."""

    enabled: bool = False
    start: time = time(22, 0)
    end: time = time(7, 0)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """A validated, versioned 13710 policy. Build it with :func:`parse_policy`."""

    version: str
    name: str
    day_basis: DayBasis
    deploy: Rule
    feedback: Rule
    resolve_general: Rule
    resolve_major: Rule
    resolve_complex: Rule
    description: str = ""
    milestone_remind_before_s: int = 24 * 3600
    co_units_reminded: bool = False
    quiet_hours: QuietHours = msgspec.field(default_factory=QuietHours)
    overdue_repeat_s: int = 24 * 3600
    overdue_notify_raising_unit: bool = True
    review: Rule | None = None  # the raising side's review clock; None: reviews are not timed
    attachments: AttachmentRules = msgspec.field(default_factory=AttachmentRules)

    def rule(self, clock: Clock, severity: Severity) -> Rule:
        """The rule of a standing clock; the resolve rule depends on ``severity``."""
        if clock is Clock.DEPLOY:
            return self.deploy
        if clock is Clock.FEEDBACK:
            return self.feedback
        if severity is Severity.GENERAL:
            return self.resolve_general
        if severity is Severity.MAJOR:
            return self.resolve_major
        return self.resolve_complex

    def due_date(self, rule: Rule, start: date, calendar: WorkCalendar) -> date:
        """The local date whose end is due, for ``rule`` started on local date ``start``."""
        working = self.day_basis == "working"
        if rule.months:
            target = add_months(start, rule.months)
            return calendar.next_workday(target) if working else target
        if not working:
            return start + timedelta(days=rule.days)
        if rule.days == 0:
            return calendar.next_workday(start)
        return calendar.add_workdays(start, rule.days)

    def deadline(
        self, clock: Clock, started_at: datetime, severity: Severity, calendar: WorkCalendar
    ) -> Deadline:
        """The deadline of standing clock ``clock`` started at ``started_at``."""
        return self._ruled(clock.value, self.rule(clock, severity), started_at, calendar)

    def review_deadline(
        self, clock: str, started_at: datetime, calendar: WorkCalendar
    ) -> Deadline | None:
        """The deadline of review clock ``clock`` started at ``started_at``; None when the
        policy does not time reviews."""
        if self.review is None:
            return None
        return self._ruled(clock, self.review, started_at, calendar)

    def _ruled(
        self, clock: str, rule: Rule, started_at: datetime, calendar: WorkCalendar
    ) -> Deadline:
        """The deadline ``rule`` gives clock ``clock`` started at ``started_at``."""
        start = _local(started_at, "started_at")
        due = self.due_date(rule, start.date(), calendar)
        return Deadline(
            clock=clock,
            started_at=start,
            due_at=end_of_day(due),
            remind_before_s=rule.remind_before_s,
            policy_version=self.version,
            calendar_version=calendar.version,
            day_basis=self.day_basis,
            calendar_fallback=(
                self.day_basis == "working"
                and bool(calendar.fallback_years_between(start.date(), due))
            ),
        )

    def milestone_deadline(
        self, index: int, started_at: datetime, due_at: datetime, calendar: WorkCalendar
    ) -> Deadline:
        """The deadline of plan milestone ``index`` (1-based), due when the plan says."""
        if index < 1:
            raise ValueError(f"milestone index is 1-based, got {index}")
        start = _local(started_at, "started_at")
        due = _local(due_at, "due_at")
        if due <= start:
            raise InputError(
                f"milestone {index} is due {due.isoformat()}, not after its start "
                f"{start.isoformat()}"
            )
        return Deadline(
            clock=milestone_clock(index),
            started_at=start,
            due_at=due,
            remind_before_s=self.milestone_remind_before_s,
            policy_version=self.version,
            calendar_version=calendar.version,
            day_basis=self.day_basis,
        )

    def extended_deadline(
        self, previous: Deadline, new_due: datetime, approved_at: datetime, calendar: WorkCalendar
    ) -> Deadline:
        """``previous`` moved to ``new_due`` by an extension (延期) approved at ``approved_at``.

        Clock, start and reminder offset stay; versions and day basis are those in force now.
        """
        due = _local(new_due, "new_due")
        approved = _local(approved_at, "approved_at")
        if due <= previous.due_at:
            raise InputError(
                f"an extension must move the {previous.clock} deadline later than "
                f"{previous.due_at.isoformat()}, got {due.isoformat()}"
            )
        if due <= approved:
            raise InputError(
                f"the extended {previous.clock} deadline {due.isoformat()} is not after the "
                f"approval at {approved.isoformat()}"
            )
        return Deadline(
            clock=previous.clock,
            started_at=previous.started_at,
            due_at=due,
            remind_before_s=previous.remind_before_s,
            policy_version=self.version,
            calendar_version=calendar.version,
            day_basis=self.day_basis,
        )


# --- helpers --------------------------------------------------------------------------------


def end_of_day(d: date) -> datetime:
    """23:59:59 Shanghai time on local date ``d``: when a due day ends."""
    return datetime.combine(d, _END_OF_DAY, tzinfo=SHANGHAI)


def add_months(d: date, months: int) -> date:
    """Same day of the month ``months`` later, clamped to the last day of that month."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = _stdcal.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def _local(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(SHANGHAI)


def parse_duration(text: str) -> int:
    """Seconds in a strict duration string: ``5h``, ``30m``, ``2d``, ``1h30m``, ``0s``."""
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(
            f"bad duration {text!r}: write whole units like '5h', '30m', '2d' or '1h30m'"
        )
    d, h, m, s = (int(g) if g else 0 for g in match.groups())
    return ((d * 24 + h) * 60 + m) * 60 + s


def _field_duration(text: str, where: str, source: str, positive: bool = False) -> int:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise ConfigError(f"{source}: {where}: {exc}") from None
    if positive and seconds == 0:
        raise ConfigError(f"{source}: {where}: must be longer than zero, got {text!r}")
    return seconds


def _rule(raw: RuleFile, where: str, source: str) -> Rule:
    if raw.days < 0 or raw.days > MAX_DAYS:
        raise ConfigError(f"{source}: {where}.days: must be 0..{MAX_DAYS}, got {raw.days}")
    if raw.months < 0 or raw.months > MAX_MONTHS:
        raise ConfigError(f"{source}: {where}.months: must be 0..{MAX_MONTHS}, got {raw.months}")
    if raw.days and raw.months:
        raise ConfigError(f"{source}: {where}: give either days or months, not both")
    return Rule(
        days=raw.days,
        months=raw.months,
        remind_before_s=_field_duration(raw.remind_before, f"{where}.remind_before", source),
    )


def _clock_time(text: str, where: str, source: str) -> time:
    match = _HHMM.fullmatch(text)
    if match is None:
        raise ConfigError(f"{source}: {where}: bad time {text!r}; write 24-hour 'HH:MM'")
    return time(int(match.group(1)), int(match.group(2)))


class Versioned(Protocol):
    """A rules file that names itself: a version recorded with what it prices, and a name."""

    version: str
    name: str


V = TypeVar("V", bound=Versioned)


def decode_versioned(text: str, source: str, kind: type[V]) -> V:
    """Decode a versioned rules TOML (a policy, points rules) as ``kind`` and check its
    version and name; ``source`` names the file in every error."""
    try:
        raw = msgspec.toml.decode(text, type=kind)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{source}: not a valid TOML file: {exc}") from None
    if not _VERSION.fullmatch(raw.version):
        raise ConfigError(
            f"{source}: version: {raw.version!r} must be non-empty letters, digits, '.', '_', "
            "'+' or '-'"
        )
    if not raw.name.strip():
        raise ConfigError(f"{source}: name: must not be empty")
    return raw


def parse_policy(text: str, source: str) -> Policy:
    """Decode and validate a policy TOML file; ``source`` names it in every error message."""
    raw = decode_versioned(text, source, PolicyFile)
    basis: DayBasis
    if raw.day_basis == "calendar":
        basis = "calendar"
    elif raw.day_basis == "working":
        basis = "working"
    else:
        raise ConfigError(
            f"{source}: day_basis: must be 'calendar' or 'working', got {raw.day_basis!r}"
        )
    qh = raw.quiet_hours
    quiet = QuietHours(
        enabled=qh.enabled,
        start=_clock_time(qh.start, "quiet_hours.start", source),
        end=_clock_time(qh.end, "quiet_hours.end", source),
    )
    if quiet.enabled and quiet.start == quiet.end:
        raise ConfigError(f"{source}: quiet_hours: start and end are equal ({qh.start})")
    return Policy(
        version=raw.version,
        name=raw.name,
        day_basis=basis,
        description=raw.description,
        deploy=_rule(raw.deploy, "deploy", source),
        feedback=_rule(raw.feedback, "feedback", source),
        resolve_general=_rule(raw.resolve_general, "resolve_general", source),
        resolve_major=_rule(raw.resolve_major, "resolve_major", source),
        resolve_complex=_rule(raw.resolve_complex, "resolve_complex", source),
        milestone_remind_before_s=_field_duration(
            raw.milestone_remind_before, "milestone_remind_before", source
        ),
        co_units_reminded=raw.co_units_reminded,
        quiet_hours=quiet,
        overdue_repeat_s=_field_duration(raw.overdue_repeat, "overdue_repeat", source, True),
        overdue_notify_raising_unit=raw.overdue_notify_raising_unit,
        review=None if raw.review is None else _rule(raw.review, "review", source),
        attachments=parse_rules(raw.attachments, source),
    )
