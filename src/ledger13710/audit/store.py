"""Direct access to a node's log, chain and checkpoints, without opening its application.

An auditor reads the tables as they are (nothing is migrated, cached or repaired on the way),
from a node directory: ``events.sqlite``, or the PostgreSQL schema named in its ``node.toml``.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Protocol
from uuid import UUID

import msgspec

from ledger13710.application.ledger import LedgerApp
from ledger13710.audit.rows import JoinedRow
from ledger13710.config.node import NodeConfig, load_node_config
from ledger13710.config.store import store_env
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.log.chain import ChainLink, LogEntry

#: SQLite rows fetched at a time (larger batches fall out of the CPU caches: 20,000 cost 40%
#: more per row); PostgreSQL's named cursors fetch more per round trip.
_BATCH = 1000
_PG_BATCH = 20_000
_HYPHENATED = (
    "substr(e.originator_id, 1, 8) || '-' || substr(e.originator_id, 9, 4) || '-' || "
    "substr(e.originator_id, 13, 4) || '-' || substr(e.originator_id, 17, 4) || '-' || "
    "substr(e.originator_id, 21)"
)


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A signed tree head: the first ``tree_size`` records, up to position ``last_seq``."""

    origin: Annotated[str, msgspec.Meta(description="the node whose log it covers")]
    tree_size: Annotated[int, msgspec.Meta(description="how many records: the log's first")]
    root_hash: Annotated[str, msgspec.Meta(description="hex RFC 9162 root of their hashes")]
    last_seq: Annotated[int, msgspec.Meta(description="position of the last record covered")]
    chain_hash: Annotated[str, msgspec.Meta(description="hex chain hash at last_seq")]
    timestamp: Annotated[str, msgspec.Meta(description="when it was signed (RFC 3339)")]
    public_key: Annotated[str, msgspec.Meta(description="hex Ed25519 key that signed it")]
    signature: Annotated[
        str, msgspec.Meta(description="hex Ed25519 signature of the body (record-format.md)")
    ] = ""

    def body(self) -> bytes:
        """The bytes the signature covers (every field but the signature)."""
        return (
            f"ledger13710 checkpoint v1\norigin {self.origin}\ntree_size {self.tree_size}\n"
            f"root_hash {self.root_hash}\nlast_seq {self.last_seq}\n"
            f"chain_hash {self.chain_hash}\ntimestamp {self.timestamp}\n"
            f"public_key {self.public_key}\n"
        ).encode()


class AuditStore(Protocol):
    """What audit reads and writes in a node's store."""

    origin: str

    def log_rows(self, after: int = 0) -> Iterator[LogEntry]:
        """The log's records after position ``after``, in order."""
        ...

    def chain_rows(self, after: int = 0) -> Iterator[ChainLink]:
        """The chain's rows after position ``after``, in order."""
        ...

    def joined_rows(self) -> Iterator[JoinedRow]:
        """Log and chain merged by position: ``(seq, log row or None, chain row or None)``."""
        ...

    def originator_rows(self, originator_id: UUID) -> list[LogEntry]:
        """One aggregate's records, in order."""
        ...

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        ...

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """Store a signed checkpoint."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def merge(log: Iterator[LogEntry], chain: Iterator[ChainLink]) -> Iterator[JoinedRow]:
    """Merge two position-ordered streams into :class:`JoinedRow` s."""
    e, c = next(log, None), next(chain, None)
    while e is not None or c is not None:
        if c is None or (e is not None and e.seq < c.seq):
            assert e is not None
            yield JoinedRow(e.seq, e, None)
            e = next(log, None)
        elif e is None or c.seq < e.seq:
            yield JoinedRow(c.seq, None, c)
            c = next(chain, None)
        else:
            yield JoinedRow(e.seq, e, c)
            e, c = next(log, None), next(chain, None)


def log_row(seq: int, topic: Any, oid: Any, version: Any, state: Any) -> LogEntry:
    """A joined row's log side as read (``oid`` hyphenated by SQLite): a column rewritten with
    another type is hashed as what is there."""
    if state.__class__ is not bytes or len(oid) != 36:
        return LogEntry(seq, str(topic), str(oid), version, str(state).encode())
    return LogEntry(seq, topic, oid, version, state)


def _hyphenated(h: str) -> str:
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: How a parent marks a descendant's checkpoint it checked against the records it applied
#: (``replica_checkpoints.status``; replication/verified.py writes it).
VERIFIED = "verified"
CP_COLUMNS = "tree_size, last_seq, root_hash, chain_hash, timestamp, public_key, signature"


def _checkpoint(origin: str, row: Any) -> Checkpoint:
    size, last_seq, root, chain, stamp, key, signature = row  # the CP_COLUMNS
    return Checkpoint(
        origin=origin, tree_size=size, last_seq=last_seq, root_hash=root, chain_hash=chain,
        timestamp=stamp, public_key=key, signature=signature,
    )  # fmt: skip


class SQLiteAuditStore:
    """A node's ``events.sqlite``."""

    def __init__(self, path: Path, origin: str, *, writable: bool = False) -> None:
        if not path.exists():
            raise InputError(f"{path}: no event store here")
        mode = "rw" if writable else "ro"
        self.origin = origin
        self.path = path
        self._db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, isolation_level=None)
        if not writable:
            self._db.execute("BEGIN")  # one snapshot for every read (the node may be writing)

    @property
    def connection(self) -> sqlite3.Connection:
        """The connection (and, read-only, the snapshot) the store reads through."""
        return self._db

    def log_rows(self, after: int = 0) -> Iterator[LogEntry]:
        """The log's records after position ``after``, in order."""
        h = _hyphenated
        cursor = self._db.execute(
            "SELECT rowid, topic, originator_id, originator_version, state FROM stored_events "
            "WHERE rowid > ? ORDER BY rowid",
            (after,),
        )
        while batch := cursor.fetchmany(_BATCH):
            for seq, topic, oid, version, state in batch:
                if state.__class__ is bytes and oid.__class__ is str:
                    yield LogEntry(seq, topic, h(oid), version, state)
                else:  # a column rewritten with another type: hash what is there
                    yield LogEntry(seq, str(topic), str(oid), version, str(state).encode())

    def joined_rows(self) -> Iterator[JoinedRow]:
        """Log and chain merged by position, in one pass of a join (chain rows whose event is
        gone are few: they come from a separate anti-join)."""
        orphans = [
            ChainLink._make(r)
            for r in self._db.execute(
                "SELECT * FROM chain WHERE seq NOT IN (SELECT rowid FROM stored_events) "
                "ORDER BY seq"
            )
        ]
        cursor = self._db.execute(
            f"SELECT e.rowid, e.topic, {_HYPHENATED}, e.originator_version, e.state, "
            "c.seq, c.prev_seq, c.record_hash, c.chain_hash "
            "FROM stored_events e LEFT JOIN chain c ON c.seq = e.rowid ORDER BY e.rowid"
        )
        while batch := cursor.fetchmany(_BATCH):
            for seq, topic, oid, version, state, cseq, prev, rh, ch in batch:
                while orphans and orphans[0].seq < seq:
                    orphan = orphans.pop(0)
                    yield JoinedRow(orphan.seq, None, orphan)
                row = log_row(seq, topic, oid, version, state)
                link = None if cseq is None else ChainLink(cseq, prev, rh, ch)
                yield JoinedRow(seq, row, link)
        for orphan in orphans:
            yield JoinedRow(orphan.seq, None, orphan)

    def chain_rows(self, after: int = 0) -> Iterator[ChainLink]:
        """The chain's rows after position ``after``, in order."""
        cursor = self._db.execute("SELECT * FROM chain WHERE seq > ? ORDER BY seq", (after,))
        while batch := cursor.fetchmany(_BATCH):
            yield from map(ChainLink._make, batch)

    def originator_rows(self, originator_id: UUID) -> list[LogEntry]:
        """One aggregate's records, in order."""
        rows = self._db.execute(
            "SELECT rowid, topic, originator_id, originator_version, state FROM stored_events "
            "WHERE originator_id = ? ORDER BY originator_version",
            (originator_id.hex,),
        ).fetchall()
        return [LogEntry(seq, t, _hyphenated(oid), v, s) for seq, t, oid, v, s in rows]

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        rows = self._db.execute(f"SELECT {CP_COLUMNS} FROM checkpoints ORDER BY tree_size")
        return [_checkpoint(self.origin, r) for r in rows]

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """Store a signed checkpoint."""
        self._db.execute(
            "INSERT INTO checkpoints VALUES (?,?,?,?,?,?,?)",
            (cp.tree_size, cp.last_seq, cp.root_hash, cp.chain_hash, cp.timestamp,
             cp.public_key, cp.signature),
        )  # fmt: skip

    def close(self) -> None:
        """Release the connection."""
        self._db.close()


class PostgresAuditStore:
    """A node's PostgreSQL schema."""

    def __init__(self, conninfo: str, schema: str, origin: str) -> None:
        import psycopg  # noqa: PLC0415 - only PostgreSQL nodes need the driver

        self.origin = origin
        try:
            self._db = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
            # Reads share one REPEATABLE READ snapshot (the node may be writing meanwhile).
            self._read = psycopg.connect(conninfo, connect_timeout=5)
        except psycopg.Error as e:
            raise ConfigError(f"cannot reach PostgreSQL ({conninfo}): {e}".strip()) from None
        self._read.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self._cursors = itertools.count()
        self._s = f'"{schema}"'
        self._events = f'"{schema}".{LedgerApp.name.lower()}_events'

    def _iter(self, sql: str, params: tuple[Any, ...]) -> Iterator[Any]:
        with self._read.cursor(name=f"audit_read_{next(self._cursors)}") as cur:
            cur.itersize = _PG_BATCH
            cur.execute(sql, params)
            yield from cur

    def log_rows(self, after: int = 0) -> Iterator[LogEntry]:
        """The log's records after position ``after``, in order."""
        sql = (
            "SELECT notification_id, topic, originator_id, originator_version, state "
            f"FROM {self._events} WHERE notification_id > %s ORDER BY notification_id"
        )
        for seq, topic, oid, version, state in self._iter(sql, (after,)):
            yield LogEntry(seq, topic, str(oid), version, bytes(state))

    def joined_rows(self) -> Iterator[JoinedRow]:
        """Log and chain merged by position."""
        return merge(self.log_rows(), self.chain_rows())

    def chain_rows(self, after: int = 0) -> Iterator[ChainLink]:
        """The chain's rows after position ``after``, in order."""
        sql = f"SELECT * FROM {self._s}.chain WHERE seq > %s ORDER BY seq"
        for seq, prev, rh, ch in self._iter(sql, (after,)):
            yield ChainLink(seq, prev, bytes(rh), bytes(ch))

    def originator_rows(self, originator_id: UUID) -> list[LogEntry]:
        """One aggregate's records, in order."""
        rows = self._db.execute(
            "SELECT notification_id, topic, originator_id, originator_version, state "
            f"FROM {self._events} WHERE originator_id = %s ORDER BY originator_version",
            (originator_id,),
        ).fetchall()
        return [LogEntry(seq, t, str(oid), v, bytes(s)) for seq, t, oid, v, s in rows]

    def checkpoints(self) -> list[Checkpoint]:
        """Every checkpoint, oldest first."""
        rows = self._read.execute(
            f"SELECT {CP_COLUMNS} FROM {self._s}.checkpoints ORDER BY tree_size"
        ).fetchall()
        return [_checkpoint(self.origin, r) for r in rows]

    def add_checkpoint(self, cp: Checkpoint) -> None:
        """Store a signed checkpoint."""
        self._db.execute(
            f"INSERT INTO {self._s}.checkpoints VALUES (%s,%s,%s,%s,%s,%s,%s)",
            (cp.tree_size, cp.last_seq, cp.root_hash, cp.chain_hash, cp.timestamp,
             cp.public_key, cp.signature),
        )  # fmt: skip

    def close(self) -> None:
        """Release the connections."""
        self._read.close()
        self._db.close()


def node_config(node_dir: Path) -> NodeConfig:
    """The ``node.toml`` of a node directory."""
    if not (node_dir / "node.toml").exists():
        raise InputError(f"{node_dir} is not a node directory (no node.toml)")
    return load_node_config(node_dir / "node.toml")


def open_audit_store(
    node_dir: Path, *, writable: bool = False, config: NodeConfig | None = None
) -> AuditStore:
    """The audit view of the store of the node in ``node_dir`` (``config``: its ``node.toml``
    as loaded already, spared a parse on a hot path)."""
    cfg = config or node_config(node_dir)
    env = store_env(cfg, node_dir)
    if cfg.store.kind == "sqlite":
        return SQLiteAuditStore(Path(env["SQLITE_DBNAME"]), cfg.id, writable=writable)
    keys = {"host": "POSTGRES_HOST", "port": "POSTGRES_PORT", "dbname": "POSTGRES_DBNAME",
            "user": "POSTGRES_USER", "password": "POSTGRES_PASSWORD"}  # fmt: skip
    conninfo = " ".join(f"{k}={env[v]}" for k, v in keys.items() if env.get(v))
    return PostgresAuditStore(conninfo, env["POSTGRES_SCHEMA"], cfg.id)


def checkpoint_of(origin: str, row: tuple[object, ...]) -> Checkpoint:
    """A checkpoint from a ``replica_checkpoints`` row (its first seven columns)."""
    size, last_seq, root, chain, stamp, key, signature = (str(v) for v in row[:7])
    return Checkpoint(
        origin=origin, tree_size=int(size), last_seq=int(last_seq), root_hash=root,
        chain_hash=chain, timestamp=stamp, public_key=key, signature=signature,
    )  # fmt: skip
