"""Store failures a user can cause or fix, as one line that says what is wrong and what to do.

A damaged or foreign file in the node directory surfaces as SQLite's "file is not a database"
or "database disk image is malformed", which names no file; :func:`store_problem` finds the
damaged file(s) and says how to recover. A store locked by another process is "busy"; a file
the system refuses to open is named.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from eventsourcing.persistence import OperationalError, PersistenceError

from ledger13710.audit.storecheck import damaged_stores

DAMAGED = "{file} is not a ledger13710 store or is damaged ({problem}): {todo}"
#: What to do about each damaged store: logs are restored, derived stores rebuilt.
TODO = {
    "events.sqlite": "restore it from a backup; `ledger13710 audit verify {dir}` names the "
    "first bad record",
    "replicas.sqlite": "restore it from a backup, or move it away to fetch the descendants' "
    "logs again; `ledger13710 audit verify {dir} --subtree` names the first bad record",
    "directory.sqlite": "restore it from a backup (contact details live only there)",
    "views.sqlite": "move it away: `ledger13710 views rebuild` makes it again from the log",
    "reminders.sqlite": "move it away: `ledger13710 reminders rebuild` makes it again from the log",
}
OTHER_TODO = "restore it from a backup"
UNREADABLE = (
    "a store of {dir} cannot be read ({error}): check its *.sqlite files (restore a damaged one "
    "from a backup) or the PostgreSQL server of its node.toml"
)
FILE = "cannot use {file}: {reason}"
BUSY = "the store of {dir} is busy ({error}): another process holds it; retry in a moment"


def file_problem(error: Exception) -> str | None:
    """The message for an operating-system error about a file (a name too long, a directory
    where a file should be, no permission), else None."""
    if isinstance(error, OSError) and error.filename is not None:
        name = str(error.filename)
        shown = name if len(name) <= 80 else name[:80] + "..."
        return FILE.format(file=repr(shown), reason=error.strerror or error)
    return None


def store_problem(error: Exception, dirs: Iterable[str | None]) -> str | None:
    """The message for ``error`` if it is a store failure (else None); ``dirs`` are the node
    directories (or store files) the command was given."""
    if not isinstance(error, sqlite3.DatabaseError | PersistenceError):
        return None
    paths = [Path(d) for d in dirs if d]
    where = ", ".join(str(p) for p in paths) or "the node directory"
    if isinstance(error, sqlite3.OperationalError | OperationalError) and "locked" in str(error):
        return BUSY.format(dir=where, error=error)
    for path in paths:
        node_dir = path if path.is_dir() else path.parent
        damaged = damaged_stores(node_dir)
        if damaged:
            return "; ".join(
                DAMAGED.format(
                    file=file,
                    problem=problem,
                    todo=TODO.get(file.name, OTHER_TODO).format(dir=node_dir),
                )
                for file, problem in damaged.items()
            )
    return UNREADABLE.format(dir=where, error=error)


__all__ = ["file_problem", "store_problem"]
