"""The read-side commands through the real ``ledger13710`` console script."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from openpyxl import Workbook, load_workbook

from ledger13710.projections.excel import IMPORT_HEADERS

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"
NOW = "2016-11-07T09:00"


def run(node: Path, *args: str, now: str = NOW) -> subprocess.CompletedProcess[str]:
    """Run a command on ``node``; no LEDGER13710_* variable leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    return subprocess.run(
        [str(SCRIPT), *args, "--dir", str(node), "--now", now],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip


def ok(node: Path, *args: str, now: str = NOW) -> Any:
    """Run a command that must succeed quietly with ``--json``; return its output."""
    done = run(node, *args, "--json", now=now)
    assert (done.returncode, done.stderr) == (0, ""), f"{args}: {done.stderr}"
    return msgspec.json.decode(done.stdout)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A province node with items imported from a workbook, one moved on and sub-assigned."""
    base = tmp_path_factory.mktemp("views")
    node = base / "node"
    init = [str(SCRIPT), "node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(node)]
    subprocess.run(init, check=True, capture_output=True, timeout=60)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(IMPORT_HEADERS))
    ws.append(["sx-2016-0901", "收费站拥堵", "key_work", "key-work", "general", "sx",
               "sx/transport", "sx/public-security", ""])  # fmt: skip
    ws.append(["sx-2016-0902", "农村公路", "常务会议", "daily", "一般性问题", "sx", "sx/finance"])
    ws.append(["sx-2016-0903", "", "常务会议", "daily", "general", "sx", "sx/finance"])
    wb.save(base / "in.xlsx")
    imported = run(node, "import", str(base / "in.xlsx"), "--actor", SUP, now="2016-10-20T09:00")
    assert (imported.returncode, imported.stderr) == (1, "")  # row 4 (no title) was refused
    act = ["--actor", HEAD]
    ok(node, "item", "deploy", "sx-2016-0901", *act, now="2016-10-20T10:00")
    ok(node, "item", "sub-assign", "sx-2016-0901", "--to-unit", "sx/highway-group",
       "--part", "车道", *act, now="2016-10-20T11:00")  # fmt: skip
    return node


def test_import_reports_rows_and_is_idempotent(node: Path) -> None:
    """A second import of the same workbook skips the registered rows, refuses row 4 again and
    exits 1; a dry run of it says the same and writes nothing."""
    for dry in ([], ["--dry-run"]):
        done = run(node, "import", str(node.parent / "in.xlsx"), "--actor", SUP, "--json", *dry)
        assert (done.returncode, done.stderr) == (1, "")
        report = msgspec.json.decode(done.stdout)
        assert (report["registered"], report["skipped"], report["refused"]) == (0, 2, 1)
        assert report["rows"][2]["message"].startswith("第4行: ")


def test_ledger_tree_chain_stats_and_timeline(node: Path) -> None:
    """The query commands read the views: filters, paging, the tree, a chain, a timeline."""
    page = ok(node, "ledger", "--sort", "number", "--page-size", "2", "--page", "2")
    assert (page["total"], [i["number"] for i in page["items"]]) == (3, ["sx-2016-0902"])
    red = ok(node, "ledger", "--light", "red", "--board", "key-work")
    assert [i["number"] for i in red["items"]] == ["sx-2016-0901", "sx-2016-0901-1"]
    tree = ok(node, "tree")
    assert (tree["total"], tree["lights"]) == (3, {"red": 3})
    transport = next(c for c in tree["children"] if c["unit"] == "sx/transport")
    assert transport["states"] == {"deployed": 1}
    chain = ok(node, "tree", "--chain", "sx-2016-0901-1")
    assert [row["number"] for _depth, row in chain] == ["sx-2016-0901", "sx-2016-0901-1"]
    stats = ok(node, "stats")
    assert stats["headline"] == "共交办事项3件"
    line = ok(node, "timeline", "sx-2016-0901")
    kinds = ["Registered", "Assigned", "Deployed", "SubAssigned"]
    assert kinds == [e["kind"] for e in line["events"]]
    assert {("sx", 1)} <= {(e["origin"], e["seq"]) for e in line["events"]}
    for args in (["ledger"], ["tree"], ["stats"], ["timeline", "sx-2016-0901"]):
        done = run(node, *args)
        assert (done.returncode, done.stderr) == (0, "")


def test_export_and_rebuild(node: Path) -> None:
    """Export writes xlsx and csv; a rebuild gives the same ledger the incremental view gave."""
    before = ok(node, "ledger", "--page-size", "0")
    out = ok(node, "export", str(node.parent / "out.xlsx"))
    assert out["items"] == 3
    assert "按年度" in load_workbook(node.parent / "out.xlsx").sheetnames
    ok(node, "export", str(node.parent / "out.csv"))
    with (node.parent / "out.csv").open(encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f))) == 4
    rebuilt = ok(node, "views", "rebuild")
    assert rebuilt["rebuilt"]
    assert before == ok(node, "ledger", "--page-size", "0")
    bad = run(node, "export", str(node.parent / "out.pdf"))
    assert bad.returncode == 2
    assert bad.stderr.startswith("ledger13710: error:")
