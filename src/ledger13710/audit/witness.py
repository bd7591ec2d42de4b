"""Witnesses: what others hold of a node's log, to verify that log against.

A node's own store is no proof against whoever can rewrite it: re-chain its records and delete
(or, with the key, re-sign) its checkpoints, and it is consistent again. Two things outside it
remember what it was:

- **the parent's checkpoints.** A parent verifies every checkpoint of a descendant as it
  arrives, before it applies the records it covers, and keeps it (``replica_checkpoints`` in
  its ``replicas.sqlite``, status ``verified``). ``audit verify DIR --witness PARENT_DIR`` checks
  the node's log against each of them too; a province's ``--subtree`` checks each replica
  against them (:mod:`ledger13710.audit.replica`).
- **the parent's acknowledgements.** The parent tells the node the last position it applied
  (``parent_ack`` in the node's ``replicas.sqlite``): a log that ends before it was cut short.
  This one lives in the node's directory, so it is a check against accidents and careless
  edits, not against an insider.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger13710.audit.store import CP_COLUMNS, VERIFIED, Checkpoint, checkpoint_of
from ledger13710.audit.verify import Issue, Problem, Report
from ledger13710.domain.errors import InputError

REPLICAS = "replicas.sqlite"


def _read(path: Path, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.Error as e:
        raise InputError(f"{path}: not a replica store ({e})") from None
    finally:
        db.close()


def witnessed(parent: Path, origin: str) -> list[Checkpoint]:
    """The checkpoints of ``origin`` that the parent in directory ``parent`` verified."""
    path = parent / REPLICAS if parent.is_dir() else parent
    if not path.exists():
        raise InputError(f"{parent}: no {REPLICAS} here: give the parent's node directory")
    rows = _read(
        path,
        f"SELECT {CP_COLUMNS} FROM replica_checkpoints WHERE origin = ? AND status = ? "
        "ORDER BY tree_size",
        (origin, VERIFIED),
    )
    if not rows:
        raise InputError(f"{path}: the parent holds no verified checkpoint of {origin!r}")
    return [checkpoint_of(origin, row) for row in rows]


def check_acknowledged(node_dir: Path, cursor: str, report: Report) -> None:
    """Add an issue to ``report`` (the node's own log) if it ends before the position its
    parent acknowledged (the node's outbound ``cursor`` of that name)."""
    path = node_dir / REPLICAS
    if not path.exists():
        return
    rows = _read(path, "SELECT position FROM outbound WHERE name = ?", (cursor,))
    acked = int(str(rows[0][0])) if rows else 0
    if acked > report.end:
        report.issues.append(
            Issue(
                acked,
                Problem.MISSING,
                f"the parent acknowledged records up to {acked}; the log ends at {report.end}",
            )
        )
