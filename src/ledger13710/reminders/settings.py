"""What the reminder engine is given and what it gives back.

Its tunables from ``[reminders]`` (with the retry backoff they set), where it reads contacts
from at send time, and the report of one tick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from ledger13710.domain.directory import Directory

MAX_RETRY_S = 3600


class DirectorySource(Protocol):
    """Where contacts come from at send time (the node's ``DirectoryStore``)."""

    def directory(self) -> Directory:
        """The directory as stored now."""
        ...


@dataclass(frozen=True)
class EngineSettings:
    """Tunables, from ``[reminders]`` in the node TOML."""

    late_after_s: int = 300
    retry_after_s: int = 60
    alert_after: int = 3
    max_parts: int = 3
    batch: int = 500

    def backoff(self, attempt: int) -> int:
        """Seconds to wait after failed ``attempt`` (1-based): doubling, at most an hour."""
        return int(min(self.retry_after_s * 2 ** (attempt - 1), MAX_RETRY_S))


@dataclass
class TickReport:
    """What one tick did."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    cancelled: int = 0
    postponed: int = 0
    receipts: int = 0
    errors: list[str] = field(default_factory=list)
