"""Replication benchmark: a township's log reaching the province, against raw JetStream publishing.

One run, one nats-server 2.15 on a free 127.0.0.1 port (:class:`LocalFederation`):

1. **ours** — ``--events`` events are written to the township node's store (in this process,
   before any node runs; items of about 20 events each, as items live; its reminder index
   follows and a checkpoint is signed, as in the running node); then the
   province and the township start as ``ledger13710 node run`` processes and the township's
   publisher moves its backlog upward while the province ingests it. Measured from the replica
   store the province writes: from the first record's publish time to the last record's ingest
   time (process start-up excluded), and each record's publish→ingest lag (p50, p99, max).
   ``publish only`` is the span of publish times alone.
2. **raw** — the same payloads with the same headers (chain hash included, read from the
   township's log as its publisher reads it), ``publish_async`` pipelined in batches of 512
   exactly as the publisher does, into a separate stream on the same server, by nats-py
   directly (no store read, no ingest): first publish to last acknowledgement.

3. **idle** (``--idle N``, after the backlog) — ``N`` single events written to the township's
   store one at a time, each once the one before reached the province: the publish→ingest lag
   of a record on a quiet federation (p50, p99, max), what a user waits for.

The ratio ours/raw compares end-to-end replication with bare publishing (aim: ≥ 0.5).

Usage::

    python scripts/bench_replication.py [--events N] [--idle N] [--json] [--dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from nats.js.api import StorageType, StreamConfig

from ledger13710 import logging as ledger_logging
from ledger13710.audit.checkpoints import make_checkpoint
from ledger13710.domain.clock import ManualClock
from ledger13710.log.record import Record, headers_of
from ledger13710.node.bootstrap import open_node, parse_time
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.replication.nats.topology import DUPLICATE_WINDOW
from ledger13710.replication.publisher import read_log
from ledger13710.testing.localfed import LocalFederation

PROVINCE, TOWNSHIP = "sx", "sx.xinzhou.dingxiang.jinchang"
SUPERVISOR = "sx-xinzhou-dingxiang-jinchang-party-office-sup1"
RAISING = "sx.xinzhou.dingxiang.jinchang/party-office"
LEAD = "sx.xinzhou.dingxiang.jinchang/agri-service"
HEAD = "sx-xinzhou-dingxiang-jinchang-agri-service-head"
PER_ITEM = 15  # progress reports per item (an item's whole life is a few dozen events)
RAW_STREAM, RAW_SUBJECT = "BENCH_RAW", "bench.raw"
PIPELINE = 512  # as the publisher's batch
START = "2016-10-20T09:00"  # the fill's clock starts here


def fill(node_dir: Path, events: int) -> int:
    """Write ``events`` events to the township's store (items of about ``PER_ITEM`` events each:
    register and assign, deploy, feedback, then progress reports saved together), bring its
    reminder index up to date and sign a checkpoint, as the running node would have; return the
    log's last position."""
    clock = ManualClock(parse_time(START))
    node = open_node(node_dir, clock)
    try:
        app = node.app
        position = app.recorder.max_notification_id() or 0
        i = 0
        while position < events:
            i += 1
            clock.advance(timedelta(minutes=1))
            number = app.register(
                title=f"基准事项 {i}", source="key_work", board="key-work", severity="general",
                raising_unit=RAISING, lead_unit=LEAD, actor=SUPERVISOR, assign=True,
            ).number  # fmt: skip
            app.deploy(number, actor=HEAD)
            app.feedback(number, actor=HEAD, content="开始办理")
            position = app.recorder.max_notification_id() or 0
            item = app.load(number)
            for _ in range(min(PER_ITEM, events - position)):
                clock.advance(timedelta(seconds=1))
                item.progress(content=f"进展 {position}", now=clock.now(), actor=HEAD, unit=LEAD)
            app.save(item)
            position = app.recorder.max_notification_id() or 0
        # what the running node does as its log grows, done here so that it does not all
        # happen at once while the backlog is replicated: the reminder index follows the log,
        # and a checkpoint covers it
        engine = engine_for(node, clock)
        try:
            engine.follow()
        finally:
            close_engine(engine)
        make_checkpoint(node)
        return position
    finally:
        node.close()


def published_records(node_dir: Path) -> list[Record]:
    """The township's log exactly as its publisher sends it (envelope and chain hash)."""
    node = open_node(node_dir, ManualClock(parse_time(START)))
    try:
        records: list[Record] = []
        while batch := read_log(node.app, node.app.node_id, records[-1].seq if records else 0,
                                PIPELINE):  # fmt: skip
            records += batch
        return records
    finally:
        node.close()


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def replicated(fed: LocalFederation, total: int, timeout: float) -> dict[str, Any]:
    """Start both nodes, wait until the province holds ``total`` township records; measure."""
    fed.start_node(PROVINCE)
    fed.start_node(TOWNSHIP)
    fed.wait_until(
        lambda: len(fed.lags_ms(PROVINCE, TOWNSHIP)) >= total,
        timeout,
        interval=0.1,
        what=f"{total} township events at the province",
    )
    path = fed.node_dir(PROVINCE) / "replicas.sqlite"
    with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        first_pub, last_pub, last_ingest = db.execute(
            "SELECT min(published_ns), max(published_ns), max(ingested_ns) FROM replica_events "
            "WHERE origin = ? AND published_ns > 0",
            (TOWNSHIP,),
        ).fetchone()
    seconds = (last_ingest - first_pub) / 1e9
    lags = fed.lags_ms(PROVINCE, TOWNSHIP)
    return {
        "events": len(lags),
        "seconds": round(seconds, 3),
        "events_per_s": round(len(lags) / seconds, 1),
        "publish_only_events_per_s": round(len(lags) / max((last_pub - first_pub) / 1e9, 1e-9), 1),
        "lag_ms": {
            "p50": round(statistics.median(lags), 1),
            "p99": round(percentile(lags, 0.99), 1),
            "max": round(max(lags), 1),
        },
    }


async def raw_publish(fed: LocalFederation, records: list[Record]) -> dict[str, Any]:
    """The same payloads and headers, pipelined the same way, straight into another stream."""
    nc = await fed.admin()
    try:
        js = nc.jetstream(timeout=30)
        await js.add_stream(
            StreamConfig(
                name=RAW_STREAM, subjects=[f"{RAW_SUBJECT}.>"], storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW,
            )
        )  # fmt: skip
        subject = f"{RAW_SUBJECT}.{TOWNSHIP}._"
        start = time.perf_counter()
        for i in range(0, len(records), PIPELINE):
            futures = [
                await js.publish_async(subject, r.state, headers=headers_of(r))
                for r in records[i : i + PIPELINE]
            ]
            await asyncio.gather(*futures)
        seconds = time.perf_counter() - start
        stored = (await js.stream_info(RAW_STREAM)).state.messages
    finally:
        await nc.close()
    return {
        "events": stored,
        "seconds": round(seconds, 3),
        "events_per_s": round(len(records) / seconds, 1),
    }


def idle_lags(fed: LocalFederation, count: int, timeout: float) -> dict[str, Any]:
    """Write ``count`` events one at a time, each after the one before arrived; their lags."""
    node = open_node(fed.node_dir(TOWNSHIP), ManualClock(parse_time(START)))
    try:
        number = node.app.register(
            title="空闲基准", source="key_work", board="key-work", severity="general",
            raising_unit=RAISING, lead_unit=LEAD, actor=SUPERVISOR, assign=True,
        ).number  # fmt: skip
        node.app.deploy(number, actor=HEAD)
        node.app.feedback(number, actor=HEAD, content="开始办理")
        for i in range(count):
            node.app.progress(number, actor=HEAD, content=f"空闲 {i}")
            target = node.app.recorder.max_notification_id() or 0  # every record arrives
            fed.wait_until(
                lambda: len(fed.lags_ms(PROVINCE, TOWNSHIP)) >= target,  # noqa: B023 - called now
                timeout, interval=0.01, what=f"idle event {i} at the province",
            )  # fmt: skip
            time.sleep(0.05)
    finally:
        node.close()
    lags = fed.lags_ms(PROVINCE, TOWNSHIP)[-count:]  # one event each, the last ones
    return {
        "events": len(lags),
        "lag_ms": {
            "p50": round(statistics.median(lags), 1),
            "p99": round(percentile(lags, 0.99), 1),
            "max": round(max(lags), 1),
        },
    }


def run(base: Path, events: int, timeout: float, idle: int = 0) -> dict[str, Any]:
    """The whole benchmark in ``base``."""
    # the nodes run at the fill's start time: no reminder falls due and adds to the log
    fed = LocalFederation(base, [PROVINCE, TOWNSHIP], log_level="warning", clock_env=START)
    try:
        fed.start(spawn=False)
        started = time.perf_counter()
        total = fill(fed.node_dir(TOWNSHIP), events)
        fill_s = time.perf_counter() - started
        ours = replicated(fed, total, timeout)
        records = published_records(fed.node_dir(TOWNSHIP))
        assert len(records) == total
        raw = asyncio.run(asyncio.wait_for(raw_publish(fed, records), timeout))
        quiet = idle_lags(fed, idle, timeout) if idle else None
    finally:
        fed.stop()
    return {
        "events": total,
        "fill_seconds": round(fill_s, 3),
        "ours": ours,
        "raw": raw,
        "ratio": round(ours["events_per_s"] / raw["events_per_s"], 3),
        **({"idle": quiet} if quiet else {}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=20_000, help="township events to replicate")
    parser.add_argument("--idle", type=int, default=0, help="then this many single events")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--dir", help="keep the run in this (new) directory")
    parser.add_argument("--timeout", type=float, default=120.0, help="give up after (seconds)")
    args = parser.parse_args(argv)
    ledger_logging.configure("warning")
    if args.dir:
        report = run(Path(args.dir), args.events, args.timeout, args.idle)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-replication-") as tmp:
            report = run(Path(tmp) / "fed", args.events, args.timeout, args.idle)
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    ours, raw = report["ours"], report["raw"]
    lag = ours["lag_ms"]
    print(f"township → province, {report['events']} events (store filled in "
          f"{report['fill_seconds']} s)")  # fmt: skip
    print(f"  ours: {ours['events_per_s']:>10.1f} events/s end to end ({ours['seconds']} s), "
          f"publish alone {ours['publish_only_events_per_s']:.1f}/s; "
          f"lag p50 {lag['p50']} ms, p99 {lag['p99']} ms, max {lag['max']} ms")  # fmt: skip
    print(
        f"  raw:  {raw['events_per_s']:>10.1f} events/s nats-py publish_async ({raw['seconds']} s)"
    )
    print(f"  ratio ours/raw: {report['ratio']:.3f}")
    if "idle" in report:
        lag = report["idle"]["lag_ms"]
        print(f"  idle: {report['idle']['events']} single events, lag p50 {lag['p50']} ms, "
              f"p99 {lag['p99']} ms, max {lag['max']} ms")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
