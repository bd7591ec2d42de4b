"""The views benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_views.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """The script, imported from its path (it is not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_views", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


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
