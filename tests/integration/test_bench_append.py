"""The append benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from conftest import load_script
from ledger13710.domain.clock import ManualClock


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    return load_script("bench_append")


def test_main_reports_positive_rates_and_equal_event_counts(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """Five items, one round, cohorts of two: both sides write the same events, at rates > 0."""
    assert bench.main(["--items", "5", "--rounds", "1", "--batch", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    progress = report["progress"]
    for side in ("ours", "stock"):
        m = report[side]
        assert m["events"] == 5 * (progress + 7)  # NumberIssued, Registered, Assigned, ...
        assert m["commands"] == 5 * (progress + 5)
        assert m["events_per_s"] > 0
        assert m["commands_per_s"] > 0
        assert report["durability"]["measured"][side] == {
            "synchronous": 2,
            "journal_mode": "wal",
        }
        assert report["encode"][side]["us_per_event"] > 0
    assert report["ratio"] > 0
    assert [r["side"] for r in report["rounds_detail"]] == ["ours", "stock"]


def test_table_output(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """The human-readable form names both sides and the ratio."""
    assert bench.main(["--items", "2", "--rounds", "2", "--no-hints"]) == 0
    out = capsys.readouterr().out
    assert "ratio ours/stock" in out
    assert "synchronous=2 (FULL)" in out


def test_set_synchronous_reaches_pooled_and_new_connections(
    bench: ModuleType, tmp_path: Path
) -> None:
    """The pool hook really changes what the connection reports (so forcing FULL would work)."""
    app = bench._stock_app(tmp_path, ManualClock(bench.START))
    try:
        assert bench.pragmas(app) == {"synchronous": 2, "journal_mode": "wal"}
        bench.set_synchronous(app, 1)
        assert bench.pragmas(app)["synchronous"] == 1
        fresh = app.recorder.datastore.pool._create_connection()  # opened after the hook
        try:
            cursor = fresh.cursor()
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1
        finally:
            fresh.close()
        bench.set_synchronous(app, bench.SYNCHRONOUS_FULL)
        assert bench.pragmas(app)["synchronous"] == 2
    finally:
        app.close()
