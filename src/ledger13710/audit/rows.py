"""The rows an auditor reads from a log and its chain, with a name for every column.

A log entry and a chain link are the very types the write path hashes and stores
(:class:`~ledger13710.log.chain.LogEntry`, :class:`~ledger13710.log.chain.ChainLink`), so the
verifier reads ``c.chain_hash`` where it read ``c[3]``; this module adds the merged view.
"""

from __future__ import annotations

from typing import NamedTuple

from ledger13710.log.chain import ChainLink, LogEntry


class JoinedRow(NamedTuple):
    """One position of the log and the chain merged (either side may be missing there)."""

    seq: int
    entry: LogEntry | None
    link: ChainLink | None
