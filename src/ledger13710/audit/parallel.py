"""Scan a SQLite log for :func:`ledger13710.audit.verify.verify_log`, in chunks and processes.

Everything the verifier's fast path needs about a row is in the stored values: the previous
chain row's position and chain hash, the number of chain rows before it (its leaf index) and
the checkpoint sizes. So the log is split by leaf index into chunks that are scanned
independently (one per core, the first in the calling process, the others in forked ones):
intact records collapse into :class:`Run` s (their count, the chain tail after them and the
RFC 9162 hashes of the aligned subtrees their leaves form), every other row is handed back as
the :data:`JoinedRow` the verifier would have read. The verifier then walks runs and rows in
order with its usual code, so what it reports does not depend on how the log was split.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from hashlib import sha256
from pathlib import Path
from typing import Any, NamedTuple

from ledger13710.audit.rows import JoinedRow
from ledger13710.audit.store import _BATCH, _HYPHENATED, SQLiteAuditStore, log_row
from ledger13710.gcpause import gc_paused
from ledger13710.log.chain import GENESIS, ChainLink, LogEntry, as_read
from ledger13710.log.merkle import CompactRange

#: Below this many chain rows one process scans the whole log.
MIN_PARALLEL = 200_000


class Run(NamedTuple):
    """Consecutive intact records, none at a checkpoint or a rotation."""

    records: int
    last_seq: int
    last_hash: bytes
    blocks: list[tuple[int, bytes]]  # aligned complete subtrees (size, hash), left to right


class Chunk(NamedTuple):
    """Positions ``(lo, hi]`` (``lo`` None: from the start), whose first chain row is leaf
    ``start``, after the chain row ``(prev_seq, prev_hash)``; ``rows`` chain rows (None: ask)."""

    lo: int | None
    hi: int
    start: int
    rows: int | None
    prev_seq: int
    prev_hash: Any


def extend(compact: CompactRange, blocks: Sequence[tuple[int, bytes]]) -> CompactRange:
    """``compact`` with the aligned subtrees ``blocks`` appended (each starts at a multiple of
    its size, so the stack merges as if the leaves had been appended one by one)."""
    if not blocks:
        return compact
    state, size = compact.state(), compact.size
    sizes = [1 << b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]
    stack = [(n, state[32 * i : 32 * i + 32]) for i, n in enumerate(sizes)]
    for block in blocks:
        n, h = block
        while stack and stack[-1][0] == n:
            h = sha256(b"\x01" + stack.pop()[1] + h).digest()
            n *= 2
        stack.append((n, h))
    size = sum(n for n, _ in stack)
    return CompactRange.restore(size, b"".join(h for _, h in stack))


def _subtree(digests: list[bytes]) -> bytes:
    level = [sha256(b"\x00" + d).digest() for d in digests]
    while len(level) > 1:
        it = iter(level)
        level = [sha256(b"\x01" + a + b).digest() for a, b in zip(it, it, strict=False)]
    return level[0]


def blocks_of(start: int, leaves: list[bytes]) -> list[tuple[int, bytes]]:
    """The aligned complete subtrees covering leaves ``start .. start + len(leaves)``, given
    the records' digests (the RFC 9162 leaf hash ``SHA-256(0x00 ‖ digest)`` is taken here)."""
    out = []
    i, end = start, start + len(leaves)
    while i < end:
        n = i & -i if i else 1 << (end - 1).bit_length()
        while i + n > end:
            n >>= 1
        out.append((n, _subtree(leaves[i - start : i - start + n])))
        i += n
    return out


def plan(store: SQLiteAuditStore, workers: int, min_parallel: int) -> list[Chunk]:
    """Chunks of about equal numbers of chain rows (one when the log is small)."""
    db = store.connection
    top = db.execute(
        "SELECT max((SELECT max(rowid) FROM stored_events), (SELECT max(seq) FROM chain))"
    ).fetchone()[0]
    hi = 0 if top is None else int(top)
    # Two queries: SQLite answers min() or max() alone from the index, both at once by a scan.
    first = db.execute("SELECT min(seq) FROM chain").fetchone()[0]
    last = db.execute("SELECT max(seq) FROM chain").fetchone()[0]
    approx = 0 if first is None else last - first + 1
    if workers < 2 or approx < max(min_parallel, 2 * workers):
        return [Chunk(None, hi, 0, None, 0, GENESIS)]
    # Cut at positions (a seek each) rather than by row offsets (a walk each); the rows of
    # each chunk but the last are counted here, the last one's in its own process.
    cuts: list[tuple[int, Any]] = []
    for j in range(1, workers):
        row = db.execute(
            "SELECT seq, chain_hash FROM chain WHERE seq <= ? ORDER BY seq DESC LIMIT 1",
            (first - 1 + j * (approx // workers),),
        ).fetchone()
        if row is not None and (not cuts or row[0] > cuts[-1][0]):
            cuts.append((int(row[0]), row[1]))
    chunks: list[Chunk] = []
    lo, start, prev_seq, prev_hash = None, 0, 0, GENESIS
    for seq, chain_hash in cuts:
        where, bounds = ("seq <= ?", (seq,)) if lo is None else ("seq > ? AND seq <= ?", (lo, seq))
        rows = int(db.execute(f"SELECT count(*) FROM chain WHERE {where}", bounds).fetchone()[0])
        chunks.append(Chunk(lo, seq, start, rows, prev_seq, prev_hash))
        lo, start, prev_seq, prev_hash = seq, start + rows, seq, chain_hash
    chunks.append(Chunk(lo, hi, start, None, prev_seq, prev_hash))
    return chunks


def scan(
    path: Path, origin: str, chunk: Chunk, stops: frozenset[int], rotation: str
) -> list[Run | JoinedRow]:
    """Runs of intact records and the other rows of ``chunk``, in order."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("BEGIN")
        where = "e.rowid <= ?" if chunk.lo is None else "e.rowid > ? AND e.rowid <= ?"
        bounds = (chunk.hi,) if chunk.lo is None else (chunk.lo, chunk.hi)
        count = chunk.rows
        if count is None:
            count = db.execute(
                f"SELECT count(*) FROM chain WHERE {where.replace('e.rowid', 'seq')}", bounds
            ).fetchone()[0]
        with gc_paused():
            out, matched = _scan(db, origin, chunk, stops, rotation, where, bounds, [])
        if matched != count:  # chain rows whose record is gone: merge them in, scan again
            orphans = [
                ChainLink._make(r)
                for r in db.execute(
                    "SELECT * FROM chain WHERE seq NOT IN (SELECT rowid FROM stored_events) AND "
                    f"{where.replace('e.rowid', 'seq')} ORDER BY seq",
                    bounds,
                )
            ]
            out, _ = _scan(db, origin, chunk, stops, rotation, where, bounds, orphans)
        return out
    finally:
        db.close()


def _scan(
    db: sqlite3.Connection,
    origin: str,
    chunk: Chunk,
    stops: frozenset[int],
    rotation: str,
    where: str,
    bounds: tuple[int, ...],
    orphans: list[ChainLink],
) -> tuple[list[Run | JoinedRow], int]:
    out: list[Run | JoinedRow] = []
    leaves: list[bytes] = []
    size, prev_seq, prev_hash = chunk.start, chunk.prev_seq, chunk.prev_hash
    matched = 0
    head = f"{origin}\x00"
    # What the record hash puts between the position and the version depends only on the
    # topic and the originator, which stay the same for runs of records: built once per run.
    last_oid: Any = None
    last_topic: Any = None
    normal, fast, middle = False, False, ""

    def flush() -> None:
        if leaves:
            out.append(Run(len(leaves), prev_seq, prev_hash, blocks_of(size - len(leaves), leaves)))
            leaves.clear()

    cursor = db.execute(
        "SELECT e.rowid, e.topic, e.originator_id, e.originator_version, e.state, "
        "c.prev_seq, c.record_hash, c.chain_hash "
        f"FROM stored_events e LEFT JOIN chain c ON c.seq = e.rowid WHERE {where} "
        "ORDER BY e.rowid",
        bounds,
    )
    append = leaves.append
    while batch := cursor.fetchmany(_BATCH):
        for seq, topic, oid, version, state, cprev, crh, cch in batch:
            if orphans and orphans[0].seq < seq:
                flush()
                while orphans and orphans[0].seq < seq:
                    orphan = as_read(orphans.pop(0))
                    out.append(JoinedRow(orphan.seq, None, orphan))
                    size, prev_seq, prev_hash = size + 1, orphan.seq, orphan.chain_hash
            if oid != last_oid or topic != last_topic:  # (a str equals only a str)
                last_oid, last_topic = oid, topic
                normal = oid.__class__ is str and len(oid) == 32 and oid.isalnum()
                fast = normal and topic != rotation
                if normal:
                    middle = (
                        f"\x00{topic}\x00{oid[:8]}-{oid[8:12]}-{oid[12:16]}-{oid[16:20]}-"
                        f"{oid[20:]}\x00"
                    )
            if cprev is None:  # the chain has no row here (its columns are NOT NULL)
                flush()
                out.append(
                    JoinedRow(seq, _log_row(db, seq, topic, oid, version, state, normal), None)
                )
                continue
            matched += 1
            if cprev == prev_seq and fast and state.__class__ is bytes and size + 1 not in stops:
                digest = sha256(
                    f"{head}{seq}\x00{cprev}{middle}{version}\x00".encode() + state
                ).digest()
                if digest == crh and sha256(prev_hash + digest).digest() == cch:
                    append(digest)
                    size, prev_seq, prev_hash = size + 1, seq, cch
                    continue
            flush()
            e = _log_row(db, seq, topic, oid, version, state, normal)
            c = as_read((seq, cprev, crh, cch))
            out.append(JoinedRow(seq, e, c))
            size, prev_seq, prev_hash = size + 1, seq, c.chain_hash
    flush()
    out += [JoinedRow(orphan.seq, None, orphan) for orphan in orphans]
    return out, matched


def _log_row(
    db: sqlite3.Connection, seq: int, topic: Any, oid: Any, version: Any, state: Any, normal: bool
) -> LogEntry:
    """The row's log side as the store's own join reads it."""
    if normal:
        hyphenated = f"{oid[:8]}-{oid[8:12]}-{oid[12:16]}-{oid[16:20]}-{oid[20:]}"
    else:  # SQLite's text rules, not Python's
        hyphenated = db.execute(
            f"SELECT {_HYPHENATED} FROM stored_events e WHERE e.rowid = ?", (seq,)
        ).fetchone()[0]
    return log_row(seq, topic, hyphenated, version, state)


def _scan_args(args: tuple[Path, str, Chunk, frozenset[int], str]) -> list[Run | JoinedRow]:
    return scan(*args)


def workers() -> int:
    """The cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def items(
    store: SQLiteAuditStore,
    stops: frozenset[int],
    rotation: str,
    *,
    processes: int | None = None,
    min_parallel: int = MIN_PARALLEL,
) -> Iterator[Run | JoinedRow]:
    """The log of ``store`` as runs and rows, scanned by up to ``processes`` processes."""
    n = workers() if processes is None else processes
    if sys.platform == "win32" or "fork" not in multiprocessing.get_all_start_methods():
        n = 1
    chunks = plan(store, n, min_parallel)
    args = [(store.path, store.origin, c, stops, rotation) for c in chunks]
    if len(chunks) == 1:
        yield from scan(*args[0])
        return
    with multiprocessing.get_context("fork").Pool(len(chunks) - 1) as pool:
        rest = pool.map_async(_scan_args, args[1:])
        yield from scan(*args[0])
        for part in rest.get():
            yield from part
