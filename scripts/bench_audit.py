"""Audit benchmark: verify a node's whole log, next to a raw hashlib chain over the same bytes.

Builds a SQLite node with ``--events`` records (real ``ProgressReported`` events, msgspec JSON
as the node stores them, written through the node's chained recorder in transactions of
``--batch``), signs checkpoints at half and at the end, then times in the same process (the
best of ``--repeats`` runs each, verify and the raw read alternating):

* **verify**: ``audit verify`` of the node (record hashes recomputed from the stored events,
  chain links, Merkle roots of both checkpoints, signatures);
* **raw chain, read+hash**: ``SELECT state … ORDER BY rowid`` over the same store and
  ``h = SHA-256(h ‖ state)`` per record;
* **raw chain, in memory**: the same chain over the bytes already in a list (no I/O at all).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from uuid import uuid5

import structlog

from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint
from ledger13710.audit.store import open_audit_store
from ledger13710.audit.verify import verify_log
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.events import ProgressReported
from ledger13710.domain.item import ITEM_NAMESPACE
from ledger13710.domain.types import SHANGHAI
from ledger13710.logging import configure
from ledger13710.node.bootstrap import init_node, open_node

NODES = Path(__file__).resolve().parents[1] / "nodes"
START = datetime(2016, 10, 20, 9, tzinfo=SHANGHAI)
PER_ITEM = 200


@dataclass
class Result:
    """What one run measured."""

    events: int
    bytes_per_event: float
    build_s: float
    verify_s: float
    verify_events_per_s: float
    raw_read_events_per_s: float
    raw_memory_events_per_s: float
    ratio_vs_raw_read: float
    ratio_vs_raw_memory: float
    ok: bool


def build(node: Node, events: int, batch: int) -> None:
    """Write ``events`` progress reports through the node's recorder, ``batch`` per commit."""
    app = node.app
    written = 0
    while written < events:
        stored = []
        for i in range(written, min(events, written + batch)):
            item, version = divmod(i, PER_ITEM)
            e = ProgressReported(
                originator_id=uuid5(ITEM_NAMESPACE, f"bench-{item}"),
                originator_version=version + 1,
                timestamp=START + timedelta(seconds=i), actor="sx-transport-op1",
                unit="sx/transport", content=f"第{version + 1}次进展：收费站车道拓宽施工按计划推进",
            )  # fmt: skip
            stored.append(app.mapper.to_stored_event(e))
        app.recorder.insert_events(stored)
        written += len(stored)
        if written == events // 2:
            make_checkpoint(node)
    make_checkpoint(node)


def raw_chain(states: list[bytes]) -> bytes:
    """``h = SHA-256(h ‖ state)`` over every record's bytes."""
    h = b"\x00" * 32
    for s in states:
        h = sha256(h + s).digest()
    return h


def time_verify(node_dir: Path, key: str) -> tuple[float, bool, int]:
    """Seconds to verify the node's log; whether intact with both checkpoints; records."""
    store = open_audit_store(node_dir)
    t0 = time.perf_counter()
    try:
        report = verify_log(store, trusted_keys=[key])
    finally:
        store.close()
    return time.perf_counter() - t0, report.ok and report.checkpoints == 2, report.records


def time_raw_read(node_dir: Path) -> float:
    """Seconds to read every record's bytes in order and chain them."""
    db = sqlite3.connect(node_dir / "events.sqlite")
    try:
        t0 = time.perf_counter()
        h = b"\x00" * 32
        for (state,) in db.execute("SELECT state FROM stored_events ORDER BY rowid"):
            h = sha256(h + state).digest()
        return time.perf_counter() - t0
    finally:
        db.close()


def measure(events: int, batch: int, repeats: int = 3) -> Result:
    """Build a store in a temporary directory and time verify against the raw chains.

    Verify and the raw read alternate ``repeats`` times and the best time of each counts, so a
    busy moment on a shared machine does not land on one side only."""
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        node_dir = init_node(NODES / "sx.toml", Path(tmp) / "node")
        node = open_node(node_dir, ManualClock(START))
        t0 = time.perf_counter()
        try:
            build(node, events, batch)
        finally:
            node.close()
        build_s = time.perf_counter() - t0
        key = node.config.node.public_key
        verify_s = raw_read_s = float("inf")
        ok, records = True, 0
        for _ in range(repeats):
            took, intact, records = time_verify(node_dir, key)
            verify_s, ok = min(verify_s, took), ok and intact
            raw_read_s = min(raw_read_s, time_raw_read(node_dir))
        db = sqlite3.connect(node_dir / "events.sqlite")
        states = [s for (s,) in db.execute("SELECT state FROM stored_events ORDER BY rowid")]
        db.close()
        raw_memory_s = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            raw_chain(states)
            raw_memory_s = min(raw_memory_s, time.perf_counter() - t0)
    return Result(
        events=records, bytes_per_event=sum(map(len, states)) / len(states),
        build_s=build_s, verify_s=verify_s, verify_events_per_s=events / verify_s,
        raw_read_events_per_s=events / raw_read_s, raw_memory_events_per_s=events / raw_memory_s,
        ratio_vs_raw_read=raw_read_s / verify_s, ratio_vs_raw_memory=raw_memory_s / verify_s,
        ok=ok,
    )  # fmt: skip


def render(r: Result) -> str:
    """The human-readable lines."""
    return "\n".join([
        f"audit verify of {r.events} events ({r.bytes_per_event:.0f} bytes each, "
        f"built in {r.build_s:.1f} s): {'intact' if r.ok else 'NOT INTACT'}",
        f"  verify               {r.verify_events_per_s:>10.0f} events/s ({r.verify_s:.2f} s)",
        f"  raw chain, read+hash {r.raw_read_events_per_s:>10.0f} events/s   "
        f"ratio verify/raw {r.ratio_vs_raw_read:.2f}x",
        f"  raw chain, in memory {r.raw_memory_events_per_s:>10.0f} events/s   "
        f"ratio verify/raw {r.ratio_vs_raw_memory:.2f}x",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--events", type=int, default=100_000, help="records in the store")
    parser.add_argument("--batch", type=int, default=1000, help="records per transaction")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (best)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    if args.events < 2 or args.batch < 1 or args.repeats < 1:
        parser.error("--events must be >= 2, --batch and --repeats >= 1")
    saved = structlog.get_config()
    configure("warning", json=True)  # info lines would go to stdout and into the timing
    try:
        result = measure(args.events, args.batch, args.repeats)
    finally:
        structlog.configure(**saved)
    print(json.dumps(asdict(result), indent=2) if args.json else render(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
