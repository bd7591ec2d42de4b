"""What a node reads from its replica store: positions, records, checkpoints, quarantine, lag.

The reading half of :class:`ledger13710.replication.replica_store.ReplicaStore` (which writes
``replicas.sqlite`` and inherits these); none of it changes the store.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ledger13710.audit.store import Checkpoint, checkpoint_of
from ledger13710.log.record import Record
from ledger13710.replication import held


@dataclass(frozen=True)
class OriginStatus:
    """Replication position of one origin as this node sees it."""

    origin: str
    last_seq: int
    count: int
    seen_seq: int
    last_ingested_ns: int
    blocked: str
    quarantined: int
    checkpoints_verified: int = 0
    verified_tree_size: int = 0
    checkpoints_pending: int = 0
    pinned_key: str = ""
    key_source: str = ""  # how its first key was pinned: "configured" or "first use (…)"


class ReplicaReads:
    """Queries over ``replicas.sqlite`` (``_db``: its connection)."""

    _db: sqlite3.Connection

    def last_seq(self, origin: str) -> int:
        """Last position applied for ``origin`` (0 when none)."""
        row = self._db.execute(
            "SELECT last_seq FROM replica_positions WHERE origin = ?", (origin,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def frontier(self, origin: str) -> int:
        """The highest position received of ``origin``, applied or held."""
        return held.frontier(self._db, origin, self.last_seq(origin))

    def behind(self) -> dict[str, int]:
        """Origins known to have records beyond what is received (and not blocked): origin ->
        the highest position received."""
        rows = self._db.execute(
            "SELECT origin, received FROM (SELECT origin, seen_seq, max(last_seq, coalesce("
            "(SELECT max(seq) FROM replica_pending h WHERE h.origin = p.origin), 0)) AS received "
            "FROM replica_positions p WHERE blocked = '') WHERE seen_seq > received"
        ).fetchall()
        return {str(o): int(s) for o, s in rows}

    def records(self, origin: str, after: int = 0, limit: int | None = None) -> list[Record]:
        """An origin's applied records after position ``after`` in order (at most ``limit``)."""
        rows = self._db.execute(
            "SELECT origin, seq, prev, topic, originator_id, originator_version, state, hash, "
            "published_ns FROM replica_events WHERE origin = ? AND seq > ? ORDER BY seq "
            "LIMIT ?",
            (origin, after, -1 if limit is None else limit),
        ).fetchall()
        return [_record(row) for row in rows]

    def originator_records(self, originator_id: str) -> list[Record]:
        """All replicated records of one aggregate, by version."""
        rows = self._db.execute(
            "SELECT origin, seq, prev, topic, originator_id, originator_version, state, hash, "
            "published_ns FROM replica_events WHERE originator_id = ? "
            "ORDER BY originator_version",
            (originator_id,),
        ).fetchall()
        return [_record(row) for row in rows]

    def statuses(self) -> list[OriginStatus]:
        """Every known origin's position, blocked reason and quarantine count."""
        rows = self._db.execute(
            "SELECT p.origin, p.last_seq, p.count, p.seen_seq, p.last_ingested_ns, p.blocked, "
            "(SELECT count(*) FROM quarantine q WHERE q.origin = p.origin), "
            "(SELECT count(*) FROM replica_checkpoints c WHERE c.origin = p.origin "
            " AND c.status = 'verified'), "
            "(SELECT coalesce(max(tree_size), 0) FROM replica_checkpoints c "
            " WHERE c.origin = p.origin AND c.status = 'verified'), "
            "(SELECT count(*) FROM replica_checkpoints c WHERE c.origin = p.origin "
            " AND c.status = 'pending'), "
            "(SELECT coalesce(max(public_key), '') FROM replica_keys k WHERE k.origin = p.origin "
            " AND k.since_seq = (SELECT max(since_seq) FROM replica_keys m "
            "  WHERE m.origin = p.origin)), "
            "coalesce((SELECT how FROM replica_keys k WHERE k.origin = p.origin "
            " ORDER BY since_seq LIMIT 1), '') "
            "FROM replica_positions p ORDER BY p.origin"
        ).fetchall()
        return [OriginStatus(*row) for row in rows]

    def checkpoints(self, origin: str) -> list[tuple[Checkpoint, str, str]]:
        """(checkpoint, status, reason) of every checkpoint ``origin`` published, by size."""
        rows = self._db.execute(
            "SELECT tree_size, last_seq, root_hash, chain_hash, timestamp, public_key, "
            "signature, status, reason FROM replica_checkpoints WHERE origin = ? "
            "ORDER BY tree_size",
            (origin,),
        ).fetchall()
        return [(checkpoint_of(origin, row), str(row[7]), str(row[8])) for row in rows]

    def quarantined(self) -> list[tuple[str, int, str]]:
        """(origin, seq, reason) of every quarantined record."""
        rows = self._db.execute(
            "SELECT origin, seq, reason FROM quarantine ORDER BY origin, seq"
        ).fetchall()
        return [(str(o), int(s), str(r)) for o, s, r in rows]

    def lags_ms(self, limit: int = 100_000) -> list[float]:
        """Publish-to-ingest delay of the most recent records, in milliseconds."""
        rows = self._db.execute(
            "SELECT ingested_ns - published_ns FROM replica_events WHERE published_ns > 0 "
            "ORDER BY ingested_ns DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [r[0] / 1e6 for r in rows]


def _record(row: tuple[object, ...]) -> Record:
    origin, seq, prev, topic, oid, version, state, hsh, pub = row
    return Record(
        origin=str(origin), seq=int(str(seq)), prev=int(str(prev)), topic=str(topic),
        originator_id=str(oid), originator_version=int(str(version)),
        state=bytes(state) if isinstance(state, bytes | bytearray | memoryview) else b"",
        hash=str(hsh), published_ns=int(str(pub)),
    )  # fmt: skip
