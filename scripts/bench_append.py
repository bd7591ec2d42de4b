"""Append benchmark: our node's SQLite store against a stock eventsourcing Application.

Both sides run in this process, on a file SQLite database in a fresh temporary directory, through
eventsourcing's own SQLite recorder (WAL journal), with the same durability (``PRAGMA
synchronous`` is read back from each application's connection and must be FULL = 2) and the same
aggregate cache (``AGGREGATE_CACHE_MAXSIZE=1000``, eventsourcing's default fast-forward and
deep-copy-from-cache behaviour, snapshotting every 20 events of an item).

The workload is what users do: every command is its own transaction, and every command after
the first loads the item from the repository, acts, and saves. Each of ``--items`` items goes
through register(+assign) → deploy → feedback → progress × ``--progress`` → resolve → close-out.
The commands are issued in waves (every item is registered, then every item is deployed, ...),
so commands for different items interleave as they do on a live node.

* **ours**: a real node (``init_node`` + ``open_node`` with a ``ManualClock``) driven through
  :class:`ledger13710.application.ledger.LedgerApp` (msgspec Structs, ``MsgspecMapper``, policy
  and calendar deadlines, numbering counter, directory checks).
* **stock**: an :class:`eventsourcing.application.Application` with
  :class:`eventsourcing.domain.Aggregate` subclasses whose events carry the same fields and
  value shapes (three deadlines as a registered dataclass transcoding holding datetimes, etc.),
  the default JSON transcoder, and a counter aggregate that numbers items in the same
  transaction, so both sides write exactly the same number of events.

Usage::

    python scripts/bench_append.py [--items N] [--rounds R] [--progress K] [--json] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder, Mapper, Transcoding
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnection

from ledger13710 import logging as ledger_logging
from ledger13710.application.bootstrap import init_node, open_node
from ledger13710.config import load_node_config
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.item import ITEM_NAMESPACE
from ledger13710.domain.types import SHANGHAI

ROOT = Path(__file__).resolve().parents[1]
NODE_CONFIG = ROOT / "nodes" / "sx.toml"

#: The cache setting of LedgerApp; the stock application gets the same.
CACHE_MAXSIZE = "1000"
#: LedgerApp snapshots an item every 20 events; the stock application does the same.
SNAPSHOT_INTERVAL = 20
#: SQLite's ``PRAGMA synchronous`` value for FULL.
SYNCHRONOUS_FULL = 2

START = datetime(2024, 6, 3, 9, 0, tzinfo=SHANGHAI)  # a Monday the calendar data covers

# Who does what on node "sx": a general-office supervisor raises, assigns and closes out for
# the provincial government; the transport department leads, with finance as a co-unit.
RAISING_UNIT = "sx"
LEAD_UNIT = "sx/transport"
CO_UNITS = ("sx/finance",)
SUPERVISOR = "sx-general-office-sup1"
OPERATOR = "sx-transport-op1"

TITLE = "关于加快推进全省农村公路提质改造工程的督办事项"
DETAIL = (
    "省政府常务会议研究确定，由省交通运输厅牵头、省财政厅配合，加快推进农村公路提质改造，"
    "年底前完成剩余路段的招标和开工，并按月报告进展情况和资金拨付情况。"
)
NOTE = "已召开专题会议研究部署，明确责任处室和时间节点。"
FEEDBACK = "已完成前期摸底，形成工作方案，正在组织招标，预计下月开工。"
PROGRESS = "本月完成路段招标三个，开工两个，资金拨付进度百分之四十。"
RESOLUTION = "全部路段已开工并完成年度投资计划，资金拨付到位，问题已解决。"
VERDICT = "经核查，事项已落实到位，同意销号。"


# --------------------------------------------------------------------------------------------
# The stock side
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The workload
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """How much to do: items, progress reports per item, cohort size."""

    items: int
    progress: int = 3
    batch: int = 250


def run_workload(app: Any, clock: ManualClock, work: Workload) -> int:
    """Issue every command, one transaction each; return the number of commands issued.

    Items go in cohorts of ``work.batch``; within a cohort the commands go in waves (register
    every item, then deploy every item, ...), so commands for different items interleave as on
    a live node while a cohort still fits in the aggregate cache (``batch`` <= cache size).
    """
    items, progress, batch = work.items, work.progress, work.batch
    waves: list[Callable[[str], Any]] = [
        lambda n: app.deploy(n, actor=OPERATOR, note=NOTE),
        lambda n: app.feedback(n, actor=OPERATOR, content=FEEDBACK),
        *[lambda n: app.progress(n, actor=OPERATOR, content=PROGRESS)] * progress,
        lambda n: app.resolve(n, actor=OPERATOR, content=RESOLUTION),
        lambda n: app.close_out(n, actor=SUPERVISOR, verdict=VERDICT),
    ]
    commands = 0
    for first in range(0, items, batch):
        numbers: list[str] = []
        for _ in range(min(batch, items - first)):
            result = app.register(
                title=TITLE,
                source="leader_instruction",
                board="daily",
                severity="general",
                raising_unit=RAISING_UNIT,
                lead_unit=LEAD_UNIT,
                co_units=CO_UNITS,
                actor=SUPERVISOR,
                detail=DETAIL,
                assign=True,
            )
            numbers.append(result if isinstance(result, str) else result.number)
        commands += len(numbers)
        for wave in waves:
            clock.advance(timedelta(minutes=7))
            for number in numbers:
                wave(number)
            commands += len(numbers)
    return commands


@dataclass
class SideResult:
    """One timed run of one side."""

    side: str
    events: int
    commands: int
    seconds: float
    synchronous: int
    journal_mode: str
    events_per_s: float = field(init=False)
    commands_per_s: float = field(init=False)

    def __post_init__(self) -> None:
        self.events_per_s = self.events / self.seconds if self.seconds > 0 else 0.0
        self.commands_per_s = self.commands / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Durability:
    """What each side's connection reported, and whether FULL had to be forced."""

    forced_full: bool = False
    before: dict[str, dict[str, Any]] = field(default_factory=dict)


def _prepare_durability(apps: dict[str, Application[UUID]], durability: Durability) -> None:
    """Read back the pragmas; if either side is not FULL, set FULL on both the same way."""
    seen = {side: pragmas(app) for side, app in apps.items()}
    durability.before.update(seen)
    if durability.forced_full or any(p["synchronous"] != SYNCHRONOUS_FULL for p in seen.values()):
        durability.forced_full = True
        for app in apps.values():
            set_synchronous(app, SYNCHRONOUS_FULL)


def _run_ours(
    workdir: Path, work: Workload, durability: Durability, profile: bool
) -> tuple[SideResult, pstats.Stats | None]:
    node_dir = workdir / "ours"
    init_node(NODE_CONFIG, node_dir)
    clock = ManualClock(START)
    node = open_node(node_dir, clock)
    try:
        _prepare_durability({"ours": node.app}, durability)
        seen = pragmas(node.app)
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        commands = run_workload(node.app, clock, work)
        if profiler is not None:
            profiler.disable()
        seconds = time.perf_counter() - started
        events = int(node.app.recorder.max_notification_id() or 0)
    finally:
        node.close()
    stats = pstats.Stats(profiler, stream=io.StringIO()) if profiler is not None else None
    return (
        SideResult("ours", events, commands, seconds, seen["synchronous"], seen["journal_mode"]),
        stats,
    )


def _stock_app(workdir: Path, clock: ManualClock) -> StockLedger:
    """The stock application on ``workdir/stock.sqlite``, knowing the same contacts as ours."""
    directory = load_node_config(NODE_CONFIG).directory()
    units = {c.id: c.unit for c in directory.contacts()}
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(workdir / "stock.sqlite"),
    }
    return StockLedger(clock=clock, units=units, env=env)


def _run_stock(workdir: Path, work: Workload, durability: Durability) -> SideResult:
    clock = ManualClock(START)
    app = _stock_app(workdir, clock)
    try:
        _prepare_durability({"stock": app}, durability)
        seen = pragmas(app)
        started = time.perf_counter()
        commands = run_workload(app, clock, work)
        seconds = time.perf_counter() - started
        events = int(app.recorder.max_notification_id() or 0)
    finally:
        app.close()
    return SideResult("stock", events, commands, seconds, seen["synchronous"], seen["journal_mode"])


# --------------------------------------------------------------------------------------------
# Per-phase hint: mapper encode cost of the very events each side stored
# --------------------------------------------------------------------------------------------


def _encode_hint(mapper: Mapper[UUID], db: Path, repeat: int = 3) -> dict[str, float]:
    """Decode the stored events once, then time re-encoding them with the side's mapper."""
    recorder_env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db)}
    reader: Application[UUID] = Application(env=recorder_env)
    try:
        stored = reader.recorder.select_notifications(start=1, limit=1_000_000)
    finally:
        reader.close()
    domain = [mapper.to_domain_event(s) for s in stored]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for e in domain:
            mapper.to_stored_event(e)
        best = min(best, time.perf_counter() - started)
    size = sum(len(s.state) for s in stored)
    n = max(len(stored), 1)
    return {"events": len(stored), "us_per_event": best / n * 1e6, "bytes_per_event": size / n}


def encode_hints(work: Workload) -> dict[str, dict[str, float]]:
    """Mapper (encode) cost per event for each side, on a small untimed run."""
    with tempfile.TemporaryDirectory(prefix="bench-append-hint-") as tmp:
        workdir = Path(tmp)
        durability = Durability()
        _run_ours(workdir, work, durability, profile=False)
        _run_stock(workdir, work, durability)
        node = open_node(workdir / "ours", ManualClock(START))
        try:
            ours = _encode_hint(node.app.mapper, workdir / "ours" / "events.sqlite")
        finally:
            node.close()
        stock = _stock_app(workdir, ManualClock(START))
        try:
            theirs = _encode_hint(stock.mapper, workdir / "stock.sqlite")
        finally:
            stock.close()
    return {"ours": ours, "stock": theirs}


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------


@dataclass
class BenchReport:
    """Everything one invocation measured (medians over the rounds)."""

    items: int
    rounds: int
    progress: int
    batch: int
    cache_maxsize: int
    rounds_detail: list[dict[str, Any]]
    ours: dict[str, float]
    stock: dict[str, float]
    ratio: float
    durability: dict[str, Any]
    encode: dict[str, dict[str, float]] = field(default_factory=dict)
    profile_top: str = ""


def _median_of(results: list[SideResult]) -> dict[str, float]:
    return {
        "events": float(results[0].events),
        "commands": float(results[0].commands),
        "seconds": statistics.median(r.seconds for r in results),
        "events_per_s": statistics.median(r.events_per_s for r in results),
        "commands_per_s": statistics.median(r.commands_per_s for r in results),
    }


def _profile_text(stats: pstats.Stats, limit: int = 15) -> str:
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]  # pstats writes to .stream
    stats.sort_stats("cumulative").print_stats(limit)
    return out.getvalue()


def bench(work: Workload, rounds: int, *, hints: bool = True, profile: bool = False) -> BenchReport:
    """Run ``rounds`` rounds of both sides (order alternating) and return the medians."""
    ours: list[SideResult] = []
    stock: list[SideResult] = []
    durability = Durability()
    stats: pstats.Stats | None = None
    for r in range(rounds):
        with tempfile.TemporaryDirectory(prefix="bench-append-") as tmp:
            workdir = Path(tmp)
            order = ("ours", "stock") if r % 2 == 0 else ("stock", "ours")
            for side in order:
                if side == "ours":
                    result, round_stats = _run_ours(
                        workdir, work, durability, profile and stats is None
                    )
                    stats = stats or round_stats
                    ours.append(result)
                else:
                    stock.append(_run_stock(workdir, work, durability))
    mo, ms = _median_of(ours), _median_of(stock)
    hint_work = Workload(min(work.items, 200), work.progress, work.batch)
    return BenchReport(
        items=work.items,
        rounds=rounds,
        progress=work.progress,
        batch=work.batch,
        cache_maxsize=int(CACHE_MAXSIZE),
        rounds_detail=[asdict(x) for pair in zip(ours, stock, strict=True) for x in pair],
        ours=mo,
        stock=ms,
        ratio=mo["events_per_s"] / ms["events_per_s"] if ms["events_per_s"] else 0.0,
        durability={
            "forced_full": durability.forced_full,
            "default": durability.before,
            "measured": {
                side: {"synchronous": res[0].synchronous, "journal_mode": res[0].journal_mode}
                for side, res in (("ours", ours), ("stock", stock))
            },
        },
        encode=encode_hints(hint_work) if hints else {},
        profile_top=_profile_text(stats) if stats is not None else "",
    )


def render(report: BenchReport) -> str:
    """The human-readable table."""
    d = report.durability
    lines = [
        f"append benchmark: {report.items} items x (register+assign, deploy, feedback, "
        f"progress x{report.progress}, resolve, close-out), one command per transaction, "
        f"cohorts of {report.batch} interleaved, median of {report.rounds} round(s), "
        "order alternating",
        f"both: eventsourcing.sqlite file DB, AGGREGATE_CACHE_MAXSIZE={report.cache_maxsize}, "
        f"snapshot every {SNAPSHOT_INTERVAL} item events; stock = default JSONTranscoder",
    ]
    for side in ("ours", "stock"):
        m = d["measured"][side]
        lines.append(
            f"  {side:5} PRAGMA synchronous={m['synchronous']}"
            f"{' (FULL)' if m['synchronous'] == SYNCHRONOUS_FULL else ' (NOT FULL)'} "
            f"journal_mode={m['journal_mode']}"
        )
    if d["forced_full"]:
        lines.append("  synchronous was not FULL by default: set FULL on both via the pool")
    lines += [
        "",
        f"{'side':6} {'events':>8} {'commands':>9} {'seconds':>8} {'events/s':>9} {'cmds/s':>8}",
    ]
    for side, m in (("ours", report.ours), ("stock", report.stock)):
        lines.append(
            f"{side:6} {int(m['events']):>8} {int(m['commands']):>9} {m['seconds']:>8.2f} "
            f"{m['events_per_s']:>9.0f} {m['commands_per_s']:>8.0f}"
        )
    per_round = {
        side: ", ".join(
            f"{r['events_per_s']:.0f}" for r in report.rounds_detail if r["side"] == side
        )
        for side in ("ours", "stock")
    }
    lines.append(f"events/s per round: ours [{per_round['ours']}], stock [{per_round['stock']}]")
    lines.append(f"\nratio ours/stock (events/s): {report.ratio:.2f}x")
    if report.encode:
        lines.append("mapper encode per event (to_stored_event, best of 3):")
        for side in ("ours", "stock"):
            e = report.encode[side]
            lines.append(
                f"  {side:5} {e['us_per_event']:6.1f} us/event, "
                f"{e['bytes_per_event']:5.0f} bytes/event ({int(e['events'])} events)"
            )
    if report.profile_top:
        lines += ["", "cProfile of ours (first round), by cumulative time:", report.profile_top]
    return "\n".join(lines)


@contextmanager
def quiet_logs() -> Iterator[None]:
    """Warnings only while benchmarking (info lines would go to stdout and into the timing)."""
    saved = structlog.get_config()
    ledger_logging.configure("warning")
    try:
        yield
    finally:
        structlog.configure(**saved)


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the benchmark, print the table (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--items", type=int, default=1200, help="items per side and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median is reported)")
    parser.add_argument("--progress", type=int, default=3, help="progress reports per item")
    parser.add_argument(
        "--batch", type=int, default=250, help="items interleaved per cohort (<= cache size)"
    )
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.add_argument("--no-hints", action="store_true", help="skip the mapper encode hint")
    parser.add_argument("--profile", action="store_true", help="cProfile our first round")
    args = parser.parse_args(argv)
    if min(args.items, args.rounds, args.batch) < 1 or args.progress < 0:
        parser.error("--items, --rounds and --batch must be >= 1, --progress >= 0")
    work = Workload(args.items, args.progress, args.batch)
    with quiet_logs():
        report = bench(work, args.rounds, hints=not args.no_hints, profile=args.profile)
    if args.json:
        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    else:
        print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
