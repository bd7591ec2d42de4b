"""The replication benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    return load_script("bench_replication")


def test_json_report_counts_every_event_on_both_sides(
    bench: ModuleType, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """300 township events reach the province; the raw side stores the same number."""
    assert bench.main(["--events", "300", "--json", "--dir", str(tmp_path / "run")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events"] == 300
    assert report["ours"]["events"] == report["raw"]["events"] == 300
    for side in ("ours", "raw"):
        assert report[side]["events_per_s"] > 0
    lag = report["ours"]["lag_ms"]
    assert 0 <= lag["p50"] <= lag["p99"] <= lag["max"]
    assert report["ratio"] > 0


def test_table_output(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """The human-readable form names both sides and the ratio."""
    assert bench.main(["--events", "50"]) == 0
    out = capsys.readouterr().out
    assert "ratio ours/raw" in out
    assert "raw:" in out
