"""Which SQLite file of a node directory is damaged, and how: for one clear error message.

A store that is not SQLite at all, or was cut short (a failed copy, a full disk), makes SQLite
fail with "file is not a database" or "database disk image is malformed" — without saying which
file. :func:`damaged_stores` looks at each ``*.sqlite`` of a node directory: its header (the
SQLite magic string, page size and page count), its length against that page count, and a
quick integrity check, and says what is wrong with each damaged one.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

_MAGIC = b"SQLite format 3\x00"
_HEADER = 100


def _header_problem(path: Path) -> str | None:
    size = path.stat().st_size
    if size == 0:
        return None  # SQLite's empty database
    with path.open("rb") as f:
        header = f.read(_HEADER)
    if len(header) < _HEADER or not header.startswith(_MAGIC):
        return "not a SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counter_ok = header[24:28] == header[92:96]  # the page count is valid only then
    if counter_ok and pages and size < pages * page_size:
        return f"cut short: {size} of {pages * page_size} bytes"
    return None


def _integrity_problem(path: Path) -> str | None:
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as e:
        return str(e)
    try:
        row = db.execute("PRAGMA quick_check(1)").fetchone()
    except sqlite3.OperationalError as e:
        return None if "locked" in str(e) else str(e)
    except sqlite3.DatabaseError as e:
        return str(e)
    finally:
        db.close()
    return None if row is None or row[0] == "ok" else str(row[0])


def damaged_stores(node_dir: Path) -> dict[Path, str]:
    """Every damaged ``*.sqlite`` file in ``node_dir`` (not its subdirectories), and why."""
    if not node_dir.is_dir():
        return {}
    found = {}
    for path in sorted(node_dir.glob("*.sqlite")):
        try:
            problem = _header_problem(path) or _integrity_problem(path)
        except OSError as e:
            problem = e.strerror or str(e)
        if problem:
            found[path] = problem
    return found


__all__ = ["damaged_stores"]
