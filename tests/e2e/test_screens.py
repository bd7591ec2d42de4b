"""The seed's worked example on screen, in zh-CN and in English, against golden files.

The screens are what an office worker reads: names instead of ids, every event's text. To
accept a deliberate change of a screen, run with ``LEDGER13710_UPDATE_GOLDEN=1`` and review the
diff of ``tests/golden/screens/`` like code.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_worked_example import NODES, OFFICE, POLICE, REPORT, SCRIPT, TRANSPORT, TRANSPORT_OP, cli

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "screens"
NOW = "2016-11-18T10:05"
SCREENS = {
    "item-show": ["item", "show", "sx-2016-0001"],
    "timeline": ["timeline", "sx-2016-0001"],
    "ledger": ["ledger", "--page-size", "10"],
}


def screen(node: Path, *args: str, lang: str) -> str:
    """What ``args`` prints at a fixed width and time in ``lang``; it must succeed quietly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    env |= {"COLUMNS": "160", "LEDGER13710_LANG": lang, "NO_COLOR": "1"}
    done = subprocess.run(
        [str(SCRIPT), *args, "--dir", str(node), "--now", NOW],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Dingxiang toll-station item, registered, worked and closed out through the CLI."""
    node = tmp_path_factory.mktemp("screens") / "sx-node"
    cli(node, "node", "init", "--config", str(NODES / "sx.toml"), now="2016-10-20T08:00")
    cli(node, *["item", "register", "--actor", OFFICE, "--assign"],
        *["--title", "定襄县风电法兰、塔筒企业产品运输受阻", "--board", "key-work"],
        *["--source", "key_work", "--severity", "major", "--reference", REPORT],
        *["--detail", "定襄北收费站车道过窄，超限运输车辆无法通行"],
        *["--raising-unit", "sx/general-office"],
        *["--lead-unit", "sx/transport", "--co-unit", "sx/public-security"],
        now="2016-10-20T09:30")  # fmt: skip
    number = "sx-2016-0001"
    cli(node, "item", "urge", number, "--actor", OFFICE, "--message", "请当日研究部署",
        now="2016-10-20T10:00")  # fmt: skip
    cli(node, "item", "deploy", number, "--actor", TRANSPORT, "--note", "厅党组会研究部署",
        now="2016-10-20T16:00")  # fmt: skip
    cli(node, "item", "feedback", number, "--actor", TRANSPORT_OP,
        "--content", "已会同公安厅现场踏勘，制定车道拓宽方案", now="2016-10-22T11:00")  # fmt: skip
    cli(node, "item", "progress", number, "--actor", POLICE,
        "--content", "施工期间对定襄北收费站实施交通疏导", now="2016-10-28T10:00")  # fmt: skip
    cli(node, "item", "resolve", number, "--actor", TRANSPORT,
        "--content", "车道拓宽完成，风电产品车辆正常通行", now="2016-11-10T15:00")  # fmt: skip
    cli(node, "item", "return", number, "--actor", OFFICE,
        "--reason", "请附收费站通行记录", now="2016-11-11T09:00")  # fmt: skip
    cli(node, "item", "resolve", number, "--actor", TRANSPORT,
        "--content", "已附通行记录：日均通行超限车辆12辆次", now="2016-11-16T15:00")  # fmt: skip
    cli(node, "item", "close-out", number, "--actor", OFFICE,
        "--verdict", "问题已解决，同意销号", now="2016-11-18T10:00")  # fmt: skip
    return node


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("name", list(SCREENS))
def test_worked_example_screens_match_golden_files(node: Path, name: str, lang: str) -> None:
    """Each screen of the worked example reads exactly as its reviewed golden file."""
    shown = screen(node, *SCREENS[name], lang=lang)
    golden = GOLDEN / lang / f"{name}.txt"
    if os.environ.get("LEDGER13710_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(shown, "utf-8")
    assert golden.read_text("utf-8") == shown


def test_a_page_past_the_end_says_how_many_pages_there_are(node: Path) -> None:
    """``--page 999`` is refused with the number of pages, not answered with an empty table."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    done = subprocess.run(
        [str(SCRIPT), "ledger", "--page", "999", "--dir", str(node), "--now", NOW],
        capture_output=True, text=True, env=env, check=False, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "ledger13710: error: 没有第999页：共1页（1项）\n"
