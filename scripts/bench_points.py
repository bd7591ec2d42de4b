"""Points benchmark: the points projection's rebuild rate next to the views rebuild.

A province node's ``replicas.sqlite`` is filled with about ``--events`` item events of a
synthetic province (the generator of ``bench_views.py``: register+assign → deploy → feedback →
progress → resolve → mostly closed out, over every county and township); then, on the same
events, the views (ledger + timeline) are rebuilt from position 0 and timed, and the points
projection (example rules ``points-v1``) is rebuilt from position 0 and timed. Both print
events per second; ``points_vs_views`` is the points rate over the views rate.

Usage::

    python scripts/bench_points.py [--events N] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_views import ROOT, generate
from ledger13710.cli.points_common import DEFAULT_RULES, load_points_rules
from ledger13710.logging import configure
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.node.points import open_points
from ledger13710.node.views import open_views
from ledger13710.replication.replica_store import ReplicaStore


async def rebuild_both(node_dir: Path) -> dict[str, Any]:
    """Rebuild the views, then the points, of the node in ``node_dir``; time each."""
    node = open_node(node_dir)
    try:
        async with open_views(node.dir, node.id, node.app.recorder) as views:
            started = time.perf_counter()
            read = await views.rebuild()
            views_s = time.perf_counter() - started
        rules = load_points_rules(DEFAULT_RULES)
        async with open_points(node.dir, node.id, node.app.recorder, rules) as points:
            started = time.perf_counter()
            priced = await points.rebuild()
            points_s = time.perf_counter() - started
            (count,) = (await points.store.fetchall("SELECT COUNT(*) FROM points"))[0]
    finally:
        node.close()
    return {
        "views_records": read,
        "views_events_per_s": round(read / views_s),
        "points_records": priced,
        "points_rows": int(count),
        "points_events_per_s": round(priced / points_s),
        "points_vs_views": round((priced / points_s) / (read / views_s), 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Generate, rebuild both projections, print the rates."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--json", action="store_true", help="one JSON line of figures")
    args = parser.parse_args(argv)
    configure("warning", json=True)
    with tempfile.TemporaryDirectory() as tmp:
        node_dir = init_node(ROOT / "nodes" / "sx.toml", Path(tmp) / "sx")
        replicas = ReplicaStore(node_dir / "replicas.sqlite")
        try:
            events, items = generate(replicas, args.events)
        finally:
            replicas.close()
        figures = {"events": events, "items": items, **asyncio.run(rebuild_both(node_dir))}
    if args.json:
        print(json.dumps(figures))
    else:
        for key, value in figures.items():
            print(f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
