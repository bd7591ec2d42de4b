"""Verify a parent's replica of one origin's log (``replicas.sqlite``).

Replication carries each record's hash, back-link and chain hash, and the origin's signed
checkpoints travel with its log; so a replica is verified exactly as the origin's own store
is (:func:`ledger13710.audit.verify.verify_log`): record hashes, chain links, key rotations,
and each checkpoint's Merkle root and signature. The signatures are anchored on the keys given
(``--public-key``), else on the key the parent pinned when it first saw the origin.

The replica is checked against every checkpoint the parent verified, also those reaching past
its end (a replica shorter than a checkpoint it once verified was cut short), and against the
parent's own position row (how many records it applied, up to where). Checkpoints whose
records have not all arrived yet are pending: they are not a finding.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from hashlib import sha256
from pathlib import Path
from uuid import UUID

from ledger13710.audit.rows import JoinedRow
from ledger13710.audit.store import CP_COLUMNS, VERIFIED, Checkpoint, checkpoint_of
from ledger13710.audit.verify import Issue, Problem, Report, verify_log
from ledger13710.domain.errors import InputError
from ledger13710.log.chain import GENESIS, ChainLink, LogEntry, as_bytes


class ReplicaAuditStore:
    """One origin's records in a ``replicas.sqlite``, read-only, seen as an audit store."""

    def __init__(self, path: Path, origin: str) -> None:
        if not path.exists():
            raise InputError(f"{path}: no replica store here")
        self.origin = origin
        self.legacy = 0  # records replicated before chain hashes were: their links recomputed
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        self._db.execute("BEGIN")  # one snapshot (the node may be ingesting)
        self._tables = {
            str(r[0]) for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if "replica_events" not in self._tables:
            raise InputError(f"{path}: not a replica store (no replica_events table)")
        self._has_chain = any(
            r[1] == "chain_hash" for r in self._db.execute("PRAGMA table_info(replica_events)")
        )

    def _rows(self, after: int) -> Iterator[tuple[LogEntry, ChainLink]]:
        chain = "chain_hash" if self._has_chain else "''"
        cursor = self._db.execute(
            "SELECT seq, prev, topic, originator_id, originator_version, state, hash, "
            f"{chain} FROM replica_events WHERE origin = ? AND seq > ? ORDER BY seq",
            (self.origin, after),
        )
        prev_chain = GENESIS
        for seq, prev, topic, oid, version, state, record_hash, chain_hash in cursor:
            digest = _unhex(record_hash)
            if chain_hash:
                link = _unhex(chain_hash)
            else:
                self.legacy += 1
                link = sha256(prev_chain + digest).digest()
            prev_chain = link
            yield (
                LogEntry(seq, topic, oid, version, as_bytes(state)),
                ChainLink(seq, prev, digest, link),
            )

    def log_rows(self, after: int = 0) -> Iterator[LogEntry]:
        """The replicated records after position ``after``, in order."""
        return (e for e, _ in self._rows(after))

    def chain_rows(self, after: int = 0) -> Iterator[ChainLink]:
        """The replicated chain after position ``after``, in order."""
        return (c for _, c in self._rows(after))

    def joined_rows(self) -> Iterator[JoinedRow]:
        """Records and their chain rows, by position (a replica holds both together)."""
        return (JoinedRow(e.seq, e, c) for e, c in self._rows(0))

    def originator_rows(self, originator_id: UUID) -> list[LogEntry]:
        """One aggregate's replicated records, in order."""
        rows = self._db.execute(
            "SELECT seq, topic, originator_id, originator_version, state FROM replica_events "
            "WHERE origin = ? AND originator_id = ? ORDER BY originator_version",
            (self.origin, str(originator_id)),
        ).fetchall()
        return [LogEntry(seq, t, oid, v, as_bytes(s)) for seq, t, oid, v, s in rows]

    def checkpoints(self) -> list[Checkpoint]:
        """The origin's checkpoints this node verified, smallest first."""
        if "replica_checkpoints" not in self._tables:
            return []
        rows = self._db.execute(
            f"SELECT {CP_COLUMNS} FROM replica_checkpoints WHERE origin = ? AND status = ? "
            "ORDER BY tree_size",
            (self.origin, VERIFIED),
        ).fetchall()
        return [checkpoint_of(self.origin, r) for r in rows]

    def position(self) -> tuple[int, int, str]:
        """(last position applied, records applied, why blocked) as the node recorded them."""
        row = self._db.execute(
            "SELECT last_seq, count, blocked FROM replica_positions WHERE origin = ?",
            (self.origin,),
        ).fetchone()
        if row is None:
            return 0, 0, ""
        last_seq, count, blocked = row
        return int(last_seq), int(count), str(blocked)

    def pinned_key(self) -> tuple[str, str]:
        """The origin's first key as the parent pinned it, and how ("configured" or "first use
        (…)"); ("", "") when none."""
        if "replica_keys" not in self._tables:
            return "", ""
        row = self._db.execute(
            "SELECT public_key, how FROM replica_keys WHERE origin = ? ORDER BY since_seq LIMIT 1",
            (self.origin,),
        ).fetchone()
        return ("", "") if row is None else (str(row[0]), str(row[1]))

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """A replica is read-only here."""
        raise InputError("a replica's checkpoints come from its origin")

    def close(self) -> None:
        """Release the connection."""
        self._db.close()


def _unhex(value: object) -> bytes:
    """A stored hex hash as bytes; anything else as its text (which then matches nothing)."""
    try:
        return bytes.fromhex(str(value))
    except ValueError:
        return as_bytes(value)


def verify_replica(path: Path, origin: str, trusted_keys: Sequence[str] = ()) -> Report:
    """Verify every replicated record and checkpoint of ``origin`` in ``path``."""
    store = ReplicaAuditStore(path, origin)
    try:
        pinned, how = store.pinned_key()
        report = verify_log(store, trusted_keys=[*trusted_keys] or ([pinned] if pinned else []))
        last_seq, count, blocked = store.position()
    finally:
        store.close()
    if last_seq > report.end or count > report.records:
        report.issues.append(
            Issue(
                last_seq,
                Problem.MISSING,
                f"the replica applied {count} records up to {last_seq}; it now holds "
                f"{report.records} up to {report.end} (cut short)",
            )
        )
    if blocked:
        report.unchecked.append(f"the origin's stream is blocked here: {blocked}")
    if report.records == 0:
        raise InputError(f"{path}: no replicated records of origin {origin!r}")
    if not trusted_keys and pinned:
        report.unchecked.append(
            f"signatures anchored on the key this node pinned ({how}: {pinned[:16]}…), "
            "not on a key you gave: give --public-key to check against one"
        )
    if store.legacy:
        report.unchecked.append(
            f"{store.legacy} records were replicated before chain hashes were carried: their "
            "chain links are recomputed here, not checked (signed checkpoints still cover them)"
        )
    return report


def replica_origins(path: Path) -> list[str]:
    """The origins of which ``path`` (a ``replicas.sqlite``) holds records."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT DISTINCT origin FROM replica_events ORDER BY origin").fetchall()
    except sqlite3.Error as e:
        raise InputError(f"{path}: not a replica store ({e})") from None
    finally:
        db.close()
    return [str(r[0]) for r in rows]


def refused_origins(path: Path) -> list[tuple[str, int, str]]:
    """(origin, messages, why) of every origin whose messages the node refused at ingest
    (``path``: its ``replicas.sqlite``)."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master")}
        if "replica_refused" not in tables:
            return []
        rows = db.execute(
            "SELECT origin, messages, reason FROM replica_refused ORDER BY origin"
        ).fetchall()
    finally:
        db.close()
    return [(str(o), int(n), str(r)) for o, n, r in rows]
