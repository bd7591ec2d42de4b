"""What a parent verifies as it ingests, beyond each record's own content hash.

- **Chain.** Every record carries the origin's chain hash; it must continue the chain hash of
  the last record applied from that origin (:func:`ledger13710.log.chain.verify_next`). A
  record rewritten at the origin with a recomputed record hash breaks the link of the record
  after it.
- **Keys.** The origin's signing key is pinned on first use (its first checkpoint, or the old
  key of its first rotation) and followed through its replicated ``KeyRotated`` records: both
  signatures must verify and the old key must be the pinned one.
- **Checkpoints.** Each signed checkpoint the origin publishes is checked once every record it
  covers is here: the signature by the key in force at its last position, the Merkle root over
  the replicated record hashes, the chain hash there. Until then it waits (``pending``). A
  whole log rewritten at the origin, chain and all, no longer has the root it signed before.

Everything here runs inside the replica store's transaction (``db`` is its connection).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import MapperDeserialisationError

from ledger13710.application.mapper import decode_event
from ledger13710.audit.keys import rotation_ok, signature_ok
from ledger13710.audit.store import CP_COLUMNS, Checkpoint, checkpoint_of
from ledger13710.domain.key_events import KeyRotated
from ledger13710.log.chain import GENESIS, ChainError, verify_next
from ledger13710.log.merkle import CompactRange, leaf_hash
from ledger13710.log.record import BadRecordError, Record, record_digest

SCHEMA = """
CREATE TABLE IF NOT EXISTS replica_checkpoints (
    origin TEXT NOT NULL, tree_size INTEGER NOT NULL, last_seq INTEGER NOT NULL,
    root_hash TEXT NOT NULL, chain_hash TEXT NOT NULL, timestamp TEXT NOT NULL,
    public_key TEXT NOT NULL, signature TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL, received_ns INTEGER NOT NULL, PRIMARY KEY (origin, tree_size)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replica_keys (
    origin TEXT NOT NULL, since_seq INTEGER NOT NULL, public_key TEXT NOT NULL,
    how TEXT NOT NULL, pinned_ns INTEGER NOT NULL, PRIMARY KEY (origin, since_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replica_trees (
    origin TEXT PRIMARY KEY, tree_size INTEGER NOT NULL, state BLOB NOT NULL
);
"""
#: Columns added to tables of replica stores written before the chain was replicated.
MIGRATIONS = {
    "replica_events": ("chain_hash", "TEXT NOT NULL DEFAULT ''"),
    "replica_positions": ("last_chain", "TEXT NOT NULL DEFAULT ''"),
}

PENDING, VERIFIED, REJECTED = "pending", "verified", "rejected"
#: How a key pinned from ``trusted_keys.json`` is marked in ``replica_keys``.
CONFIGURED = "configured"


def check_record(record: Record) -> None:
    """Verify a record before applying it: envelope, hash and the event against its schema."""
    if record.seq <= 0 or not 0 <= record.prev < record.seq:
        raise BadRecordError(f"impossible position seq={record.seq} prev={record.prev}")
    expected = record_digest(
        record.origin, record.seq, record.prev, record.topic, record.originator_id,
        record.originator_version, record.state,
    ).hex()  # fmt: skip
    if expected != record.hash:
        raise BadRecordError("content hash does not match the record (altered in transit?)")
    try:
        event = decode_event(record.topic, record.state)
    except MapperDeserialisationError as e:
        raise BadRecordError(str(e)) from None
    if not same_originator(event.originator_id, record.originator_id):
        raise BadRecordError("event originator differs from the envelope")
    if event.originator_version != record.originator_version:
        raise BadRecordError("event version differs from the envelope")


def same_originator(oid: UUID, envelope: str) -> bool:
    """Whether the envelope names the event's originator (hyphenated or not)."""
    if str(oid) == envelope:
        return True
    try:
        return oid == UUID(envelope)
    except ValueError:  # not a UUID at all
        return False


def migrate(db: sqlite3.Connection) -> None:
    """Create the tables, and add the chain columns to an older replica store."""
    db.executescript(SCHEMA)
    for table, (column, decl) in MIGRATIONS.items():
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if column not in columns:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {decl}")


@dataclass(frozen=True)
class CheckpointOutcome:
    """A checkpoint received or checked: ``pending``, ``verified`` or ``rejected`` (why)."""

    origin: str
    tree_size: int
    last_seq: int
    status: str
    reason: str = ""


# -- chain ----------------------------------------------------------------------------------


def link_problem(prev_chain: str, last_seq: int, r: Record) -> str:
    """Why ``r`` does not continue the chain after ``prev_chain`` ("" when it does).

    ``prev_chain`` is empty for an origin whose records were applied before chain hashes were
    replicated: its chain is then taken up from ``r`` (the checkpoints still cover it all).
    """
    if not r.chain:
        return "no chain hash (sent by a node without the audit chain?)"
    if not prev_chain and last_seq > 0:
        return ""
    try:
        verify_next(prev_chain or GENESIS.hex(), r, r.chain)
    except (ChainError, ValueError) as e:
        return str(e).removeprefix(f"{r.origin}:{r.seq}: ")
    return ""


# -- keys -----------------------------------------------------------------------------------


def key_at(db: sqlite3.Connection, origin: str, seq: int | None = None) -> str:
    """The origin's pinned key in force at position ``seq`` (the latest when None; "" if none)."""
    row = db.execute(
        "SELECT public_key FROM replica_keys WHERE origin = ? AND since_seq <= ? "
        "ORDER BY since_seq DESC LIMIT 1",
        (origin, (1 << 62) if seq is None else seq),
    ).fetchone()
    return "" if row is None else str(row[0])


def configure_key(db: sqlite3.Connection, origin: str, key: str) -> str:
    """Pin ``key`` for ``origin`` from configuration (:mod:`ledger13710.audit.trust`).

    Before anything arrived, or over an earlier configured key, it becomes the key in force
    from the start. A key the origin already signed with is left as pinned. Any other key
    conflicts with what was pinned on first use: the origin is blocked and the reason
    returned ("" when there is no conflict)."""
    rows = db.execute(
        "SELECT public_key, how FROM replica_keys WHERE origin = ? ORDER BY since_seq", (origin,)
    ).fetchall()
    if any(pinned == key for pinned, _ in rows):
        return ""
    if not rows or (len(rows) == 1 and rows[0][1] == CONFIGURED):
        _pin(db, origin, 0, key, CONFIGURED)
        known_origin(db, origin)
        return ""
    known = ", ".join(f"{pinned[:16]}… ({how})" for pinned, how in rows)
    reason = f"the configured key {key[:16]}… is not a key this origin signed with: {known}"
    block_origin(db, origin, reason)
    return reason


def known_origin(db: sqlite3.Connection, origin: str) -> None:
    """Give the origin a position row (nothing applied yet) if it has none, so status lists it."""
    db.execute(
        "INSERT INTO replica_positions (origin, last_seq, count) VALUES (?, 0, 0) "
        "ON CONFLICT (origin) DO NOTHING",
        (origin,),
    )


def block_origin(db: sqlite3.Connection, origin: str, reason: str) -> None:
    """Make the origin's stream wait (the first reason stays until an operator unblocks it)."""
    known_origin(db, origin)
    db.execute(
        "UPDATE replica_positions SET blocked = ? WHERE origin = ? AND blocked = ''",
        (reason, origin),
    )


def _pin(db: sqlite3.Connection, origin: str, since: int, key: str, how: str) -> None:
    db.execute(
        "INSERT OR REPLACE INTO replica_keys VALUES (?, ?, ?, ?, ?)",
        (origin, since, key, how, time.time_ns()),
    )


def follow_rotation(db: sqlite3.Connection, r: Record) -> str:
    """Check a replicated ``KeyRotated`` record and pin its new key; "" or what is wrong."""
    try:
        rotated = decode_event(r.topic, r.state)
    except MapperDeserialisationError as e:
        return f"undecodable key rotation: {e}"
    if not isinstance(rotated, KeyRotated):
        return "not a key rotation"
    if rotated.node != r.origin:
        return f"key rotation of node {rotated.node!r} in the log of {r.origin!r}"
    if not rotation_ok(rotated):
        return "key rotation signatures do not verify"
    pinned = key_at(db, r.origin)
    if pinned and rotated.old_public_key != pinned:
        return f"key rotation is not signed by the pinned key {pinned[:16]}…"
    if not pinned:
        _pin(db, r.origin, 0, rotated.old_public_key, "first use (old key of a rotation)")
    _pin(db, r.origin, r.seq, rotated.new_public_key, f"rotation at {r.seq}")
    return ""


# -- checkpoints ----------------------------------------------------------------------------


def receive_checkpoint(db: sqlite3.Connection, cp: Checkpoint) -> list[CheckpointOutcome]:
    """Store a checkpoint the origin published and check whatever can be checked now."""
    row = db.execute(
        f"SELECT {CP_COLUMNS}, status FROM replica_checkpoints WHERE origin = ? AND tree_size = ?",
        (cp.origin, cp.tree_size),
    ).fetchone()
    if row is not None:
        if checkpoint_of(cp.origin, row) == cp:
            return []  # a duplicate
        return [reject(db, cp, "differs from the checkpoint of this size received before")]
    db.execute(
        "INSERT INTO replica_checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?)",
        (cp.origin, cp.tree_size, cp.last_seq, cp.root_hash, cp.chain_hash, cp.timestamp,
         cp.public_key, cp.signature, PENDING, time.time_ns()),
    )  # fmt: skip
    checked = check_pending(db, cp.origin)
    if not any(o.tree_size == cp.tree_size for o in checked):
        checked.append(CheckpointOutcome(cp.origin, cp.tree_size, cp.last_seq, PENDING))
    return checked


def check_pending(db: sqlite3.Connection, origin: str) -> list[CheckpointOutcome]:
    """Check the origin's pending checkpoints whose records are all applied, smallest first."""
    applied = db.execute(
        "SELECT last_seq FROM replica_positions WHERE origin = ?", (origin,)
    ).fetchone()
    last = 0 if applied is None else int(applied[0])
    rows = db.execute(
        f"SELECT {CP_COLUMNS} FROM replica_checkpoints WHERE origin = ? AND status = ? "
        "AND last_seq <= ? ORDER BY tree_size",
        (origin, PENDING, last),
    ).fetchall()
    out = []
    for row in rows:
        cp = checkpoint_of(origin, row)
        problem = _problem(db, cp)
        if problem:
            out.append(reject(db, cp, problem))
            continue
        db.execute(
            "UPDATE replica_checkpoints SET status = ? WHERE origin = ? AND tree_size = ?",
            (VERIFIED, origin, cp.tree_size),
        )
        out.append(CheckpointOutcome(origin, cp.tree_size, cp.last_seq, VERIFIED))
    return out


def reject(db: sqlite3.Connection, cp: Checkpoint, reason: str) -> CheckpointOutcome:
    """Mark the checkpoint rejected and block its origin (the stream waits from now on)."""
    db.execute(
        "UPDATE replica_checkpoints SET status = ?, reason = ? WHERE origin = ? AND tree_size = ? "
        "AND status = ?",
        (REJECTED, reason, cp.origin, cp.tree_size, PENDING),
    )
    block_origin(
        db, cp.origin, f"checkpoint of {cp.tree_size} records (up to {cp.last_seq}): {reason}"
    )
    return CheckpointOutcome(cp.origin, cp.tree_size, cp.last_seq, REJECTED, reason)


def _signature_problem(db: sqlite3.Connection, cp: Checkpoint) -> str:
    """Whether ``cp`` is signed by the origin's key in force at its last position."""
    key = key_at(db, cp.origin, cp.last_seq)
    if key and cp.public_key != key:
        return f"signed by key {cp.public_key[:16]}…, not by the key in force {key[:16]}…"
    if not signature_ok(cp.public_key, cp.body(), cp.signature):
        return "signature does not verify"
    if not key:
        _pin(db, cp.origin, 0, cp.public_key, "first use (checkpoint)")
    return ""


def _problem(db: sqlite3.Connection, cp: Checkpoint) -> str:
    """Why ``cp`` does not hold for the replicated records ("" when it does)."""
    if problem := _signature_problem(db, cp):
        return problem
    compact, last_seq, chain = _tree(db, cp.origin, cp.tree_size)
    if compact.size < cp.tree_size:
        return f"the replica holds only {compact.size} records up to {last_seq}"
    if last_seq != cp.last_seq:
        return f"record {cp.tree_size} of the replica is at {last_seq}, not {cp.last_seq}"
    if compact.root().hex() != cp.root_hash:
        return "the Merkle root of the replicated records differs from the signed root"
    if chain and chain != cp.chain_hash:
        return "the chain hash of the replicated records differs from the signed one"
    saved = db.execute(
        "SELECT tree_size FROM replica_trees WHERE origin = ?", (cp.origin,)
    ).fetchone()
    if saved is None or int(saved[0]) < compact.size:
        db.execute(
            "INSERT OR REPLACE INTO replica_trees VALUES (?, ?, ?)",
            (cp.origin, compact.size, compact.state()),
        )
    return ""


def _tree(db: sqlite3.Connection, origin: str, size: int) -> tuple[CompactRange, int, str]:
    """The Merkle range over the origin's first ``size`` replicated records (from the last
    verified tree when it is not larger), the last position and its chain hash."""
    compact, after = CompactRange(), 0
    saved = db.execute(
        "SELECT t.tree_size, t.state, c.last_seq FROM replica_trees t JOIN replica_checkpoints "
        "c ON c.origin = t.origin AND c.tree_size = t.tree_size WHERE t.origin = ?",
        (origin,),
    ).fetchone()
    if saved is not None and int(saved[0]) <= size:
        compact = CompactRange.restore(int(saved[0]), bytes(saved[1]))
        after = int(saved[2])
    last_seq, chain = after, ""
    rows = db.execute(
        "SELECT seq, hash, chain_hash FROM replica_events WHERE origin = ? AND seq > ? "
        "ORDER BY seq LIMIT ?",
        (origin, after, size - compact.size),
    )
    for seq, record_hash, chain_hash in rows:
        compact.append(leaf_hash(bytes.fromhex(record_hash)))
        last_seq, chain = int(seq), str(chain_hash)
    return compact, last_seq, chain
