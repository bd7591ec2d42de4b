"""The main job, ``scripts/demo.py`` (what ``bash scripts/demo.sh`` runs), end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "scripts" / "demo.py"


@pytest.mark.slow
def test_the_demo_federation_plays_the_worked_example_and_audits_clean(tmp_path: Path) -> None:
    """Fourteen node processes over a real nats-server: the reminder goes out, the province
    drills down to the township, the item is closed out at every tier, and every log the
    province holds verifies; everything stops by itself."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        [sys.executable, str(DEMO), "--keep", str(tmp_path / "demo")],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "【13710督办提醒】晋昌镇人民政府" in out  # the township's SMS before its deadline
    assert "sx.xinzhou.dingxiang.jinchang" in out  # the command view reaches the township
    assert out.count("已销号") >= 4  # closed out at the province, city, county and township
    assert "4 logs verified: every log intact" in out
    assert "Traceback" not in done.stderr
