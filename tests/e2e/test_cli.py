"""The real ``ledger13710`` console script, end to end, in a temporary node directory."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ledger13710.config.directory_store import ERASED_NAME
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import open_node

SCRIPT = Path(sys.executable).parent / "ledger13710"
NODES = Path(__file__).resolve().parents[2] / "nodes"
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"
OP = "sx-transport-op1"
CO = "sx-public-security-head"


@dataclass
class Run:
    """What one command did."""

    code: int
    out: str
    err: str


def run(*args: str) -> Run:
    """Run the console script with ``args``; no LEDGER13710_* variable leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    done = subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    return Run(done.returncode, done.stdout, done.stderr)


def ok(*args: str) -> Any:
    """Run a command that must succeed quietly; return its parsed ``--json`` output."""
    result = run(*args, "--json")
    expected = (0, "")
    assert expected == (result.code, result.err), f"{args}: {result.err}"
    return msgspec.json.decode(result.out)


@dataclass
class Story:
    """A node directory driven through every command, and what each command printed."""

    dir: Path
    out: dict[str, Any] = field(default_factory=dict)

    def cmd(self, key: str, *args: str, now: str) -> Any:
        """Run ``args`` on this node at ``now``; remember and return the JSON output."""
        self.out[key] = ok(*args, "--dir", str(self.dir), "--now", now)
        return self.out[key]

    def item(self, key: str, action: str, number: str, *args: str, actor: str, now: str) -> Any:
        """Run ``item <action> <number> …`` as ``actor`` at ``now``."""
        return self.cmd(key, "item", action, number, *args, "--actor", actor, now=now)


def log_position(node_dir: Path) -> int:
    """The node's last log position, read in-process."""
    node = open_node(node_dir, ManualClock(datetime(2016, 11, 7, tzinfo=SHANGHAI)))
    try:
        return node.app.recorder.max_notification_id() or 0
    finally:
        node.close()


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Story:
    """Two items: A goes through every lifecycle command, B is sub-assigned and cancelled."""
    s = Story(tmp_path_factory.mktemp("cli") / "node")
    s.out["init"] = ok("node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(s.dir))
    register = ["--title", "风电法兰运输受阻", "--source", "key_work", "--board", "key-work"]
    units = ["--raising-unit", "sx", "--lead-unit", "sx/transport"]
    a = s.cmd(
        "register",
        *["item", "register", *register, *units, "--co-unit", "sx/public-security"],
        *["--severity", "general", "--reference", "忻州市重点工作报告", "--assign"],
        *["--actor", SUP],
        now="2016-10-20T09:00",
    )["number"]
    s.item("urge", "urge", a, "--message", "请当日部署", actor=SUP, now="2016-10-20T10:00")
    s.item("deploy", "deploy", a, "--note", "厅党组会部署", actor=HEAD, now="2016-10-20T11:00")
    s.item("feedback", "feedback", a, "--content", "已现场调研", actor=OP, now="2016-10-21T10:00")
    s.item("progress", "progress", a, "--content", "交警疏导", actor=CO, now="2016-10-22T10:00")
    extend = ["--clock", "resolve"]
    s.item("ask1", "extend", a, *extend, "--until", "2016-10-30", "--reason", "施工期",
           actor=HEAD, now="2016-10-22T11:00")  # fmt: skip
    s.item("approve", "extend", a, *extend, "--approve", actor=SUP, now="2016-10-22T12:00")
    s.item("ask2", "extend", a, *extend, "--until", "2016-11-02", "--reason", "再延",
           actor=HEAD, now="2016-10-23T10:00")  # fmt: skip
    s.item("deny", "extend", a, *extend, "--deny", "--reason", "不予延期",
           actor=SUP, now="2016-10-23T11:00")  # fmt: skip
    s.item("resolve1", "resolve", a, "--content", "临时疏导", actor=HEAD, now="2016-10-24T10:00")
    s.item("return", "return", a, "--reason", "未根本解决", actor=SUP, now="2016-10-24T15:00")
    s.item("plan", "plan", a, "--reason", "需拓宽车道", "--milestone", "拓宽设计@2016-11-01",
           "--target", "2016-11-10", actor=HEAD, now="2016-10-25T10:00")  # fmt: skip
    s.item("milestone", "progress", a, "--content", "设计完成", "--milestone", "1",
           actor=OP, now="2016-10-31T10:00")  # fmt: skip
    s.item("resolve2", "resolve", a, "--content", "车道已拓宽", actor=HEAD, now="2016-11-05T10:00")
    s.item("close", "close-out", a, "--verdict", "同意销号", actor=SUP, now="2016-11-06T10:00")
    b = s.cmd("register_b", "item", "register", *register, *units, "--actor", SUP,
              now="2016-10-20T09:30")["number"]  # fmt: skip
    s.item("assign", "assign", b, "--note", "请办理", actor=SUP, now="2016-10-20T09:40")
    s.item("sub", "sub-assign", b, "--to-unit", "sx/highway-group", "--part", "收费站车道",
           actor=HEAD, now="2016-10-20T14:00")  # fmt: skip
    s.item("cancel", "cancel", b, "--reason", "与A重复", "--approved-by", "sx-head",
           actor=SUP, now="2016-10-21T09:00")  # fmt: skip
    s.cmd("show", "item", "show", a, now="2016-11-07T09:00")
    s.cmd("ledger", "ledger", now="2016-11-07T09:00")
    s.cmd("closed", "ledger", "--state", "closed", "--board", "key-work", now="2016-11-07T09:00")
    s.cmd("hwy", "ledger", "--unit", "sx/highway-group", now="2016-11-07T09:00")
    s.cmd("node", "node", "show", now="2016-11-07T09:00")
    s.cmd("phone", "contact", "set-phone", OP, "13811112222", now="2016-11-07T09:00")
    s.cmd("erase", "contact", "erase", OP, now="2016-11-07T09:00")
    s.cmd("show_after", "item", "show", a, now="2016-11-07T09:00")
    return s


def test_every_lifecycle_command_moves_the_item_as_expected(story: Story) -> None:
    """Each item command's JSON shows the state and counters that command should leave."""
    o = story.out
    assert str(story.dir) == o["init"]["dir"]
    states = {
        "register": "assigned", "urge": "assigned", "deploy": "deployed",
        "feedback": "in_progress", "progress": "in_progress", "ask1": "in_progress",
        "approve": "in_progress", "deny": "in_progress", "resolve1": "resolved",
        "return": "in_progress", "plan": "planned", "milestone": "planned",
        "resolve2": "resolved", "close": "closed", "register_b": "registered",
        "assign": "assigned", "sub": "assigned", "cancel": "cancelled",
    }  # fmt: skip
    assert states == {k: o[k]["state"] for k in states}
    numbers = {"register": "sx-2016-0001", "register_b": "sx-2016-0002", "sub": "sx-2016-0002-1"}
    assert numbers == {k: o[k]["number"] for k in numbers}
    assert "resolve" in o["ask1"]["pending_extensions"]
    resolve_due = "2016-10-30T23:59:59+08:00"  # a date alone: the end of that day
    assert resolve_due == o["approve"]["deadlines"]["resolve"]["due_at"]
    assert resolve_due == o["deny"]["deadlines"]["resolve"]["due_at"]
    counters = {"extensions_requested": 2, "extensions_granted": 1, "urges": 1, "returns": 1}
    assert counters == {k: o["close"][k] for k in counters}
    milestone = {"title_due": "2016-11-01T23:59:59+08:00", "met": "2016-10-31T10:00:00+08:00"}
    assert milestone == {
        "title_due": o["plan"]["deadlines"]["milestone-1"]["due_at"],
        "met": o["milestone"]["met"]["milestone-1"],
    }
    child = {"parent_number": "sx-2016-0002", "lead_unit": "sx/highway-group"}
    assert child == {k: o["sub"][k] for k in child}
    reason = "与A重复"
    assert reason == o["cancel"]["cancel_reason"]


def test_show_ledger_and_node_show_report_the_ledger(story: Story) -> None:
    """``item show`` lists the timeline; ``ledger`` filters; ``node show`` counts the log."""
    o = story.out
    topics = [e["topic"].split(".")[2] for e in o["show"]["events"]]
    expected = [
        "Registered", "Assigned", "Urged", "Deployed", "FeedbackSubmitted", "ProgressReported",
        "ExtensionRequested", "ExtensionApproved", "ExtensionRequested", "ExtensionDenied",
        "Resolved", "Returned", "PlanSubmitted", "ProgressReported", "Resolved", "ClosedOut",
    ]  # fmt: skip
    assert expected == topics
    everything = ["sx-2016-0001", "sx-2016-0002", "sx-2016-0002-1"]
    assert everything == [i["number"] for i in o["ledger"]["items"]]
    assert len(everything) == o["ledger"]["total"]
    lights = ["done", "done", "done"]  # cancelling B cancelled its open part too
    assert lights == [i["light"] for i in o["ledger"]["items"]]
    assert everything[:1] == [i["number"] for i in o["closed"]["items"]]
    assert everything[2:] == [i["number"] for i in o["hwy"]["items"]]
    node = {"id": "sx", "store": "sqlite", "policy": "13710-v1", "items": 3}
    assert node == {k: o["node"][k] for k in node}
    events = 2 + 16 + 5 + 3  # two numbers issued, item A, item B (+ roll-up), the part (+ cancel)
    assert events == o["node"]["log_position"]


def test_contact_corrections_never_touch_events(story: Story) -> None:
    """Changing and erasing a contact's details leaves every recorded event as it was."""
    o = story.out
    phone = {"id": OP, "phone": "13811112222"}
    assert phone == {k: o["phone"][k] for k in phone}
    erased = {"id": OP, "name": ERASED_NAME, "phone": "", "unit": "sx/transport"}
    assert erased == {k: o["erase"][k] for k in erased}
    assert o["show"]["events"] == o["show_after"]["events"]
    assert OP in [e["actor"] for e in o["show_after"]["events"]]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["item", "deploy", "sx-2016-9999", "--actor", HEAD], "sx-2016-9999"),
        (
            ["item", "register", "--title", "t", "--source", "executive", "--board", "daily",
             "--raising-unit", "sx", "--lead-unit", "sx/nowhere", "--actor", SUP],
            "sx/nowhere",
        ),
        (["node", "show", "--now", "yesterday"], "yesterday"),
        (["item", "urge", "sx-2016-0001", "--message", "快"], "--actor"),
        (["item", "deploy", "sx-2016-0001", "--actor", HEAD], "'deploy' is not allowed"),
        (
            ["item", "plan", "sx-2016-0001", "--reason", "r", "--milestone", "no date",
             "--target", "2016-12-01", "--actor", HEAD],
            "bad --milestone 'no date'",
        ),
        (["node", "show", "--dir", "{empty}"], "is not a node directory"),
    ],
    ids=["unknown-item", "unknown-unit", "bad-now", "no-actor", "transition", "milestone", "dir"],
)  # fmt: skip
def test_user_errors_are_one_line_exit_2_and_write_nothing(
    story: Story, tmp_path: Path, args: list[str], needle: str
) -> None:
    """A user error exits 2 with one 'ledger13710: error:' line, no traceback, nothing written."""
    before = log_position(story.dir)
    args = [a.replace("{empty}", str(tmp_path)) for a in args]
    rest = [] if "--dir" in args else ["--dir", str(story.dir)]
    rest += [] if "--now" in args else ["--now", "2016-11-07T09:00"]
    result = run(*args, *rest)
    lines = result.err.splitlines()
    code_and_lines = (2, 1)
    assert code_and_lines == (result.code, len(lines)), result.err
    assert lines[0].startswith("ledger13710: error:")
    assert needle in lines[0]
    assert "Traceback" not in result.out + result.err
    nothing = ""
    assert nothing == result.out
    assert before == log_position(story.dir)


def test_the_clock_is_now_else_the_environment_read_once_by_the_command(story: Story) -> None:
    """``--now`` wins over ``$LEDGER13710_NOW`` (a bad variable is then never read); without
    ``--now`` a bad variable is a one-line error that names it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    env["LEDGER13710_NOW"] = "yesterday"
    command = [str(SCRIPT), "node", "show", "--dir", str(story.dir), "--json"]

    with_now = subprocess.run(
        [*command, "--now", "2016-11-07T09:00"], capture_output=True, text=True, env=env,
        check=False, timeout=60,
    )  # fmt: skip
    from_env = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False, timeout=60
    )

    quiet_success, user_error = (0, ""), 2
    assert quiet_success == (with_now.returncode, with_now.stderr)
    assert user_error == from_env.returncode
    error = msgspec.json.decode(from_env.stderr)["error"]  # --json: the error is JSON too
    assert error["message"].startswith("bad LEDGER13710_NOW 'yesterday'")


def test_json_errors_are_json_with_a_stable_code(story: Story) -> None:
    """Under --json a refused command prints one JSON object naming the kind of error."""
    args = ["--dir", str(story.dir), "--now", "2016-11-07T09:00", "--json"]
    cases = {
        "not_found": ["item", "deploy", "sx-2016-9999", "--actor", HEAD],
        "not_allowed_now": ["item", "deploy", "sx-2016-0001", "--actor", HEAD],
        "role": [
            *["item", "register", "--title", "t", "--source", "executive", "--board", "daily"],
            *["--raising-unit", "sx", "--lead-unit", "sx/transport", "--assign", "--actor", OP],
        ],
        "input": ["item", "deploy", "sx-2016-0001"],
    }
    for code, command in cases.items():
        result = run(*command, *args)
        error = msgspec.json.decode(result.err)["error"]
        assert (2, code) == (result.code, error["code"]), result.err
        assert error["message"]
        assert result.out == ""
