"""The attachment benchmark runs end to end at a tiny size (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import load_script


def test_json_report_moves_every_file_on_both_sides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Three small files reach the province byte-identical; the raw side puts and gets them."""
    bench = load_script("bench_attachments")
    argv = ["--files", "3", "--size-kib", "4", "--json", "--dir", str(tmp_path / "run")]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["files"], report["size_kib"]) == (3, 4)
    assert report["ours"]["mib_per_s"] > 0
    assert report["raw"]["put_mib_per_s"] > 0
    assert report["raw"]["get_mib_per_s"] > 0
    assert report["ratio"] > 0
