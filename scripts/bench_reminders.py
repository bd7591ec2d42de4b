"""Reminder benchmark: the cost of one reminder at 10k, 100k and 1M open items.

For each size N a fresh node (SQLite store, outbox gateway) gets N assigned items written
straight into its event store (``Registered`` + ``Assigned`` per item, through the node's own
mapper). ``--due`` of them are started so their deploy reminder falls due at one instant; the
rest are spread over the next year, so the index holds ~6 rows per item that are not due.

Measured per size:

* **index build**: following the whole log into the index of due times (events per second);
* **per reminder**: wall time of the ticks that send the due reminders (intent event, one SMS
  per contact through the outbox, outcome events), divided by the reminders sent;
* **lateness**: ``sent_at - planned_at`` of every ``ReminderSent``, with a clock that starts at
  the due instant and runs with the wall clock, so it is the real delay of delivery.

The aim: the 1M per-reminder figure within 1.5x of the 10k figure (the engine pops due rows by
an index range and never scans open items).

Usage::

    python scripts/bench_reminders.py [--sizes 10000,100000,1000000] [--due 500] [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog

from ledger13710 import logging as ledger_logging
from ledger13710.application.node import Node
from ledger13710.domain import events as ev
from ledger13710.domain import reminder_events as rev
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.item import item_id
from ledger13710.domain.types import SHANGHAI, Clock, Deadline, Severity
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.node.reminders import close_engine, engine_for

NODES = Path(__file__).resolve().parents[1] / "nodes"
START = datetime(2016, 10, 20, 9, 0, tzinfo=SHANGHAI)
SUP = "sx-general-office-sup1"
BATCH = 20_000


class RunningClock:
    """Starts at ``start`` and runs with the wall clock from the moment it is created."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.perf_counter()

    def now(self) -> datetime:
        """``start`` plus the wall time elapsed since creation."""
        return self.start + timedelta(seconds=time.perf_counter() - self.t0)


def _deadlines(node: Node, day: int) -> tuple[Deadline, ...]:
    app = node.app
    started = START + timedelta(days=day)
    return tuple(
        app.policy.deadline(c, started, Severity.GENERAL, app.calendar)
        for c in (Clock.DEPLOY, Clock.FEEDBACK, Clock.RESOLVE)
    )


def populate(node: Node, size: int, due: int) -> None:
    """Write ``size`` registered-and-assigned items straight into the store."""
    app = node.app
    by_day = {d: _deadlines(node, d) for d in range(366)}
    mapper, stored = app.mapper, []
    for i in range(size):
        day = 0 if i < due else 1 + i % 365
        number = f"sx-2016-{i + 1:07d}"
        iid, at = item_id(number), START + timedelta(days=day)
        common: dict[str, Any] = {"originator_id": iid, "timestamp": at, "actor": SUP, "unit": "sx"}
        registered = ev.Registered(
            originator_version=1, number=number, title=f"基准事项{i}", detail="",
            source="executive", board="daily", severity="general", raising_unit="sx",
            lead_unit="sx/transport", **common,
        )  # fmt: skip
        assigned = ev.Assigned(
            originator_version=2, lead_unit="sx/transport", co_units=(), deadlines=by_day[day],
            **common,
        )  # fmt: skip
        stored += [mapper.to_stored_event(registered), mapper.to_stored_event(assigned)]
        if len(stored) >= BATCH:
            app.recorder.insert_events(stored)
            stored = []
    if stored:
        app.recorder.insert_events(stored)


def _checkpoint(node_dir: Path) -> None:
    """Fold the bulk load's WAL into the databases, so no tick pays for the set-up."""
    for name in ("events.sqlite", "reminders.sqlite"):
        db = sqlite3.connect(node_dir / name)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.close()


def _lateness(node: Node, due: int) -> list[float]:
    """``sent_at - planned_at`` of every ReminderSent, in seconds."""
    app = node.app
    found = app.recorder.select_notifications(
        start=1, limit=10 * due, topics=[rev.ReminderSent.TOPIC]
    )
    events = [app.mapper.to_domain_event(n) for n in found]
    return [
        (e.sent_at - e.planned_at).total_seconds()
        for e in events
        if isinstance(e, rev.ReminderSent)
    ]


def measure(size: int, due: int) -> dict[str, float]:
    """Build a node of ``size`` items and measure index build, per-reminder cost and lateness."""
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        node_dir = init_node(NODES / "sx.toml", Path(tmp) / "sx")
        node = open_node(node_dir, ManualClock(START))
        try:
            populate(node, size, due)
            engine = engine_for(node)
            t0 = time.perf_counter()
            events = engine.follow()
            build_s = time.perf_counter() - t0
            _checkpoint(node_dir)
            fire_at = _deadlines(node, 0)[0].due_at - timedelta(hours=5)
            engine.clock = RunningClock(fire_at)
            sent = 0
            t0 = time.perf_counter()
            while sent < 2 * due:
                sent += engine.tick().sent
            tick_s = time.perf_counter() - t0
            lateness = _lateness(node, due)
            rows = engine.index.count()
            close_engine(engine)
        finally:
            node.close()
    return {
        "open_items": size,
        "index_rows": rows,
        "index_build_events_per_s": events / build_s,
        "reminders": due,
        "sms": sent,
        "per_reminder_ms": 1000 * tick_s / due,
        "lateness_p50_s": statistics.median(lateness),
        "lateness_max_s": max(lateness),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the sizes and print one line (or JSON object) per size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--due", type=int, default=500, help="reminders due at the instant")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    ledger_logging.configure("error")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size, min(args.due, size))
        results.append(result)
        if not args.json:
            print(
                f"{size:>9,} open items: {result['per_reminder_ms']:.3f} ms/reminder "
                f"({result['sms']} SMS), lateness p50 {result['lateness_p50_s']:.3f}s "
                f"max {result['lateness_max_s']:.3f}s; index build "
                f"{result['index_build_events_per_s']:,.0f} events/s, "
                f"{result['index_rows']:,} rows waiting",
                flush=True,
            )
    base = results[0]["per_reminder_ms"]
    ratio = results[-1]["per_reminder_ms"] / base
    if args.json:
        json.dump({"results": results, "ratio_largest_to_smallest": ratio}, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"largest / smallest per-reminder cost: {ratio:.2f}x (aim: <= 1.5x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
