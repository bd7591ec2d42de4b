"""Item numbers: ``<node>-<year>-<seq>`` issued by one counter aggregate per node and year.

The counter is saved in the same transaction as the item it numbers, and optimistic
concurrency on the counter means two registrations can never get the same number (the
application retries a registration that lost that race with the next number).

Every number, issued or given, has the shape :func:`~ledger13710.domain.guards.check_number`
checks (``guards.NUMBER_SHAPE``, documented in ``docs/limits.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from ledger13710.domain.events import ItemEvent, event
from ledger13710.domain.item import ITEM_NAMESPACE
from ledger13710.domain.types import ItemNumber


@event("NumberIssued", kind="numbering")
class NumberIssued(ItemEvent, frozen=True, kw_only=True):
    """An item number was issued; ``number`` is the full number."""

    number: ItemNumber


class Numbering:
    """The counter of one node and year; its version is the last sequence issued."""

    def __init__(self, prefix: str, year: int, version: int = 0) -> None:
        self.prefix = prefix
        self.year = year
        self._version = version
        self._pending: list[NumberIssued] = []

    @staticmethod
    def id_for(prefix: str, year: int) -> UUID:
        """Aggregate id of the counter for ``prefix`` and ``year``."""
        return uuid5(ITEM_NAMESPACE, f"numbering:{prefix}:{year}")

    @property
    def id(self) -> UUID:
        """Aggregate id."""
        return self.id_for(self.prefix, self.year)

    @property
    def version(self) -> int:
        """Last sequence issued."""
        return self._version

    @version.setter
    def version(self, value: int) -> None:
        self._version = value

    def issue(self, now: datetime, actor: str, unit: str) -> str:
        """Issue the next number."""
        seq = self._version + 1
        number = f"{self.prefix}-{self.year}-{seq:04d}"
        self._pending.append(
            NumberIssued(
                originator_id=self.id,
                originator_version=seq,
                timestamp=now,
                actor=actor,
                unit=unit,
                number=number,
            )
        )
        self._version = seq
        return number

    def collect_events(self) -> Sequence[NumberIssued]:
        """Hand over the events emitted since the last save."""
        pending, self._pending = self._pending, []
        return pending


def project_numbering(agg: Numbering | None, events: Iterable[Any]) -> Numbering | None:
    """Fold NumberIssued events: only the last version matters."""
    for e in events:
        if agg is None:
            prefix, year, _ = e.number.rsplit("-", 2)
            agg = Numbering(prefix, int(year))
        agg.version = e.originator_version
    return agg
