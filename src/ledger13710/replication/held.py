"""Records held until the origin's signature covers them: nothing unsigned is applied upstream.

A record that arrives from a descendant (on its subject, or fetched from it) is checked — its
content hash, its back-link and its chain link — and *held* in ``replica_pending``. It is applied
only once a checkpoint signed by the origin's trusted key covers it: the checkpoint's signed
chain hash names the last record it covers, and each record's chain hash names the one before,
so the signature picks exactly the records the origin wrote. The origin's publisher signs a
checkpoint after every batch it publishes, so a record waits for one batch, not for a timer.

Anyone who can publish on an origin's subject can make a record that fits the chain (the chain
is public). Such a record is held beside the real one at its position, and when the signed
checkpoint comes the real one is applied and the other is quarantined as unsigned: a forgery
neither enters the replica nor stops the origin's stream. What does stop it is the origin's
own signature contradicting what was applied (``verified.py``).

Everything here runs inside the replica store's transaction (``db`` is its connection).
"""

from __future__ import annotations

import sqlite3
import time

from eventsourcing.persistence import MapperDeserialisationError

from ledger13710.application.mapper import decode_event
from ledger13710.audit.keys import rotation_ok, signature_ok
from ledger13710.audit.store import CP_COLUMNS, Checkpoint, checkpoint_of
from ledger13710.domain.key_events import KeyRotated
from ledger13710.log.chain import chain_next
from ledger13710.log.record import BadRecordError, Record
from ledger13710.replication import verified
from ledger13710.replication.verified import check_record

SCHEMA = """
CREATE TABLE IF NOT EXISTS replica_pending (
    origin TEXT NOT NULL, seq INTEGER NOT NULL, chain_hash TEXT NOT NULL, prev INTEGER NOT NULL,
    topic TEXT NOT NULL, originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL,
    state BLOB NOT NULL, hash TEXT NOT NULL, published_ns INTEGER NOT NULL,
    received_ns INTEGER NOT NULL, PRIMARY KEY (origin, seq, chain_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS replica_refused (
    origin TEXT PRIMARY KEY, messages INTEGER NOT NULL, reason TEXT NOT NULL,
    first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL
);
"""

HELD, DUPLICATE, GAP, BAD = "held", "duplicate", "gap", "bad"
#: Why a held record that the origin's signature did not pick is quarantined.
UNSIGNED = "unsigned: not the record the origin signed at this position"
_COLUMNS = (
    "seq, prev, topic, originator_id, originator_version, state, hash, published_ns, chain_hash"
)


def hold(db: sqlite3.Connection, r: Record, last_seq: int, last_chain: str) -> tuple[str, str]:
    """Check ``r`` and hold it; (outcome, why it is bad). ``last_seq`` / ``last_chain``: the
    origin's last applied (signed) record."""
    if r.seq <= last_seq:
        row = db.execute(
            "SELECT hash, chain_hash FROM replica_events WHERE origin = ? AND seq = ?",
            (r.origin, r.seq),
        ).fetchone()
        if row is None or (row[0] == r.hash and (not row[1] or not r.chain or row[1] == r.chain)):
            return DUPLICATE, ""
        return BAD, "unsigned: differs from the signed record applied at this position"
    outcome, problem = _fits(db, r, last_seq, last_chain)
    if outcome == HELD:
        db.execute(
            f"INSERT INTO replica_pending (origin, {_COLUMNS}, received_ns) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (r.origin, r.seq, r.prev, r.topic, r.originator_id, r.originator_version, r.state,
             r.hash, r.published_ns, r.chain, time.time_ns()),
        )  # fmt: skip
    return outcome, problem


def _fits(db: sqlite3.Connection, r: Record, last_seq: int, last_chain: str) -> tuple[str, str]:
    """Whether a record after the last applied one can be held (its content, its link)."""
    try:
        check_record(r)
    except BadRecordError as e:
        return BAD, str(e)
    if not r.chain:
        return BAD, "no chain hash (sent by a node without the audit chain?)"
    if db.execute(
        "SELECT 1 FROM replica_pending WHERE origin = ? AND seq = ? AND chain_hash = ?",
        (r.origin, r.seq, r.chain),
    ).fetchone():
        return DUPLICATE, ""  # the chain hash commits to the record and all before it
    if r.prev == last_seq:
        problem = verified.link_problem(last_chain, last_seq, r)
    elif r.prev < last_seq:
        problem = f"links back to {r.prev}, before the last signed record {last_seq}"
    elif not _predecessor(_chains_at(db, r.origin, r.prev), r):
        # its predecessor is not held (lost, or its message id taken by a forgery that
        # JetStream kept instead): fetched from the origin
        return GAP, ""
    else:
        problem = ""
    return (BAD, problem) if problem else (HELD, "")


def frontier(db: sqlite3.Connection, origin: str, last_seq: int) -> int:
    """The highest position received of ``origin``: applied, or held."""
    row = db.execute("SELECT max(seq) FROM replica_pending WHERE origin = ?", (origin,)).fetchone()
    return max(last_seq, int(row[0] or 0))


def settle(
    db: sqlite3.Connection, origin: str, last_seq: int, last_chain: str
) -> tuple[list[Record], list[verified.CheckpointOutcome], bool]:
    """The held records the origin's largest signed checkpoint covers, in order, ready to
    apply (none when no checkpoint covers held records yet); the checkpoints rejected on the
    way (each blocks its origin); and whether a checkpoint waits for records not held."""
    rows = db.execute(
        f"SELECT {CP_COLUMNS} FROM replica_checkpoints WHERE origin = ? AND status = ? "
        "AND last_seq > ? ORDER BY tree_size DESC",
        (origin, verified.PENDING, last_seq),
    ).fetchall()
    outcomes, waiting = [], False
    for row in rows:
        cp = checkpoint_of(origin, row)
        path = _path(db, cp, last_seq, last_chain)
        if path is None:
            signed = _quarantined_at(db, cp)
            if signed and not (problem := _signature_problem(db, cp, [])):
                outcomes.append(verified.reject(db, cp, f"signs a quarantined record: {signed}"))
            elif signed:
                outcomes.append(verified.reject(db, cp, problem))
            waiting = waiting or not signed  # its records have not all arrived
            continue
        if problem := _signature_problem(db, cp, path):
            outcomes.append(verified.reject(db, cp, problem))
            continue
        return path, outcomes, False
    return [], outcomes, waiting


def discard(
    db: sqlite3.Connection, origin: str, upto: int, signed: set[tuple[int, str]]
) -> list[Record]:
    """Remove the held records up to ``upto`` once the ``signed`` ones ((seq, chain hash)) are
    applied: the others held there are unsigned (returned, to be quarantined)."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM replica_pending WHERE origin = ? AND seq <= ? ORDER BY seq",
        (origin, upto),
    ).fetchall()
    db.execute("DELETE FROM replica_pending WHERE origin = ? AND seq <= ?", (origin, upto))
    return [r for r in (_record(origin, row) for row in rows) if (r.seq, r.chain) not in signed]


def refuse(db: sqlite3.Connection, origin: str, reason: str, messages: int) -> None:
    """Count messages refused from ``origin`` (not a node this one may ingest)."""
    now = time.time_ns()
    db.execute(
        "INSERT INTO replica_refused VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
        "messages = messages + excluded.messages, reason = excluded.reason, "
        "last_ns = excluded.last_ns",
        (origin, messages, reason, now, now),
    )


def _chains_at(db: sqlite3.Connection, origin: str, seq: int) -> list[str]:
    rows = db.execute(
        "SELECT chain_hash FROM replica_pending WHERE origin = ? AND seq = ?", (origin, seq)
    )
    return [str(c) for (c,) in rows]


def _predecessor(chains: list[str], r: Record) -> str:
    """The one of ``chains`` (held at ``r.prev``) that ``r``'s chain hash continues, or ""."""
    digest = bytes.fromhex(r.hash)
    for chain in chains:
        try:
            if chain_next(bytes.fromhex(chain), digest).hex() == r.chain:
                return chain
        except ValueError:
            continue
    return ""


def _path(
    db: sqlite3.Connection, cp: Checkpoint, last_seq: int, last_chain: str
) -> list[Record] | None:
    """The held records from after ``last_seq`` to the one ``cp`` signs, found backwards by
    chain hash; None while one of them is not held."""
    out: list[Record] = []
    seq, chain = cp.last_seq, cp.chain_hash
    while True:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM replica_pending WHERE origin = ? AND seq = ? "
            "AND chain_hash = ?",
            (cp.origin, seq, chain),
        ).fetchone()
        if row is None:
            return None
        r = _record(cp.origin, row)
        out.append(r)
        if r.prev <= last_seq:
            linked = r.prev == last_seq and not verified.link_problem(last_chain, last_seq, r)
            return out[::-1] if linked else None
        seq, chain = r.prev, _predecessor(_chains_at(db, cp.origin, r.prev), r)
        if not chain:
            return None


def _signature_problem(db: sqlite3.Connection, cp: Checkpoint, path: list[Record]) -> str:
    """Whether ``cp`` is signed by the origin's key in force at its end, following the key
    rotations among the records it would release."""
    key = verified.key_at(db, cp.origin)
    for r in path:
        if r.topic != KeyRotated.TOPIC:
            continue
        try:
            rotated = decode_event(r.topic, r.state)
        except MapperDeserialisationError:  # unknown topic, or bytes not of its schema
            continue  # applying it quarantines it, with the reason
        follows = isinstance(rotated, KeyRotated) and rotation_ok(rotated)
        if follows and (not key or rotated.old_public_key == key):
            key = rotated.new_public_key
    if key and cp.public_key != key:
        return f"signed by key {cp.public_key[:16]}…, not by the key in force {key[:16]}…"
    if not signature_ok(cp.public_key, cp.body(), cp.signature):
        return "signature does not verify"
    return ""


def _quarantined_at(db: sqlite3.Connection, cp: Checkpoint) -> str:
    """Why the record ``cp`` signs was quarantined ("" if it was not)."""
    row = db.execute(
        "SELECT reason FROM quarantine WHERE origin = ? AND seq = ? "
        "AND json_extract(record, '$.chain') = ?",
        (cp.origin, cp.last_seq, cp.chain_hash),
    ).fetchone()
    return "" if row is None else f"record {cp.last_seq}: {row[0]}"


def _record(origin: str, row: tuple[object, ...]) -> Record:
    seq, prev, topic, oid, version, state, hsh, pub, chain = row
    return Record(
        origin=origin, seq=int(str(seq)), prev=int(str(prev)), topic=str(topic),
        originator_id=str(oid), originator_version=int(str(version)),
        state=bytes(state) if isinstance(state, bytes | bytearray | memoryview) else b"",
        hash=str(hsh), published_ns=int(str(pub)), chain=str(chain),
    )  # fmt: skip
