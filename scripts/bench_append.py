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
  transaction, so both sides write exactly the same number of events. It lives in
  ``bench_append_stock``; the report and its table live in ``bench_append_report``.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper

from bench_append_report import BenchReport, SideResult, render
from bench_append_stock import (
    CACHE_MAXSIZE,
    SYNCHRONOUS_FULL,
    StockLedger,
    pragmas,
    set_synchronous,
)
from ledger13710 import logging as ledger_logging
from ledger13710.config.node import load_node_config
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import init_node, open_node

ROOT = Path(__file__).resolve().parents[1]
NODE_CONFIG = ROOT / "nodes" / "sx.toml"

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
