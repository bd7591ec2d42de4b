"""``ledger13710 points`` and ``cases`` through the real console script: ranking, drill-down,
Excel, periods, appeals, cases, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"


def run(node: Path, *args: str, now: str) -> subprocess.CompletedProcess[str]:
    """Run a command on ``node``; no LEDGER13710_* variable leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    return subprocess.run(
        [str(SCRIPT), *args, "--dir", str(node), "--now", now],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip


def ok(node: Path, *args: str, now: str = "2016-12-31T12:00") -> Any:
    """Run a command that must succeed quietly with ``--json``; return its output."""
    done = run(node, *args, "--json", now=now)
    assert (done.returncode, done.stderr) == (0, ""), f"{args}: {done.stderr}"
    return msgspec.json.decode(done.stdout)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A province node on policy 13710-v2 with one item of transport: deployed on time,
    feedback accepted a day late by the general office."""
    base = tmp_path_factory.mktemp("points")
    config = base / "config"
    config.mkdir()
    for file in NODES.glob("*.toml"):
        text = file.read_text("utf-8")
        if file.name == "sx.toml":
            text = text.replace('policy = "builtin:13710-v1"', 'policy = "builtin:13710-v2"')
        (config / file.name).write_text(text, "utf-8")
    node = base / "node"
    init = [str(SCRIPT), "node", "init", "--config", str(config / "sx.toml"), "--dir", str(node)]
    subprocess.run(init, check=True, capture_output=True, timeout=60)
    ok(node, "item", "register", "--title", "收费站拥堵", "--source", "executive", "--board",
       "daily", "--raising-unit", "sx/general-office", "--lead-unit", "sx/transport",
       "--assign", "--actor", SUP, now="2016-10-20T09:00")  # fmt: skip
    number = "sx-2016-0001"
    ok(node, "item", "deploy", number, "--actor", HEAD, now="2016-10-20T10:00")
    ok(node, "item", "feedback", number, "--content", "已调研", "--actor", HEAD,
       now="2016-10-21T10:00")  # fmt: skip
    shown = run(node, "item", "show", number, now="2016-10-22T10:00")
    (node / "shown-before-review.txt").write_text(shown.stdout, "utf-8")
    ok(node, "item", "accept-feedback", number, "--actor", SUP, now="2016-10-25T10:00")
    return node


def test_the_review_clock_is_shown_with_the_item_until_decided(node: Path) -> None:
    """While the feedback awaits acceptance, ``item show`` lists the review clock and its due
    (3 days after the feedback, policy 13710-v2); once accepted it is gone."""
    before = (node / "shown-before-review.txt").read_text("utf-8")
    (line,) = [x for x in before.splitlines() if "审核反馈" in x]
    assert "2016-10-24 23:59" in line
    assert "13710-v2" in line
    after = run(node, "item", "show", "sx-2016-0001", now="2016-12-31T12:00")
    assert "审核反馈" not in after.stdout


def test_points_rank_the_units_of_a_period(node: Path) -> None:
    """Transport earns two on-time clocks; the general office loses for a review 10 h late
    (due at the end of 10-24, accepted 10-25 10:00: one started day)."""
    result = ok(node, "points", "--period", "2016-10")
    assert (result["period"], result["rules_version"]) == ("2016-10", "points-v1")
    assert [(u["unit"], u["rank"], u["total"]) for u in result["units"]] == [
        ("sx/transport", 1, "+2.00"),
        ("sx/general-office", 2, "-1.50"),
    ]
    assert ok(node, "points", "--period", "2016-11")["units"] == []


def test_explain_drills_down_to_the_events(node: Path) -> None:
    """``--explain`` lists each point with its event's origin, position and rule version."""
    result = ok(node, "points", "--period", "2016", "--explain", "sx/general-office")
    assert result["total"] == "-1.50"
    assert [(p["rule"], p["quantity"], p["points"]) for p in result["points"]] == [
        ("review_missed", 1, "-1.00"),
        ("review_overdue_per_day", 1, "-0.50"),
    ]
    event = result["points"][0]["event"]
    assert (event["origin"], event["topic"]) == ("sx", "ledger13710.item.FeedbackAccepted.v1")


def test_the_points_table_exports_to_excel(node: Path, tmp_path: Path) -> None:
    """``--export`` writes the ranked scores and every point behind them."""
    out = tmp_path / "points.xlsx"
    ok(node, "points", "--period", "2016", "--export", str(out))
    wb = load_workbook(out)
    scores, detail = wb.worksheets
    assert [c.value for c in scores[2]][3:5] == ["sx/transport", 2]
    assert detail.max_row == 1 + 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2016-13"), "bad period '2016-13'"),
        (("--explain", "sx/nobody"), "unknown unit 'sx/nobody'"),
        (("--rules", "builtin:nope"), "unknown built-in points rules 'builtin:nope'"),
    ],
)
def test_a_wrong_argument_is_one_line_and_exit_2(
    node: Path, args: tuple[str, ...], message: str
) -> None:
    """A user mistake prints one line naming it and exits 2, no traceback."""
    done = run(node, "points", *args, now="2016-12-31T12:00")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert message in done.stderr


def test_close_appeal_and_decide_are_recorded(node: Path, tmp_path: Path) -> None:
    """On a copy of the node: the general office appeals its review deduction, the province
    government reverses it (the total rises by it), and closing 2016-10 freezes the totals;
    closing again is one line and exit 2."""
    copy = tmp_path / "node"
    shutil.copytree(node, copy)
    explained = ok(copy, "points", "--period", "2016", "--explain", "sx/general-office")
    point = explained["points"][0]["point"]
    assert point.endswith(":sx/general-office:review_missed:review-feedback")
    ok(copy, "points", "appeal", point, "--reason", "反馈当日系统故障", "--actor", SUP)
    ok(copy, "points", "decide", point, "--reverse", "--reason", "属实", "--actor", "sx-head")
    after = ok(copy, "points", "--period", "2016", "--explain", "sx/general-office")
    assert (after["total"], after["points"][0]["reversed"]) == ("-0.50", True)
    closed = ok(copy, "points", "close", "--period", "2016-10", "--actor", SUP)
    assert closed["units"] == {"sx/transport": "+2.00", "sx/general-office": "-0.50"}
    shown = ok(copy, "points", "--period", "2016-10")
    assert {(f["unit"], f["centi"]) for f in shown["frozen"]} == {
        ("sx/transport", 200),
        ("sx/general-office", -50),
    }
    again = run(copy, "points", "close", "--period", "2016-10", "--actor", SUP, now="2017-01-02")
    assert (again.returncode, again.stderr.count("\n")) == (2, 1)
    assert "already closed" in again.stderr


def test_cases_scan_list_and_a_bad_case_id(node: Path) -> None:
    """``cases scan`` finds nothing to open in one on-time item; ``cases`` lists none; a step
    on a malformed case id is one line and exit 2."""
    assert ok(node, "cases", "scan", "--period", "2016", "--actor", SUP) == {"opened": []}
    assert ok(node, "cases") == []
    done = run(node, "cases", "investigate", "123", "--text", "x", "--actor", SUP, now="2017-01-02")
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert "bad case id '123'" in done.stderr


def test_untrue_on_an_item_not_held_here_is_one_line(node: Path) -> None:
    """Marking feedback untrue needs the item on this node: elsewhere it is one line, exit 2."""
    done = run(node, "item", "return", "sx-2016-0099", "--reason", "不实", "--untrue",
               "--actor", SUP, now="2016-12-31T12:00")  # fmt: skip
    assert (done.returncode, done.stderr.count("\n")) == (2, 1)
    assert "item sx-2016-0099 is not on node sx" in done.stderr
