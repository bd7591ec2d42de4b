"""The audit benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import json
from types import ModuleType

import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    return load_script("bench_audit")


def test_main_verifies_the_built_store_and_reports_rates(
    bench: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    """300 events in batches of 50: the store verifies, with two checkpoints and rates > 0."""
    assert bench.main(["--events", "300", "--batch", "50", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["events"], report["ok"]) == (300, True)
    for key in ("verify_events_per_s", "raw_read_events_per_s", "raw_memory_events_per_s"):
        assert report[key] > 0


def test_table_output(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """The human-readable form names verify, both raw chains and the ratios."""
    assert bench.main(["--events", "20", "--batch", "10"]) == 0
    out = capsys.readouterr().out
    assert "intact" in out
    assert out.count("ratio verify/raw") == 2
