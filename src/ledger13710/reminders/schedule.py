"""When a reminder goes out: offsets from recorded deadlines, overdue repeats, quiet hours.

Pure functions of recorded values and the policy; the index and the engine share them.

* before-due: ``due_at - remind_before_s`` (the recorded offset of that deadline);
* overdue, occurrence ``k`` (1, 2, …): ``due_at + 1s + (k - 1) * overdue_repeat_s``;
* urge: the instant the supervisor urged.

**Quiet hours** (a policy option, off by default): an instant inside the window moves to the
window's end, the morning. A before-due reminder whose morning would be at or after its due
time moves instead to the last minute before the window starts, the evening before, so it is
still of use; either way the shift is recorded with the reminder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger13710.domain.policy import QuietHours
from ledger13710.domain.reminder_events import ReminderKind
from ledger13710.domain.types import SHANGHAI

OVERDUE_GRACE = timedelta(seconds=1)


def before_due_at(due_at: datetime, remind_before_s: int) -> datetime:
    """The planned instant of a before-due reminder."""
    return due_at - timedelta(seconds=remind_before_s)


def overdue_at(due_at: datetime, occurrence: int, repeat_s: int) -> datetime:
    """The planned instant of overdue notice number ``occurrence`` (1-based)."""
    return due_at + OVERDUE_GRACE + timedelta(seconds=repeat_s * (occurrence - 1))


def latest_overdue(due_at: datetime, now: datetime, repeat_s: int) -> int:
    """The highest overdue occurrence whose planned instant is at or before ``now`` (>= 1)."""
    elapsed = (now - overdue_at(due_at, 1, repeat_s)).total_seconds()
    return 1 + max(int(elapsed // repeat_s), 0)


def in_quiet(quiet: QuietHours, instant: datetime) -> bool:
    """Whether ``instant`` falls inside the quiet window (always False when disabled)."""
    if not quiet.enabled:
        return False
    t = instant.astimezone(SHANGHAI).time()
    if quiet.start < quiet.end:
        return quiet.start <= t < quiet.end
    return t >= quiet.start or t < quiet.end


def _window_end(quiet: QuietHours, instant: datetime) -> datetime:
    local = instant.astimezone(SHANGHAI)
    end = datetime.combine(local.date(), quiet.end, tzinfo=SHANGHAI)
    return end if end > local else end + timedelta(days=1)


def _window_start(quiet: QuietHours, instant: datetime) -> datetime:
    local = instant.astimezone(SHANGHAI)
    start = datetime.combine(local.date(), quiet.start, tzinfo=SHANGHAI)
    return start if start <= local else start - timedelta(days=1)


def shift_quiet(
    quiet: QuietHours, planned: datetime, due_at: datetime | None, kind: ReminderKind
) -> tuple[datetime, str]:
    """Where ``planned`` moves under quiet hours, and the recorded shift ("" when none)."""
    if not in_quiet(quiet, planned):
        return planned, ""
    morning = _window_end(quiet, planned)
    if kind == ReminderKind.BEFORE_DUE and due_at is not None and morning >= due_at:
        evening = _window_start(quiet, planned) - timedelta(minutes=1)
        return evening, "evening"
    return morning, "morning"


def quiet_end(quiet: QuietHours, instant: datetime) -> datetime:
    """The end of the quiet window ``instant`` is in."""
    return _window_end(quiet, instant)


__all__ = [
    "before_due_at",
    "in_quiet",
    "latest_overdue",
    "overdue_at",
    "quiet_end",
    "shift_quiet",
]
