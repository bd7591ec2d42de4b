"""Gateway alerts: a gateway that keeps failing raises an alert that node status shows.

Kept in the ``alerts`` table of ``reminders.sqlite``. A failure counts up; at ``alert_after``
consecutive failures the alert is raised; the next success clears it. Messages are never dropped
while a gateway fails: their rows wait in the index and are retried with backoff.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    gateway TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    first_failed_at TEXT NOT NULL,
    last_failed_at TEXT NOT NULL,
    last_error TEXT NOT NULL,
    raised INTEGER NOT NULL DEFAULT 0
);
"""

REMINDERS_DB = "reminders.sqlite"


@dataclass(frozen=True)
class Alert:
    """A gateway in trouble."""

    gateway: str
    failures: int
    first_failed_at: datetime
    last_failed_at: datetime
    last_error: str
    raised: bool

    @property
    def message(self) -> str:
        """One line for node status."""
        return (
            f"SMS gateway {self.gateway!r} failing since {self.first_failed_at.isoformat()} "
            f"({self.failures} failures in a row; last: {self.last_error}); "
            "reminders wait and are retried"
        )


class AlertBook:
    """Counts gateway failures in ``reminders.sqlite``."""

    def __init__(self, db: sqlite3.Connection, alert_after: int) -> None:
        self.db = db
        self.alert_after = max(alert_after, 1)
        self.db.executescript(_SCHEMA)

    def failure(self, gateway: str, error: str, at: datetime) -> Alert:
        """Count a failure; the alert is raised once ``alert_after`` are in a row."""
        self.db.execute(
            "INSERT INTO alerts (gateway, failures, first_failed_at, last_failed_at, last_error) "
            "VALUES (?, 1, ?, ?, ?) ON CONFLICT (gateway) DO UPDATE SET "
            "failures = failures + 1, last_failed_at = excluded.last_failed_at, "
            "last_error = excluded.last_error",
            (gateway, at.isoformat(), at.isoformat(), error[:500]),
        )
        self.db.execute(
            "UPDATE alerts SET raised = 1 WHERE gateway = ? AND failures >= ?",
            (gateway, self.alert_after),
        )
        found = [a for a in _read(self.db) if a.gateway == gateway]
        return found[0]

    def success(self, gateway: str) -> None:
        """Clear the gateway's failures (and its alert)."""
        self.db.execute("DELETE FROM alerts WHERE gateway = ?", (gateway,))

    def active(self) -> list[Alert]:
        """Raised alerts."""
        return [a for a in _read(self.db) if a.raised]


def _read(db: sqlite3.Connection) -> list[Alert]:
    rows = db.execute(
        "SELECT gateway, failures, first_failed_at, last_failed_at, last_error, raised "
        "FROM alerts ORDER BY gateway"
    ).fetchall()
    return [
        Alert(g, n, datetime.fromisoformat(a), datetime.fromisoformat(b), err, bool(r))
        for g, n, a, b, err, r in rows
    ]


def active_alerts(node_dir: str | Path) -> list[Alert]:
    """Raised reminder alerts of the node in ``node_dir`` (for ``node status``)."""
    path = Path(node_dir) / REMINDERS_DB
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        exists = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alerts'"
        ).fetchone()
        return [a for a in _read(db) if a.raised] if exists else []
    finally:
        db.close()
