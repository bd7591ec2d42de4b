"""The stock side of the append benchmark: a ledger written as a stock eventsourcing user would.

:class:`StockLedger` is an :class:`eventsourcing.application.Application` with
:class:`eventsourcing.domain.Aggregate` subclasses (:class:`StockItem`, and :class:`StockCounter`
numbering items in the same transaction) whose events carry the same fields and value shapes as
ours (three deadlines as a registered dataclass transcoding holding datetimes, etc.), with the
default JSON transcoder. It issues the same commands as
:class:`ledger13710.application.ledger.LedgerApp`, one transaction each, so both sides write
exactly the same number of events: it is the baseline ``bench_append`` measures our node against.

It also holds the SQLite helpers both sides are checked with (:func:`pragmas` reads back
``synchronous`` and ``journal_mode``, :func:`set_synchronous` forces a level on a pool), and the
settings both sides share (aggregate cache size, snapshot interval, ``synchronous`` FULL).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Transcoding
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnection

from ledger13710.domain.clock import ManualClock
from ledger13710.domain.item import ITEM_NAMESPACE

#: The cache setting of LedgerApp; the stock application gets the same.
CACHE_MAXSIZE = "1000"
#: LedgerApp snapshots an item every 20 events; the stock application does the same.
SNAPSHOT_INTERVAL = 20
#: SQLite's ``PRAGMA synchronous`` value for FULL.
SYNCHRONOUS_FULL = 2


@dataclass(frozen=True)
class StockDeadline:
    """The same shape as ``ledger13710.domain.types.Deadline``, as a stock user would write it."""

    clock: str
    started_at: datetime
    due_at: datetime
    remind_before_s: int
    policy_version: str
    calendar_version: str
    day_basis: str
    calendar_fallback: bool = False


class StockDeadlineAsDict(Transcoding):
    """The transcoding a stock user registers for a nested dataclass (datetimes inside)."""

    type = StockDeadline
    name = "deadline"

    def encode(self, obj: StockDeadline) -> dict[str, Any]:
        """The dataclass's fields; the transcoder encodes the datetimes inside."""
        return {f.name: getattr(obj, f.name) for f in fields(StockDeadline)}

    def decode(self, data: dict[str, Any]) -> StockDeadline:
        """Rebuild the dataclass (the datetimes are already decoded)."""
        return StockDeadline(**data)


def stock_item_id(number: str) -> UUID:
    """The same deterministic id as ours."""
    return uuid5(ITEM_NAMESPACE, number)


class StockCounter(Aggregate):
    """Issues item numbers; its creation event issues the first number (as ours does)."""

    @staticmethod
    def create_id(prefix: str, year: int, **_: Any) -> UUID:
        """One counter per node prefix and year."""
        return uuid5(ITEM_NAMESPACE, f"numbering:{prefix}:{year}")

    @event("FirstNumberIssued")
    def __init__(self, prefix: str, year: int, number: str, actor: str, unit: str) -> None:
        self.prefix = prefix
        self.year = year
        self.last = number

    @event("NumberIssued")
    def issued(self, number: str, actor: str, unit: str) -> None:
        """Record that ``number`` was issued."""
        self.last = number

    def issue(self, actor: str, unit: str) -> str:
        """Issue the next number."""
        number = f"{self.prefix}-{self.year}-{self.version + 1:04d}"
        self.issued(number=number, actor=actor, unit=unit)
        return number

    @classmethod
    def start(cls, prefix: str, year: int, actor: str, unit: str) -> tuple[StockCounter, str]:
        """A new counter whose creation issues number 1."""
        number = f"{prefix}-{year}-0001"
        return cls(prefix=prefix, year=year, number=number, actor=actor, unit=unit), number


class StockItem(Aggregate):
    """A supervised item with the same events and fields as ours."""

    @staticmethod
    def create_id(number: str, **_: Any) -> UUID:
        """Deterministic id from the item number."""
        return stock_item_id(number)

    @event("Registered")
    def __init__(
        self,
        *,
        number: str,
        title: str,
        detail: str,
        source: str,
        board: str,
        severity: str,
        raising_unit: str,
        lead_unit: str,
        co_units: tuple[str, ...],
        reference: str,
        origin_node: str,
        parent_id: UUID | None,
        parent_number: str,
        part: str,
        actor: str,
        unit: str,
    ) -> None:
        self.number = number
        self.title = title
        self.detail = detail
        self.severity = severity
        self.raising_unit = raising_unit
        self.lead_unit = lead_unit
        self.co_units = tuple(co_units)
        self.state = "registered"
        self.deadlines: dict[str, StockDeadline] = {}
        self.reports = 0

    def _check(self, *allowed: str) -> None:
        if self.state not in allowed:
            msg = f"item {self.number} is {self.state}"
            raise ValueError(msg)

    @event("Assigned")
    def assigned(
        self,
        *,
        lead_unit: str,
        co_units: tuple[str, ...],
        deadlines: tuple[StockDeadline, ...],
        note: str,
        actor: str,
        unit: str,
    ) -> None:
        """交办."""
        self.state = "assigned"
        self.deadlines = {d.clock: d for d in deadlines}

    @event("Deployed")
    def deployed(self, note: str, actor: str, unit: str) -> None:
        """研究部署."""
        self.state = "deployed"

    @event("FeedbackSubmitted")
    def feedback_submitted(self, content: str, actor: str, unit: str) -> None:
        """反馈."""
        self.state = "in_progress"

    @event("ProgressReported")
    def progress_reported(self, content: str, milestone: int, actor: str, unit: str) -> None:
        """进展."""
        self.reports += 1

    @event("Resolved")
    def resolved(self, content: str, actor: str, unit: str) -> None:
        """落实解决."""
        self.state = "resolved"

    @event("ClosedOut")
    def closed_out(self, verdict: str, actor: str, unit: str) -> None:
        """销号."""
        self.state = "closed"


def stock_deadlines(now: datetime) -> tuple[StockDeadline, ...]:
    """Three deadlines of the same shape as ours (calendar days: the stock side has no policy)."""
    end = now.replace(hour=23, minute=59, second=59, microsecond=0)
    return tuple(
        StockDeadline(
            clock=clock,
            started_at=now,
            due_at=end + timedelta(days=days),
            remind_before_s=18000,
            policy_version="13710-v1",
            calendar_version="chinesecalendar-1.11.0",
            day_basis="calendar",
        )
        for clock, days in (
            ("deploy", 0),
            ("feedback", 3),
            ("resolve", 7),
        )
    )


class StockLedger(Application[UUID]):
    """A stock Application issuing the same commands, one transaction each."""

    name = "stockledger"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {StockItem: SNAPSHOT_INTERVAL}

    def __init__(self, *, clock: ManualClock, units: dict[str, str], env: dict[str, str]) -> None:
        self.clock = clock
        self.units = units
        super().__init__(env={"AGGREGATE_CACHE_MAXSIZE": CACHE_MAXSIZE, **env})

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Stock transcodings plus the one for the nested deadline dataclass."""
        super().register_transcodings(transcoder)
        transcoder.register(StockDeadlineAsDict())

    def register(
        self,
        *,
        title: str,
        source: str,
        board: str,
        severity: str,
        raising_unit: str,
        lead_unit: str,
        actor: str,
        co_units: Sequence[str] = (),
        detail: str = "",
        assign: bool = False,
    ) -> str:
        """立项 (and, with ``assign``, 交办) in one transaction, numbered by the counter."""
        unit = self.units[actor]
        now = self.clock.now()
        counter_id = StockCounter.create_id("sx", now.year)
        try:
            counter: StockCounter = self.repository.get(counter_id)
            number = counter.issue(actor, unit)
        except AggregateNotFoundError:
            counter, number = StockCounter.start("sx", now.year, actor, unit)
        item = StockItem(
            number=number,
            title=title,
            detail=detail,
            source=source,
            board=board,
            severity=severity,
            raising_unit=raising_unit,
            lead_unit=lead_unit,
            co_units=tuple(co_units),
            reference="",
            origin_node="sx",
            parent_id=None,
            parent_number="",
            part="",
            actor=actor,
            unit=unit,
        )
        if assign:
            item.assigned(
                lead_unit=lead_unit,
                co_units=tuple(co_units),
                deadlines=stock_deadlines(now),
                note="",
                actor=actor,
                unit=unit,
            )
        self.save(counter, item)
        return number

    def _act(self, number: str, actor: str, command: Callable[[StockItem, str], None]) -> None:
        unit = self.units[actor]
        item: StockItem = self.repository.get(stock_item_id(number))
        command(item, unit)
        self.save(item)

    def deploy(self, number: str, *, actor: str, note: str = "") -> None:
        """研究部署."""

        def cmd(it: StockItem, unit: str) -> None:
            it._check("assigned")
            it.deployed(note=note, actor=actor, unit=unit)

        self._act(number, actor, cmd)

    def feedback(self, number: str, *, actor: str, content: str) -> None:
        """反馈."""

        def cmd(it: StockItem, unit: str) -> None:
            it._check("deployed")
            it.feedback_submitted(content=content, actor=actor, unit=unit)

        self._act(number, actor, cmd)

    def progress(self, number: str, *, actor: str, content: str, milestone: int = 0) -> None:
        """进展."""

        def cmd(it: StockItem, unit: str) -> None:
            it._check("in_progress")
            it.progress_reported(content=content, milestone=milestone, actor=actor, unit=unit)

        self._act(number, actor, cmd)

    def resolve(self, number: str, *, actor: str, content: str) -> None:
        """落实解决."""

        def cmd(it: StockItem, unit: str) -> None:
            it._check("in_progress")
            it.resolved(content=content, actor=actor, unit=unit)

        self._act(number, actor, cmd)

    def close_out(self, number: str, *, actor: str, verdict: str) -> None:
        """销号."""

        def cmd(it: StockItem, unit: str) -> None:
            it._check("resolved")
            it.closed_out(verdict=verdict, actor=actor, unit=unit)

        self._act(number, actor, cmd)


# --------------------------------------------------------------------------------------------
# Durability: read back and (if needed) set PRAGMA synchronous on every pooled connection
# --------------------------------------------------------------------------------------------


def sqlite_recorder(app: Application[UUID]) -> SQLiteApplicationRecorder:
    """The application's SQLite recorder (both sides must use eventsourcing.sqlite)."""
    recorder = app.recorder
    if not isinstance(recorder, SQLiteApplicationRecorder):
        msg = f"{type(app).__name__} does not use eventsourcing.sqlite: {type(recorder)}"
        raise TypeError(msg)
    return recorder


def pragmas(app: Application[UUID]) -> dict[str, Any]:
    """``synchronous`` and ``journal_mode`` as seen by the app's writer connection."""
    datastore = sqlite_recorder(app).datastore
    with datastore.get_connection(commit=True) as conn:
        cursor = conn.cursor()
        cursor.execute("PRAGMA synchronous")
        synchronous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA journal_mode")
        journal = str(cursor.fetchone()[0])
    return {"synchronous": synchronous, "journal_mode": journal}


def set_synchronous(app: Application[UUID], level: int) -> None:
    """Set ``PRAGMA synchronous`` on every connection of the app's SQLite pool, now and later.

    ``synchronous`` is per connection and eventsourcing's ``SQLiteConnectionPool`` has no
    setting for it, so this runs the pragma on the connections already pooled and wraps the
    pool's ``_create_connection`` so connections it opens later get it too.
    """
    pool = sqlite_recorder(app).datastore.pool
    statement = f"PRAGMA synchronous={int(level)}"
    create = pool._create_connection

    def create_with_pragma() -> SQLiteConnection:
        conn = create()
        conn._sqlite_conn.execute(statement)
        return conn

    setattr(pool, "_create_connection", create_with_pragma)  # noqa: B010 - instance override
    for conn in list(pool._pool):
        conn._sqlite_conn.execute(statement)
