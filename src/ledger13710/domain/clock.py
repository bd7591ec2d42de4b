"""Time as the domain sees it: injected, never read from the wall directly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from ledger13710.domain.types import SHANGHAI


class Clock(Protocol):
    """Something that tells the current instant, as an aware datetime."""

    def now(self) -> datetime:
        """Return the current instant (timezone-aware)."""
        ...


class ManualClock:
    """A clock that tests and demos set and advance by hand."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=SHANGHAI)
        self._now = start

    def now(self) -> datetime:
        """Return the instant the clock was last set to."""
        return self._now

    def set(self, instant: datetime) -> None:
        """Move the clock to ``instant`` (naive values are read as Shanghai time)."""
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=SHANGHAI)
        self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new instant."""
        self._now = self._now + delta
        return self._now
