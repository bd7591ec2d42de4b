"""``ledger13710 reminders`` through the real console script, with ``--now`` as the clock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"


def ok(*args: str) -> Any:
    """Run the console script with ``--json``; it must succeed quietly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    done = subprocess.run(
        [str(SCRIPT), *args, "--json"], capture_output=True, text=True, env=env,
        check=False, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), f"{args}: {done.stderr}"
    return msgspec.json.decode(done.stdout)


def test_run_once_fills_the_outbox_and_lists_it(tmp_path: Path) -> None:
    """Register at 09:00; ``run --once`` at 18:59:59 sends the deploy reminder to two contacts."""
    node = str(tmp_path / "sx")
    ok("node", "init", "--config", str(NODES / "sx.toml"), "--dir", node)
    item = ok(
        "item", "register", "--dir", node, "--now", "2016-10-20T09:00",
        "--actor", "sx-general-office-sup1", "--title", "拓宽定襄北收费站车道",
        "--source", "executive", "--board", "daily", "--raising-unit", "sx",
        "--lead-unit", "sx/transport", "--assign",
    )  # fmt: skip
    early = ok("reminders", "run", "--once", "--dir", node, "--now", "2016-10-20T18:59:58")
    assert early["sent"] == 0
    due = ok("reminders", "run", "--once", "--dir", node, "--now", "2016-10-20T18:59:59")
    assert due["sent"] == 2
    again = ok("reminders", "run", "--once", "--dir", node, "--now", "2016-10-20T19:00:30")
    assert again["sent"] == 0
    listed = ok("reminders", "--dir", node)
    texts = [m["text"] for m in listed["messages"]]
    assert len(texts) == 2
    assert all(item["number"] in t and "研究部署" in t for t in texts)
    assert [m["contact"] for m in listed["messages"]] == ["sx-transport-head", "sx-transport-op1"]
    assert all("****" in m["phone"] for m in listed["messages"])
    assert listed["alerts"] == []
    rebuilt = ok("reminders", "rebuild", "--dir", node)
    assert rebuilt["waiting"] > 0
