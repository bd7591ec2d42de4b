"""The seed's worked example, through the command line only.

October 2016: wind-power flange and tower makers in Dingxiang county (Xinzhou) could not ship
their products. Xinzhou reported it in its key-work report; the provincial general office put it
into the system for the transport and public-security departments, who widened the lanes of the
Dingxiang North toll station within one month, and the item was closed out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, time
from pathlib import Path
from typing import Any

import msgspec

from ledger13710.domain.types import SHANGHAI

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"
OFFICE = "sx-general-office-sup1"  # the provincial general office's supervisor (督查室)
TRANSPORT = "sx-transport-head"
TRANSPORT_OP = "sx-transport-op1"
POLICE = "sx-public-security-head"
REPORT = "忻州市人民政府2016年10月重点工作情况报告"


def cli(node_dir: Path, *args: str, now: str) -> Any:
    """Run one command at ``now`` on ``node_dir``; it must succeed; return its JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    done = subprocess.run(
        [str(SCRIPT), *args, "--dir", str(node_dir), "--now", now, "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    quiet_success = (0, "")
    assert quiet_success == (done.returncode, done.stderr), f"{args}: {done.stderr}"
    return msgspec.json.decode(done.stdout)


def test_dingxiang_toll_station_item_meets_every_clock_and_is_closed_out(tmp_path: Path) -> None:
    """Registered, deployed, fed back and resolved on time, then closed out by the office."""
    node = tmp_path / "sx-node"
    cli(node, "node", "init", "--config", str(NODES / "sx.toml"), now="2016-10-20T08:00")
    item = cli(
        node,
        *["item", "register", "--actor", OFFICE, "--assign"],
        *["--title", "定襄县风电法兰、塔筒企业产品运输受阻", "--board", "key-work"],
        *["--source", "key_work", "--severity", "major", "--reference", REPORT],
        *["--detail", "定襄北收费站车道过窄，超限运输车辆无法通行，风电法兰和塔筒产品运不出去"],
        *["--raising-unit", "sx/general-office"],
        *["--lead-unit", "sx/transport", "--co-unit", "sx/public-security"],
        now="2016-10-20T09:30",
    )
    number = item["number"]
    cli(node, "item", "deploy", number, "--actor", TRANSPORT, "--note", "厅党组会研究部署",
        now="2016-10-20T16:00")  # fmt: skip
    cli(node, "item", "feedback", number, "--actor", TRANSPORT_OP,
        "--content", "已会同公安厅、省高速公路集团现场踏勘，制定车道拓宽方案",
        now="2016-10-22T11:00")  # fmt: skip
    cli(node, "item", "progress", number, "--actor", POLICE,
        "--content", "施工期间对定襄北收费站实施交通疏导", now="2016-10-28T10:00")  # fmt: skip
    cli(node, "item", "resolve", number, "--actor", TRANSPORT,
        "--content", "定襄北收费站车道拓宽完成，风电产品车辆正常通行",
        now="2016-11-16T15:00")  # fmt: skip
    cli(node, "item", "close-out", number, "--actor", OFFICE,
        "--verdict", "问题已解决，企业产品外运畅通，同意销号", now="2016-11-18T10:00")  # fmt: skip
    shown = cli(node, "item", "show", number, now="2016-11-18T10:05")
    ledger = cli(node, "ledger", "--state", "closed", now="2016-11-18T10:05")

    facts = {
        "number": "sx-2016-0001",
        "board": "key-work",
        "source": "key_work",
        "severity": "major",
        "reference": REPORT,
        "raising_unit": "sx/general-office",
        "lead_unit": "sx/transport",
        "co_units": ["sx/public-security"],
        "state": "closed",
        "light": "done",
    }
    assert facts == {k: shown[k] for k in facts}
    due = {
        "deploy": "2016-10-20T23:59:59+08:00",  # the "1": the same day
        "feedback": "2016-10-23T23:59:59+08:00",  # the "3": within 3 days
        "resolve": "2016-11-20T23:59:59+08:00",  # the "1": a major problem within one month
    }
    assert due == {c: shown["deadlines"][c]["due_at"] for c in due}
    for clock in due:
        met = datetime.fromisoformat(shown["met"][clock])
        assert met <= datetime.fromisoformat(shown["deadlines"][clock]["due_at"]), clock
    assigned_at = datetime.fromisoformat(shown["deadlines"]["resolve"]["started_at"])
    registered = datetime.fromisoformat("2016-10-20T09:30:00+08:00")
    assert registered == assigned_at
    month_end = datetime.combine(
        assigned_at.date().replace(month=assigned_at.month + 1), time(23, 59, 59), SHANGHAI
    )
    assert month_end == datetime.fromisoformat(shown["deadlines"]["resolve"]["due_at"])
    actors = [OFFICE, OFFICE, TRANSPORT, TRANSPORT_OP, POLICE, TRANSPORT, OFFICE]
    assert actors == [e["actor"] for e in shown["events"]]
    closed = [(number, "closed", "done")]
    assert closed == [(i["number"], i["state"], i["light"]) for i in ledger["items"]]
