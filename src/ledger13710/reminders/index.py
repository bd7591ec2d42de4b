"""The index of due times (``reminders.sqlite`` in the node directory).

A derived, rebuildable table of every reminder still to go out, keyed by ``fire_at``. It is
kept by following the node's log by position: each batch of events and the new position are
written in ONE SQLite transaction, so a crash can neither skip nor double-apply an event. The
engine pops due rows with an indexed range query, so the cost of a reminder does not grow with
the number of open items.

The index may hold rows that are no longer wanted (a clock met, moved or finished while the row
waits); the engine checks every row against the item's recorded state before acting. It must
never lack a row that is wanted: every event that opens or reopens a clock writes its rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

from ledger13710.domain import events as ev
from ledger13710.domain.policy import Policy
from ledger13710.domain.reminder_events import ReminderKind
from ledger13710.domain.state import (
    PLAN_TARGET,
    REVIEW_FEEDBACK,
    REVIEW_RESOLUTION,
    review_extension_clock,
)
from ledger13710.domain.types import SHANGHAI, Clock, Deadline, milestone_clock
from ledger13710.reminders.schedule import before_due_at, overdue_at, shift_quiet

_SCHEMA = """
CREATE TABLE IF NOT EXISTS position (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS clocks (
    item TEXT NOT NULL, clock TEXT NOT NULL, due_at INTEGER NOT NULL,
    remind_before_s INTEGER NOT NULL, met INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (item, clock)
);
CREATE TABLE IF NOT EXISTS due (
    item TEXT NOT NULL, clock TEXT NOT NULL, kind TEXT NOT NULL, occurrence INTEGER NOT NULL,
    fire_at INTEGER NOT NULL, planned_at INTEGER NOT NULL, due_at INTEGER,
    quiet_shift TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
    actor TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (item, clock, kind, occurrence)
);
CREATE INDEX IF NOT EXISTS due_fire_at ON due (fire_at);
"""

#: The item events the index reads; everything else in the log is passed over.
TOPICS: tuple[str, ...] = tuple(
    cls.TOPIC
    for cls in (
        ev.Assigned, ev.PlanSubmitted, ev.ExtensionApproved, ev.Deployed,
        ev.FeedbackSubmitted, ev.ProgressReported, ev.Resolved, ev.Returned, ev.Urged,
        ev.ClosedOut, ev.Cancelled, ev.FeedbackAccepted, ev.ExtensionRequested,
        ev.ExtensionDenied,
    )
)  # fmt: skip

_MET: dict[type[ev.ItemEvent], str] = {
    ev.Deployed: Clock.DEPLOY.value,
    ev.FeedbackSubmitted: Clock.FEEDBACK.value,
}


_EPOCH = datetime(1970, 1, 1, 8, tzinfo=SHANGHAI)
_US = timedelta(microseconds=1)


def to_us(t: datetime) -> int:
    """An instant as integer microseconds since the epoch (exact, sortable)."""
    return (t - _EPOCH) // _US


def from_us(us: int) -> datetime:
    """The Shanghai-time instant of :func:`to_us` microseconds."""
    return _EPOCH + timedelta(microseconds=us)


@dataclass(frozen=True)
class DueRow:
    """One reminder waiting in the index."""

    item: UUID
    clock: str
    kind: ReminderKind
    occurrence: int
    fire_at: datetime
    planned_at: datetime
    due_at: datetime | None
    quiet_shift: str = ""
    note: str = ""  # a supervisor's words, for an urge
    actor: str = ""  # the supervisor who urged


class ReminderIndex:
    """The due-time table and the log position it reflects."""

    def __init__(self, path: str | Path, policy: Policy) -> None:
        self.path = Path(path)
        self.policy = policy
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database file."""
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- position ----------------------------------------------------------------------------

    def position(self, name: str = "log") -> int:
        """The last log position applied (0 before the first)."""
        row = self.db.execute("SELECT value FROM position WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _set_position(self, value: int, name: str = "log") -> None:
        self.db.execute(
            "INSERT INTO position (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, value),
        )

    def apply(self, position: int, events: Iterable[object]) -> None:
        """Apply a batch of item events and record ``position``, in one transaction."""
        with self.transaction():
            for event in events:
                self._apply(event)
            self._set_position(position)

    def reset(self) -> None:
        """Forget everything (before a rebuild from the start of the log)."""
        with self.transaction():
            for table in ("clocks", "due", "position"):
                self.db.execute(f"DELETE FROM {table}")

    # -- reading -----------------------------------------------------------------------------

    def due(self, now: datetime, limit: int) -> list[DueRow]:
        """Rows whose ``fire_at`` is at or before ``now``, earliest first (an index range)."""
        rows = self.db.execute(
            "SELECT item, clock, kind, occurrence, fire_at, planned_at, due_at, quiet_shift, "
            "note, actor FROM due WHERE fire_at <= ? ORDER BY fire_at LIMIT ?",
            (to_us(now), limit),
        ).fetchall()
        return [_row(r) for r in rows]

    def rows(self) -> list[DueRow]:
        """Every waiting row, earliest first (tests and the CLI)."""
        rows = self.db.execute(
            "SELECT item, clock, kind, occurrence, fire_at, planned_at, due_at, quiet_shift, "
            "note, actor FROM due ORDER BY fire_at"
        ).fetchall()
        return [_row(r) for r in rows]

    def count(self) -> int:
        """How many rows wait."""
        return int(self.db.execute("SELECT count(*) FROM due").fetchone()[0])

    # -- writing by the engine ---------------------------------------------------------------

    def delete(self, row: DueRow) -> None:
        """Drop a row (sent, skipped or no longer wanted)."""
        self.db.execute(
            "DELETE FROM due WHERE item = ? AND clock = ? AND kind = ? AND occurrence = ?",
            (row.item.hex, row.clock, row.kind, row.occurrence),
        )

    def put(self, row: DueRow) -> None:
        """Insert or replace a row."""
        self.db.execute(
            "INSERT OR REPLACE INTO due (item, clock, kind, occurrence, fire_at, planned_at, "
            "due_at, quiet_shift, note, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.item.hex, row.clock, row.kind, row.occurrence, to_us(row.fire_at),
                to_us(row.planned_at), None if row.due_at is None else to_us(row.due_at),
                row.quiet_shift, row.note, row.actor,
            ),
        )  # fmt: skip

    def replace_row(self, old: DueRow, new: DueRow) -> None:
        """Swap ``old`` for ``new`` atomically (next overdue notice, postponement)."""
        with self.transaction():
            self.delete(old)
            self.put(new)

    def remove(self, row: DueRow) -> None:
        """Drop a row in its own transaction."""
        with self.transaction():
            self.delete(row)

    def planned(self, item: UUID, clock: str, kind: ReminderKind, occurrence: int,
                planned: datetime, due_at: datetime | None, note: str = "",
                actor: str = "") -> DueRow:  # fmt: skip
        """A row for a reminder planned at ``planned``, moved out of quiet hours if need be."""
        fire_at, shift = shift_quiet(self.policy.quiet_hours, planned, due_at, kind)
        return DueRow(item, clock, kind, occurrence, fire_at, planned, due_at, shift, note, actor)

    # -- following the log -------------------------------------------------------------------

    def _apply(self, e: object) -> None:
        match e:
            case ev.Assigned() | ev.ExtensionApproved() | ev.PlanSubmitted():
                deadlines = (e.deadline,) if isinstance(e, ev.ExtensionApproved) else e.deadlines
                if isinstance(e, ev.PlanSubmitted):
                    self._drop_milestones(e.originator_id)
                    self._drop_rows(e.originator_id, Clock.RESOLVE.value)
                for d in deadlines:
                    self._open_clock(e.originator_id, d)
            case ev.Deployed() | ev.FeedbackSubmitted():
                self._meet(e.originator_id, _MET[type(e)])
            case ev.ProgressReported() if e.milestone:
                self._meet(e.originator_id, milestone_clock(e.milestone))
            case ev.Resolved():
                self._meet(e.originator_id, Clock.RESOLVE.value)
                self._meet(e.originator_id, PLAN_TARGET)
                self._drop_rows(e.originator_id)  # awaiting review: no clock runs
            case ev.Returned():
                reopened = ("feedback",) if e.stage == "feedback" else ("resolve", PLAN_TARGET)
                self._reopen(e.originator_id, reopened)
            case ev.Urged():
                clock = f"urge-{e.originator_version}"
                self.put(
                    self.planned(e.originator_id, clock, ReminderKind.URGE, 1,
                                 e.timestamp, None, e.message, e.actor)
                )  # fmt: skip
            case ev.ClosedOut() | ev.Cancelled():
                self._drop_rows(e.originator_id)
                self.db.execute("DELETE FROM clocks WHERE item = ?", (e.originator_id.hex,))
            case _:
                pass
        self._follow_review(e)

    def _follow_review(self, e: object) -> None:
        """The raising side's review clocks: started by the event that makes the unit wait
        (its due recorded there), stopped by the decision. They are not in ``clocks``:
        nothing reopens them."""
        match e:
            case ev.FeedbackSubmitted() | ev.Resolved() | ev.ExtensionRequested():
                d = e.review_deadline
                if d is not None:
                    self._schedule(e.originator_id, d.clock, d.due_at, d.remind_before_s)
            case ev.FeedbackAccepted():
                self._drop_rows(e.originator_id, REVIEW_FEEDBACK)
            case ev.Returned():
                review = REVIEW_FEEDBACK if e.stage == "feedback" else REVIEW_RESOLUTION
                self._drop_rows(e.originator_id, review)
            case ev.ExtensionApproved() | ev.ExtensionDenied():
                self._drop_rows(e.originator_id, review_extension_clock(e.clock))
            case _:
                pass

    def _open_clock(self, item: UUID, d: Deadline) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO clocks (item, clock, due_at, remind_before_s, met) "
            "VALUES (?, ?, ?, ?, 0)",
            (item.hex, d.clock, to_us(d.due_at), d.remind_before_s),
        )
        self._schedule(item, d.clock, d.due_at, d.remind_before_s)

    def _schedule(self, item: UUID, clock: str, due_at: datetime, remind_before_s: int) -> None:
        self._drop_rows(item, clock)
        repeat = self.policy.overdue_repeat_s
        if remind_before_s > 0:
            planned = before_due_at(due_at, remind_before_s)
            self.put(self.planned(item, clock, ReminderKind.BEFORE_DUE, 1, planned, due_at))
        self.put(
            self.planned(
                item, clock, ReminderKind.OVERDUE, 1, overdue_at(due_at, 1, repeat), due_at
            )
        )

    def _meet(self, item: UUID, clock: str) -> None:
        self.db.execute("UPDATE clocks SET met = 1 WHERE item = ? AND clock = ?", (item.hex, clock))
        self._drop_rows(item, clock)
        self._drop_rows(item, review_extension_clock(clock))  # no extension to decide any more

    def _reopen(self, item: UUID, clocks: tuple[str, ...]) -> None:
        marks = ",".join("?" * len(clocks))
        self.db.execute(
            f"UPDATE clocks SET met = 0 WHERE item = ? AND clock IN ({marks})",
            (item.hex, *clocks),
        )
        for clock, due_us, before in self.db.execute(
            "SELECT clock, due_at, remind_before_s FROM clocks WHERE item = ? AND met = 0",
            (item.hex,),
        ).fetchall():
            self._schedule(item, clock, from_us(due_us), before)

    def _drop_milestones(self, item: UUID) -> None:
        self.db.execute(
            "DELETE FROM clocks WHERE item = ? AND clock LIKE 'milestone-%'", (item.hex,)
        )
        self.db.execute("DELETE FROM due WHERE item = ? AND clock LIKE 'milestone-%'", (item.hex,))

    def _drop_rows(self, item: UUID, clock: str | None = None) -> None:
        if clock is None:
            self.db.execute(
                "DELETE FROM due WHERE item = ? AND kind != ?", (item.hex, ReminderKind.URGE)
            )
        else:
            self.db.execute("DELETE FROM due WHERE item = ? AND clock = ?", (item.hex, clock))


def _row(r: tuple[str, str, str, int, int, int, int | None, str, str, str]) -> DueRow:
    item, clock, kind, occurrence, fire_at, planned_at, due_at, shift, note, actor = r
    return DueRow(
        UUID(item), clock, ReminderKind(kind), occurrence, from_us(fire_at), from_us(planned_at),
        None if due_at is None else from_us(due_at), shift, note, actor,
    )  # fmt: skip


__all__ = ["TOPICS", "DueRow", "ReminderIndex", "from_us", "to_us"]
