"""A parent's copy of its descendants' logs, kept per origin, apart from its own log.

Every record is written **in the same transaction** as the origin's new position, so a crash
or a restart neither loses nor applies anything twice — also long after JetStream's duplicate
window. A record that fails its checks — its content hash, its link in the origin's hash chain,
a key rotation — is quarantined, never applied, and its origin waits behind it (``blocked``)
until an operator retries: there is no silent gap. The origin's signed checkpoints are kept
and verified against the replicated records (``verified.py``); one that fails blocks it too.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ledger13710.audit.store import Checkpoint
from ledger13710.domain.key_events import KeyRotated
from ledger13710.log.chain import GENESIS
from ledger13710.log.record import BadRecordError, Record
from ledger13710.replication import held, verified
from ledger13710.replication.replica_reads import ReplicaReads
from ledger13710.replication.verified import CheckpointOutcome, check_record

_SCHEMA = """
CREATE TABLE IF NOT EXISTS replica_events (
    origin TEXT NOT NULL, seq INTEGER NOT NULL, prev INTEGER NOT NULL, topic TEXT NOT NULL,
    originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, state BLOB NOT NULL,
    hash TEXT NOT NULL, published_ns INTEGER NOT NULL, ingested_ns INTEGER NOT NULL,
    chain_hash TEXT NOT NULL DEFAULT '', PRIMARY KEY (origin, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replica_by_originator
    ON replica_events (originator_id, originator_version);
CREATE TABLE IF NOT EXISTS replica_positions (
    origin TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, count INTEGER NOT NULL,
    seen_seq INTEGER NOT NULL DEFAULT 0, last_ingested_ns INTEGER NOT NULL DEFAULT 0,
    blocked TEXT NOT NULL DEFAULT '', last_chain TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS quarantine (
    origin TEXT NOT NULL, seq INTEGER NOT NULL, reason TEXT NOT NULL, record TEXT NOT NULL,
    received_ns INTEGER NOT NULL, PRIMARY KEY (origin, seq)
);
CREATE TABLE IF NOT EXISTS outbound (
    name TEXT PRIMARY KEY, position INTEGER NOT NULL, updated_ns INTEGER NOT NULL
);
"""


_INSERT_EVENT = (
    "INSERT INTO replica_events (origin, seq, prev, topic, originator_id, originator_version, "
    "state, hash, published_ns, ingested_ns, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass
class _Batch:
    """What :meth:`ReplicaStore.apply` gathers before it writes rows and positions."""

    #: origin -> (last applied position, blocked reason, chain hash there), as applied so far
    last: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)  # origin -> highest seq received
    applied: dict[str, int] = field(default_factory=dict)  # origin -> records applied
    rows: list[tuple[object, ...]] = field(default_factory=list)  # replica_events rows to insert
    #: (origin, seq) -> (hash, chain hash) of the rows applied in this batch (not yet inserted)
    hashes: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)


@dataclass
class BatchResult:
    """What one :meth:`ReplicaStore.apply` did."""

    applied: list[Record] = field(default_factory=list)
    duplicates: int = 0
    gaps: dict[str, int] = field(default_factory=dict)  # origin -> last applied seq
    quarantined: list[tuple[Record, str]] = field(default_factory=list)
    checkpoints: list[CheckpointOutcome] = field(default_factory=list)
    held: int = 0  # records received and held until a signature covers them


class ReplicaStore(ReplicaReads):
    """``replicas.sqlite`` in the node's data directory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        verified.migrate(self._db)
        self._db.executescript(held.SCHEMA)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # -- ingest ------------------------------------------------------------------------------

    def apply(self, records: Iterable[Record]) -> BatchResult:
        """Apply records in order, in one transaction with the positions they advance.

        For records already covered by the origin's signature: what arrives from the network
        goes through :meth:`receive`, which holds records until a signature covers them.
        """
        result = BatchResult()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._apply(records, result, time.time_ns())
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return result

    def _apply(self, records: Iterable[Record], result: BatchResult, now: int) -> None:
        """Rows are inserted together and each origin's position is written once, after its
        rows and before the transaction commits: the same all-or-nothing as row by row, fewer
        statements."""
        db = self._db
        batch = _Batch()
        applied_before = len(result.applied)
        for r in records:
            if r.origin not in batch.last:
                batch.last[r.origin] = self._position(r.origin)
                batch.seen[r.origin] = r.seq
                batch.applied[r.origin] = 0
            elif r.seq > batch.seen[r.origin]:
                batch.seen[r.origin] = r.seq
            self._apply_one(r, batch, result, now)
        if batch.rows:
            db.executemany(_INSERT_EVENT, batch.rows)
        for origin, (seq, _blocked, chain) in batch.last.items():
            db.execute(
                "UPDATE replica_positions SET last_seq = ?, count = count + ?, "
                "seen_seq = max(seen_seq, ?), last_ingested_ns = ?, last_chain = ? "
                "WHERE origin = ?",
                (seq, batch.applied[origin], batch.seen[origin], now, chain, origin),
            )
        for origin in {r.origin for r in result.applied[applied_before:]}:
            result.checkpoints += verified.check_pending(db, origin)

    def receive(
        self, records: Iterable[Record], checkpoints: Iterable[Checkpoint] = ()
    ) -> BatchResult:
        """Hold what arrived from the network, keep its checkpoints, and apply whatever a
        signed checkpoint now covers (:mod:`ledger13710.replication.held`); one transaction.

        ``result.gaps`` names, per origin, the last signed position when records are missing
        (a record came whose predecessor is not held, or a checkpoint covers records not
        held); ``result.applied`` holds only signed records."""
        result = BatchResult()
        now = time.time_ns()
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                origins = self._hold(records, result)
                for cp in checkpoints:
                    result.checkpoints += verified.receive_checkpoint(db, cp)
                    origins.add(cp.origin)
                for origin in sorted(origins):
                    self._release(origin, result, now)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return result

    def _hold(self, records: Iterable[Record], result: BatchResult) -> set[str]:
        """Hold each record (or count, quarantine or note the gap); the origins touched."""
        positions: dict[str, tuple[int, str, str]] = {}
        seen: dict[str, int] = {}
        for r in records:
            if r.origin not in positions:
                positions[r.origin] = self._position(r.origin)
            seen[r.origin] = max(seen.get(r.origin, 0), r.seq)
            last_seq, blocked, chain = positions[r.origin]
            if blocked:
                continue  # the origin waits behind what blocked it
            outcome, reason = held.hold(self._db, r, last_seq, chain)
            if outcome == held.HELD:
                result.held += 1
            elif outcome == held.DUPLICATE:
                result.duplicates += 1
            elif outcome == held.GAP:
                result.gaps[r.origin] = last_seq
            else:
                self._quarantine(r, reason)
                result.quarantined.append((r, reason))
        for origin, seq in seen.items():
            self._db.execute(
                "UPDATE replica_positions SET seen_seq = max(seen_seq, ?) WHERE origin = ?",
                (seq, origin),
            )
        return set(positions)

    def _release(self, origin: str, result: BatchResult, now: int) -> None:
        """Apply the held records of ``origin`` a signed checkpoint covers; quarantine the
        records held beside them that it does not."""
        last_seq, blocked, chain = self._position(origin)
        if blocked:
            return
        path, outcomes, waiting = held.settle(self._db, origin, last_seq, chain)
        result.checkpoints += outcomes
        if waiting:
            result.gaps[origin] = last_seq
        if not path:
            result.checkpoints += verified.check_pending(self._db, origin)
            return
        self._apply(path, result, now)
        signed = {(r.seq, r.chain) for r in path}
        for r in held.discard(self._db, origin, path[-1].seq, signed):
            self._quarantine(r, held.UNSIGNED)
            result.quarantined.append((r, held.UNSIGNED))

    def refuse(self, origin: str, reason: str, messages: int) -> None:
        """Count messages refused from ``origin`` (not a node this one may ingest)."""
        with self._lock:
            held.refuse(self._db, origin, reason, messages)

    def _position(self, origin: str) -> tuple[int, str, str]:
        """(last applied position, blocked reason, chain hash there) of ``origin``."""
        row = self._db.execute(
            "SELECT last_seq, blocked, last_chain FROM replica_positions WHERE origin = ?",
            (origin,),
        ).fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO replica_positions (origin, last_seq, count) VALUES (?, 0, 0)",
                (origin,),
            )
            return 0, "", GENESIS.hex()
        last_seq, blocked, chain = int(row[0]), str(row[1]), str(row[2])
        return last_seq, blocked, chain if last_seq else GENESIS.hex()

    def _apply_one(self, r: Record, batch: _Batch, result: BatchResult, now: int) -> None:
        last = batch.last
        last_seq, blocked, last_chain = last[r.origin]
        if r.seq <= last_seq:
            held = batch.hashes.get((r.origin, r.seq))
            if held is None:
                held = self._db.execute(
                    "SELECT hash, chain_hash FROM replica_events WHERE origin = ? AND seq = ?",
                    (r.origin, r.seq),
                ).fetchone()
            if held is not None and (
                held[0] != r.hash or (held[1] and r.chain and held[1] != r.chain)
            ):
                # the origin's log was rewritten after we applied it: loud, and it waits
                reason = "differs from the record already applied at this position"
                self._block(r, reason, last, result)
            else:
                result.duplicates += 1
            return
        if blocked:
            return  # the origin waits behind a quarantined record
        if r.prev != last_seq:
            result.gaps[r.origin] = last_seq
            return
        try:
            check_record(r)
        except BadRecordError as e:
            self._block(r, str(e), last, result)
            return
        problem = verified.link_problem(last_chain, last_seq, r)
        if not problem and r.topic == KeyRotated.TOPIC:
            problem = verified.follow_rotation(self._db, r)
        if problem:
            self._block(r, problem, last, result)
            return
        batch.rows.append(
            (
                r.origin, r.seq, r.prev, r.topic, r.originator_id, r.originator_version,
                r.state, r.hash, r.published_ns, now, r.chain,
            )
        )  # fmt: skip
        batch.hashes[(r.origin, r.seq)] = (r.hash, r.chain)
        batch.applied[r.origin] += 1
        last[r.origin] = (r.seq, "", r.chain)
        result.gaps.pop(r.origin, None)
        result.applied.append(r)

    def _block(
        self, r: Record, reason: str, last: dict[str, tuple[int, str, str]], result: BatchResult
    ) -> None:
        """Quarantine ``r`` and make its origin wait behind it."""
        self._quarantine(r, reason)
        self._db.execute(
            "UPDATE replica_positions SET blocked = ? WHERE origin = ? AND blocked = ''",
            (f"record {r.seq}: {reason}", r.origin),
        )
        last_seq, _, chain = last[r.origin]
        last[r.origin] = (last_seq, reason, chain)
        result.quarantined.append((r, reason))

    def add_checkpoint(self, cp: Checkpoint) -> list[CheckpointOutcome]:
        """Keep a checkpoint the origin published; verify it now if its records are here."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                outcomes = verified.receive_checkpoint(db, cp)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return outcomes

    def _quarantine(self, r: Record, reason: str) -> None:
        envelope = {
            "origin": r.origin, "seq": r.seq, "prev": r.prev, "topic": r.topic,
            "originator_id": r.originator_id, "version": r.originator_version,
            "hash": r.hash, "chain": r.chain, "state": r.state.decode("utf-8", "replace"),
        }  # fmt: skip
        self._db.execute(
            "INSERT OR REPLACE INTO quarantine VALUES (?, ?, ?, ?, ?)",
            (r.origin, r.seq, reason, json.dumps(envelope, ensure_ascii=False), time.time_ns()),
        )

    def configure_keys(self, keys: Mapping[str, str]) -> dict[str, str]:
        """Pin the configured public keys of origins (:func:`verified.configure_key`), in one
        transaction; origin -> why its key conflicts (that origin is now blocked)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                problems = {o: verified.configure_key(db, o, k) for o, k in sorted(keys.items())}
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return {origin: problem for origin, problem in problems.items() if problem}

    def unblock(self, origin: str) -> None:
        """Let an origin's stream flow again (after the origin's store was repaired)."""
        with self._lock:
            self._db.execute(
                "UPDATE replica_positions SET blocked = '' WHERE origin = ?", (origin,)
            )

    # -- the node's own outbound positions ---------------------------------------------------

    def get_position(self, name: str) -> tuple[int, int]:
        """(position, updated_ns) of an outbound cursor such as ``published``."""
        row = self._db.execute(
            "SELECT position, updated_ns FROM outbound WHERE name = ?", (name,)
        ).fetchone()
        return (0, 0) if row is None else (int(row[0]), int(row[1]))

    def set_position(self, name: str, position: int) -> None:
        """Record an outbound cursor (never moves backwards)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO outbound VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                "position = max(position, excluded.position), updated_ns = excluded.updated_ns",
                (name, position, time.time_ns()),
            )
