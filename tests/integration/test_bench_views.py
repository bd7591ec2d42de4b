"""The views benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import ModuleType

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    return load_script("bench_views")


def test_bench_views_reports_every_figure(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """A small run rebuilds every generated event and prints rates and page timings."""
    assert bench.main(["--events", "3000", "--queries", "5", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    keys = {"events", "items", "rebuild_events_per_s", "raw_events_per_s", "rebuild_vs_raw",
            "query_p50_ms", "query_p95_ms"}  # fmt: skip
    assert keys <= set(figures)
    assert 2000 < figures["events"] <= 3000
    assert figures["items"] == 3000 // 7
    assert figures["rebuild_events_per_s"] > 0


def test_raw_baseline_writes_the_rebuilds_very_rows(bench: ModuleType, tmp_path: Path) -> None:
    """The same-rows baseline replays the rebuild's transactions: its database ends up equal,
    table by table and row by row, to the views the rebuild writes."""
    node_dir = bench.init_node(bench.ROOT / "nodes" / "sx.toml", tmp_path / "sx")
    replicas = bench.ReplicaStore(node_dir / "replicas.sqlite")
    try:
        bench.generate(replicas, 3000)
        transactions = asyncio.run(bench.capture(node_dir, tmp_path / "capture.sqlite", 500))
        assert len(transactions) > 1
        tables = {
            sql.split(" INTO ")[1].split()[0]
            for _e, _m, statements in transactions
            for sql, _r in statements
        }
        assert tables == {"items", "item_states", "timeline"}
        seconds, index_seconds = bench.raw_same_rows(
            replicas, tmp_path / "raw.sqlite", transactions
        )
        assert seconds >= index_seconds >= 0
    finally:
        replicas.close()
    asyncio.run(bench.rebuild_and_query(node_dir, 500, 2))
    raw = bench.table_rows(tmp_path / "raw.sqlite")
    assert raw == bench.table_rows(node_dir / "views.sqlite")
    assert len(raw["timeline"]) > 2000
    assert len(raw["items"]) == len(raw["item_states"]) == 3000 // 7
