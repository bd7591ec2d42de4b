"""The points benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from conftest import load_script


def test_bench_points_prints_both_rebuild_rates(capsys: pytest.CaptureFixture[str]) -> None:
    """A small run rebuilds the views and the points over the same events and prints both
    rates; every generated event is read by both, and the points table is not empty."""
    bench = load_script("bench_points")
    assert bench.main(["--events", "2000", "--json"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["views_records"] == figures["points_records"] == figures["events"]
    assert figures["points_rows"] > 0
    assert figures["views_events_per_s"] > 0
    assert figures["points_events_per_s"] > 0
