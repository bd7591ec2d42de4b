"""The hash chain over a node's log: every record commits to the one before it.

For the record at position ``seq`` whose previous record is at ``prev`` (0 for the first):

- ``record_hash`` = :func:`ledger13710.log.record.record_digest` over origin, seq, prev,
  topic, originator id, version and the stored event bytes (the hash replication carries);
- ``chain_hash``  = ``SHA-256(previous chain_hash ‖ record_hash)``, both as raw 32 bytes, with
  :data:`GENESIS` before the first record.

So a chain hash commits to the whole log up to its record, in order, and to the origin.
"""

from __future__ import annotations

from hashlib import sha256
from typing import NamedTuple

from ledger13710.log.record import Record, record_digest, record_hash

#: The chain hash "before the first record": SHA-256 of a fixed label.
GENESIS = sha256(b"ledger13710 chain genesis v1").digest()


class LogEntry(NamedTuple):
    """One position of the log as the chain sees it: what its record hash covers besides the
    origin and the back-link. The write path hashes it; the auditor reads it back by name."""

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


def as_read(row: tuple[int, int, object, object]) -> ChainLink:
    """A chain row as the verifier uses it: a hash column rewritten with another type (SQLite
    keeps any) becomes the bytes of what is there, so it is a finding, never a crash. A
    back-link that is not an integer is left as it is (it equals no position)."""
    seq, prev, rh, ch = row
    return ChainLink(seq, prev, as_bytes(rh), as_bytes(ch))


def as_bytes(value: object) -> bytes:
    """A stored value as the bytes it holds (SQLite keeps any type in any column): bytes as
    they are, anything else as its text, so a rewritten column is hashed as what is there."""
    if isinstance(value, bytes):
        return value
    return b"" if value is None else str(value).encode()


class ChainError(ValueError):
    """A record does not continue the chain it claims to continue."""


def chain_next(prev_chain_hash: bytes, record_digest: bytes) -> bytes:
    """``SHA-256(prev_chain_hash ‖ record_digest)``."""
    return sha256(prev_chain_hash + record_digest).digest()


def verify_next(prev_chain_hash: str, record: Record, chain_hash: str) -> str:
    """Check that ``record`` (hex ``chain_hash`` as received) continues the chain; return it.

    For the ingesting parent (phase 2): ``prev_chain_hash`` is the chain hash of the last record
    applied from this origin (``GENESIS.hex()`` before the first). Raises :class:`ChainError`
    naming what is wrong.
    """
    expected_record = record_hash(
        record.origin, record.seq, record.prev, record.topic, record.originator_id,
        record.originator_version, record.state,
    )  # fmt: skip
    if expected_record != record.hash:
        raise ChainError(f"{record.origin}:{record.seq}: content does not match its record hash")
    expected = chain_next(bytes.fromhex(prev_chain_hash), bytes.fromhex(record.hash)).hex()
    if expected != chain_hash:
        raise ChainError(
            f"{record.origin}:{record.seq}: chain hash does not continue the chain after "
            f"position {record.prev}"
        )
    return expected


def link(origin: str, prev_seq: int, prev_hash: bytes, rows: list[LogEntry]) -> list[ChainLink]:
    """Chain rows for ``rows`` (in log order) after the chain tail ``(prev_seq, prev_hash)``."""
    out: list[ChainLink] = []
    for seq, topic, originator_id, version, state in rows:
        digest = record_digest(origin, seq, prev_seq, topic, originator_id, version, state)
        prev_hash = sha256(prev_hash + digest).digest()
        out.append(ChainLink(seq, prev_seq, digest, prev_hash))
        prev_seq = seq
    return out
