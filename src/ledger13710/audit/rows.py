"""The rows an auditor reads from a log and its chain, with a name for every column.

They are the tuples the write path hashes (:data:`ledger13710.log.chain.LogRow` and
:data:`~ledger13710.log.chain.ChainRow`, same columns in the same order) with names on top, so
the verifier reads ``c.chain_hash`` where it read ``c[3]``, and a row still passes wherever
the plain tuple is expected.
"""

from __future__ import annotations

from typing import NamedTuple


class LogEntry(NamedTuple):
    """One record of the log as stored: what its record hash covers besides origin and link."""

    seq: int
    topic: str
    originator_id: str  # hyphenated, as the record hash spells it
    originator_version: int
    state: bytes


class ChainLink(NamedTuple):
    """One row of the ``chain`` table, hashes raw."""

    seq: int
    prev_seq: int
    record_hash: bytes
    chain_hash: bytes


class JoinedRow(NamedTuple):
    """One position of the log and the chain merged (either side may be missing there)."""

    seq: int
    entry: LogEntry | None
    link: ChainLink | None
