"""What the read side needs of the replicated logs, defined here so it points down, not across.

``replication/replica_store.py`` provides it; views (``projections/source.py``) use it; only the
composition root (``node/``) puts the two together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ledger13710.log.record import Record


class OriginPosition(Protocol):
    """One replicated origin as the replica store reports it."""

    @property
    def origin(self) -> str:
        """The origin's node id."""
        ...


class ReplicaLog(Protocol):
    """The descendants' logs a node holds, read by origin and position."""

    def statuses(self) -> Sequence[OriginPosition]:
        """Every origin held."""
        ...

    def last_seq(self, origin: str) -> int:
        """Last position applied for ``origin`` (0 when none)."""
        ...

    def records(self, origin: str, after: int = 0, limit: int | None = None) -> Sequence[Record]:
        """``origin``'s records after position ``after`` in order (at most ``limit``)."""
        ...

    def close(self) -> None:
        """Release the store."""
        ...
