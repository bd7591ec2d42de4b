"""The audit benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_audit.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_audit", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
