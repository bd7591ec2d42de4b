"""Views benchmark: rebuild over a synthetic province's events, against raw decode + inserts.

1. **Generate** ``--events`` item events (default 200,000; run ``--events 1000000`` for the
   full figure) with the domain's own :class:`~ledger13710.domain.item.Item` commands, spread
   over the townships and counties of a synthetic province (``ledger13710.testing.synthetic.plan``),
   and apply them as ``read_log``-compatible records to a province node's ``replicas.sqlite``
   through :meth:`ReplicaStore.apply` (the path NATS replication takes). Each item goes
   register+assign → deploy → feedback → progress → resolve, and most are closed out, in waves.
2. **Capture** (not timed): a projector rebuilds the views into a scratch read store whose
   ``write`` keeps every transaction it is given: the positions it expects and moves, and
   each statement with its rows, exactly as the projector hands them to SQLite.
3. **Raw, same rows** (the headline baseline, ``raw_events_per_s``): into a fresh SQLite
   file with the read store's settings and tables (WAL, the store's ``PRAGMAS``, tables
   without query indexes, as after a reset), for each captured transaction in order: read
   that transaction's records from the replicas (per origin, the range its positions cover),
   ``msgspec``-decode each item event with :func:`decode_event`, then run the captured
   transaction with :func:`~ledger13710.projections.store.write_rows`, the very function
   :meth:`ReadStore.write` runs (``BEGIN IMMEDIATE``, the positions check, one
   ``executemany`` per statement: ``items`` upserts, ``item_states`` upserts and
   ``timeline`` inserts, then the positions upsert, ``COMMIT``); finally create the same
   query indexes a rebuild creates. The rows were computed in step 2, before the clock
   starts: this measures reading + decoding + writing the very rows, statements and
   transaction sizes of a rebuild (and its index build), with no folding and no row
   building. Its database ends up equal to the rebuilt views (``raw_rows_match``).
   Python's cyclic GC is paused while it runs, as the projector pauses it while folding.
4. **Raw, timeline only** (the earlier, lighter baseline, ``raw_timeline_events_per_s``):
   read the same records, decode each, and insert one ``timeline`` row per event (built
   from the decoded event inside the timed loop) into a fresh table, committed about
   ``--batch`` rows at a time, no indexes, GC paused. It leaves out the ``items`` and
   ``item_states`` upserts, so it is *not* the same rows; printed only for comparison with
   earlier runs.
5. **Rebuild** every view (ledger + timeline) from position 0 into the node's own read
   store and time it (events/s, including the index build), as ``views rebuild`` runs it.
6. **Query**: p50/p95 of ledger pages (filters + sort + page of 50, with the total count) over
   the items the rebuild produced.

``rebuild_vs_raw`` is the rebuild's rate over the same-rows raw rate (the issue's aim: at
least 0.5); ``rebuild_vs_raw_timeline`` is over the timeline-only rate.

Usage::

    python scripts/bench_views.py [--events N] [--batch B] [--queries Q] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from ledger13710.application.mapper import decode_event, encode_event, topic_of
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.item import Item
from ledger13710.domain.types import SHANGHAI, Deadline
from ledger13710.log.chain import GENESIS, chain_next
from ledger13710.log.record import Record, make_record
from ledger13710.logging import configure
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.node.views import event_source, open_views
from ledger13710.projections import rows, schema
from ledger13710.projections.projector import Projector
from ledger13710.projections.queries import LedgerQuery, ledger_page
from ledger13710.projections.store import VIEWS_FILE, Params, ReadStore, connect, write_rows
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.testing.synthetic import plan

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2016, 1, 4, 9, 0, tzinfo=SHANGHAI)
EVENTS_PER_ITEM = 7  # registered, assigned, deployed, feedback, progress, resolved, closed out
#: One read-store transaction: expected positions, moved positions, (sql, rows) statements.
_Transaction = tuple[
    dict[tuple[str, str], int], dict[tuple[str, str], int], list[tuple[str, Sequence[Params]]]
]
BOARDS = ("daily", "key-work", "major-reform", "key-project", "tech-renovation", "investment")


def _deadlines(now: datetime) -> list[Deadline]:
    spans = (("deploy", 0.6, 5), ("feedback", 3, 5), ("resolve", 7, 24))
    return [
        Deadline(
            clock=c,
            started_at=now,
            due_at=now + timedelta(days=d),
            remind_before_s=h * 3600,
            policy_version="13710-v1",
            calendar_version="bench",
            day_basis="calendar",
        )
        for c, d, h in spans
    ]


def _origin_events(origin: str, items: int, rng: random.Random) -> list[Any]:
    """The events of one origin's log: its items moved through their lifecycle in waves."""
    lead, sup = f"{origin}/office", origin
    made: list[Item] = []
    now = START + timedelta(hours=rng.randint(0, 24 * 400))
    for i in range(items):
        now += timedelta(hours=rng.randint(1, 48))
        item = Item.register(
            number=f"{origin}-{now.year}-{i + 1:04d}", title=f"督办事项{i}", detail="",
            source="executive", board=rng.choice(BOARDS), severity="general", raising_unit=sup,
            lead_unit=lead, co_units=(), now=now, actor=f"{origin}-sup", unit=sup,
            origin_node=origin,
        )  # fmt: skip
        item.assign(deadlines=_deadlines(now), now=now, actor=f"{origin}-sup", unit=sup)
        made.append(item)
    waves: list[Callable[[Item, datetime], None]] = [
        lambda it, t: it.deploy(note="已部署", now=t, actor="op", unit=lead),
        lambda it, t: it.feedback(content="已反馈", now=t, actor="op", unit=lead),
        lambda it, t: it.progress(content="进展", now=t, actor="op", unit=lead),
        lambda it, t: it.resolve(content="已解决", now=t, actor="op", unit=lead),
        lambda it, t: it.close_out(verdict="同意销号", now=t, actor="sup", unit=sup),
    ]
    events: list[Any] = [e for it in made for e in it.collect_events()]
    for k, wave in enumerate(waves):
        for it in made:
            if k < 4 or rng.random() < 0.8:
                wave(it, it.state.updated_at + timedelta(hours=rng.randint(2, 30 * (k + 1))))
                events.extend(it.collect_events())
    return events


def generate(replicas: ReplicaStore, events: int, seed: int = 0) -> tuple[int, int]:
    """Fill ``replicas`` with about ``events`` events; returns (events, items)."""
    rng = random.Random(seed)
    origins = [c.node.id for c in plan(seed=seed) if c.node.id != "sx"]
    items = max(1, events // EVENTS_PER_ITEM)
    per_origin = [items // len(origins) + (i < items % len(origins)) for i in range(len(origins))]
    total = 0
    for origin, n in zip(origins, per_origin, strict=True):
        if not n:
            continue
        records: list[Record] = []
        chain = GENESIS
        for seq, e in enumerate(_origin_events(origin, n, rng), 1):
            r = make_record(origin, seq, seq - 1, topic_of(e), str(e.originator_id),
                            e.originator_version, encode_event(e))  # fmt: skip
            chain = chain_next(chain, bytes.fromhex(r.hash))  # as the publisher links them
            records.append(msgspec.structs.replace(r, chain=chain.hex()))
        replicas.apply(records)
        total += len(records)
    return total, items


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic GC off, as the projector has it while folding: the baselines get the same."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def raw_timeline(replicas: ReplicaStore, db_path: Path, batch: int) -> float:
    """Seconds to read, decode and insert one ``timeline`` row per event (the light baseline).

    The same records the rebuild reads (each origin in bounded batches), decoded by the same
    function, made into the same ``timeline`` rows (same table, same columns) and committed
    in transactions of about ``batch`` rows: the folding and the ``items``/``item_states``
    rows are left out, so this is *not* the rows a rebuild writes.
    """
    db = connect(db_path)  # the read store's settings
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema.TABLES[schema.TIMELINE])
    insert = f"INSERT INTO timeline VALUES ({', '.join('?' * 9)})"
    started = time.perf_counter()
    pending: list[tuple[Any, ...]] = []
    for status in replicas.statuses():
        after = 0
        while records := replicas.records(status.origin, after, limit=batch):
            pending.extend(
                rows.timeline_row(decode_event(r.topic, r.state), r.origin, r.seq, r.state)
                for r in records
            )
            after = records[-1].seq
            if len(pending) >= batch:
                _commit(db, insert, pending)
    _commit(db, insert, pending)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


class _CapturingStore(ReadStore):
    """A read store that also keeps every transaction it writes (for the same-rows baseline)."""

    captured: list[_Transaction]

    async def write(
        self,
        expected: dict[tuple[str, str], int],
        moved: dict[tuple[str, str], int],
        statements: Sequence[tuple[str, Sequence[Params]]],
    ) -> None:
        """Keep the transaction (the projector hands over fresh lists each batch), write it."""
        self.captured.append((dict(expected), dict(moved), list(statements)))
        await super().write(expected, moved, statements)


async def capture(node_dir: Path, db_path: Path, batch: int) -> list[_Transaction]:
    """Every transaction a rebuild of the node's views writes, in order (not timed)."""
    node = open_node(node_dir, ManualClock(START))
    try:
        store = await _CapturingStore.open(db_path)
        assert isinstance(store, _CapturingStore)
        store.captured = []
        source = event_source(node.id, node.app.recorder, node.dir)
        try:
            await Projector(store, source, batch=batch).rebuild()
        finally:
            source.close()
            await store.close()
    finally:
        node.close()
    return store.captured


def raw_same_rows(
    replicas: ReplicaStore, db_path: Path, transactions: list[_Transaction]
) -> tuple[float, float]:
    """Seconds to read and decode the records and write the rebuild's very rows; and, of
    those, the seconds of the final index build.

    Each captured transaction's records are read (per origin, the range its positions
    cover) and decoded, then its statements run over their precomputed rows by
    :func:`write_rows`, the transaction of :meth:`ReadStore.write`.
    """
    db = connect(db_path)  # the read store's settings
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema.POSITIONS + "".join(schema.TABLES[v] for v in schema.VIEWS))
    started = time.perf_counter()
    decoded = 0
    for expected, moved, statements in transactions:
        for (view, origin), last in moved.items():
            if view != schema.TIMELINE:
                continue  # both views move together in a rebuild: read each range once
            after = expected.get((view, origin), 0)
            for r in replicas.records(origin, after, limit=last - after):
                if r.topic in rows.ITEM_TOPICS:
                    decode_event(r.topic, r.state)
                    decoded += 1
        write_rows(db, expected, moved, statements)
    indexing = time.perf_counter()
    db.executescript("".join(schema.INDEXES[v] for v in schema.VIEWS))
    ended = time.perf_counter()
    db.close()
    if not decoded:
        raise RuntimeError("the captured transactions cover no item events")
    return ended - started, ended - indexing


_TABLES = ("items", "item_states", "timeline", "view_positions")


def table_rows(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the views' tables, in a stable order (to compare two read stores)."""
    db = sqlite3.connect(db_path)
    try:
        return {t: sorted(db.execute(f"SELECT * FROM {t}").fetchall()) for t in _TABLES}
    finally:
        db.close()


def row_counts(db_path: Path) -> dict[str, int]:
    """How many rows each of the views' tables holds."""
    db = sqlite3.connect(db_path)
    try:
        return {t: int(db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in _TABLES}
    finally:
        db.close()


def _commit(db: sqlite3.Connection, insert: str, pending: list[tuple[Any, ...]]) -> None:
    if pending:
        db.execute("BEGIN")
        db.executemany(insert, pending)
        db.execute("COMMIT")
        pending.clear()


async def rebuild_and_query(node_dir: Path, batch: int, queries: int) -> dict[str, Any]:
    """Rebuild the province's views; then time ledger pages."""
    node = open_node(node_dir, ManualClock(START))
    try:
        async with open_views(node.dir, node.id, node.app.recorder, batch=batch) as views:
            started = time.perf_counter()
            read = await views.rebuild()
            seconds = time.perf_counter() - started
            counted = await views.store.fetchone("SELECT count(*) FROM items")
            items = int(counted[0]) if counted else 0
            rng = random.Random(1)
            now = START + timedelta(days=300)
            timings = []
            for _ in range(queries):
                query = LedgerQuery(
                    board=rng.choice([None, *BOARDS]),
                    state=rng.choice([None, "closed", "resolved", "in_progress"]),
                    tier=rng.choice([None, "township", "county"]),
                    overdue=rng.random() < 0.3,
                    sort=rng.choice(["number", "due", "registered"]),
                    page=rng.randint(1, 20), page_size=50,
                )  # fmt: skip
                t0 = time.perf_counter()
                await ledger_page(views.store, query, now)
                timings.append((time.perf_counter() - t0) * 1000)
    finally:
        node.close()
    timings.sort()
    return {
        "read": read, "rebuild_s": seconds, "items": items,
        "query_p50_ms": statistics.median(timings),
        "query_p95_ms": timings[max(0, int(len(timings) * 0.95) - 1)],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure("info")  # as the CLI runs it: the per-batch debug lines are not part of the cost
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = init_node(ROOT / "nodes" / "sx.toml", Path(tmp) / "sx")
        replicas = ReplicaStore(node_dir / "replicas.sqlite")
        t0 = time.perf_counter()
        events, _items = generate(replicas, args.events)
        generated_s = time.perf_counter() - t0
        transactions = asyncio.run(capture(node_dir, Path(tmp) / "capture.sqlite", args.batch))
        with _gc_paused():
            raw_s, raw_index_s = raw_same_rows(replicas, Path(tmp) / "raw.sqlite", transactions)
        del transactions
        with _gc_paused():
            timeline_s = raw_timeline(replicas, Path(tmp) / "raw-timeline.sqlite", args.batch)
        replicas.close()
        result = asyncio.run(rebuild_and_query(node_dir, args.batch, args.queries))
        raw_counts = row_counts(Path(tmp) / "raw.sqlite")
        views_counts = row_counts(node_dir / VIEWS_FILE)
    rebuild_rate = result["read"] / result["rebuild_s"]
    figures = {
        "events": events, "items": result["items"], "generate_s": round(generated_s, 1),
        "rebuild_events_per_s": round(rebuild_rate),
        "raw_events_per_s": round(events / raw_s),
        "rebuild_vs_raw": round(rebuild_rate / (events / raw_s), 3),
        "raw_index_s": round(raw_index_s, 2),
        "raw_rows_match": raw_counts == views_counts,
        "raw_timeline_events_per_s": round(events / timeline_s),
        "rebuild_vs_raw_timeline": round(rebuild_rate / (events / timeline_s), 3),
        "query_p50_ms": round(result["query_p50_ms"], 2),
        "query_p95_ms": round(result["query_p95_ms"], 2),
    }  # fmt: skip
    if args.json:
        sys.stdout.write(json.dumps(figures) + "\n")
    else:
        for k, v in figures.items():
            sys.stdout.write(f"{k:>25}: {v}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
