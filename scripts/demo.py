"""The demo federation: Shanxi province, its 11 cities, Dingxiang county and Jinchang township.

Every node is a real process with its own store, replicating over a real nats-server on
loopback. The seed's worked example runs through its clocks: Xinzhou reports that Dingxiang's
wind-power flange makers cannot ship; the provincial general office registers it and assigns it
to transport (lead) and public security; transport hands the toll-station part down to Xinzhou,
Xinzhou to Dingxiang, Dingxiang to Jinchang township; a reminder SMS goes out before the
township's same-day deadline; the township deploys, feeds back and resolves, each tier above
resolves its part, the province closes the item out and the close-out cascades down. The
command view then drills down from the province to the township.

    python scripts/demo.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ledger13710.testing.localfed import CliError, LocalFederation, ledger_command

CITIES = [
    "taiyuan", "datong", "yangquan", "changzhi", "jincheng", "shuozhou",
    "jinzhong", "yuncheng", "xinzhou", "linfen", "lvliang",
]  # fmt: skip
SX, XZ, DX, JC = "sx", "sx.xinzhou", "sx.xinzhou.dingxiang", "sx.xinzhou.dingxiang.jinchang"
NODES = [SX, *(f"sx.{c}" for c in CITIES), DX, JC]
ITEM = "sx-2016-0001"
PART_XZ, PART_DX, PART_JC = f"{ITEM}-1", f"{ITEM}-1-1", f"{ITEM}-1-1-1"


def say(text: str) -> None:
    """A step heading."""
    print(f"\n\033[1m== {text}\033[0m", flush=True)


class Demo:
    """Drives the federation through the CLI, as people at each tier would."""

    def __init__(self, fed: LocalFederation) -> None:
        self.fed = fed

    def act(self, node: str, now: str, *args: str) -> Any:
        """A command at ``node`` at local time ``now`` (JSON result)."""
        return self.fed.cli(node, *args, now=f"2016-{now}")

    def show(self, node: str, now: str, *args: str) -> None:
        """A command's table, as a person at ``node`` sees it."""
        cmd = [
            *ledger_command(),
            *args,
            "--dir",
            str(self.fed.node_dir(node)),
            "--now",
            f"2016-{now}",
        ]
        env = {**self.fed.env(), "COLUMNS": "150"}
        subprocess.run(cmd, env=env, check=True, timeout=120)

    def arrives(self, node: str, number: str, state: str) -> None:
        """Wait until ``number`` is in ``state`` on ``node`` (it came over the federation)."""

        def there() -> bool:
            try:
                return bool(self.act(node, "10-20T09:00", "item", "show", number)["state"] == state)
            except CliError:  # not there yet
                return False

        start = time.monotonic()
        self.fed.wait_until(there, 30.0)
        print(f"   {number} is {state} at {node} ({time.monotonic() - start:.1f}s)", flush=True)


def run(demo: Demo) -> None:
    """The worked example, tier by tier."""
    say("10-20 09:30 省政府办公厅立项并交办: transport leads, public security co-handles")
    item = demo.act(
        SX, "10-20T09:30", "item", "register", "--actor", "sx-general-office-sup1",
        "--title", "定襄县风电法兰、塔筒企业产品运输受阻", "--source", "key_work",
        "--board", "key-work", "--severity", "major", "--raising-unit", "sx/general-office",
        "--lead-unit", "sx/transport", "--co-unit", "sx/public-security",
        "--reference", "忻州市重点工作汇报（2016年10月）",
        "--detail", "定襄北收费站车道窄，超宽风电法兰、塔筒无法运出", "--assign",
    )  # fmt: skip
    print(f"   {item['number']}: clocks " + ", ".join(
        f"{c} due {d['due_at'][:16]}" for c, d in item["deadlines"].items()
    ))  # fmt: skip
    demo.act(SX, "10-20T10:30", "item", "deploy", ITEM, "--actor", "sx-transport-head",
             "--note", "厅务会研究部署")  # fmt: skip
    demo.act(SX, "10-20T10:40", "item", "sub-assign", ITEM, "--to-unit", XZ,
             "--part", "协调定襄北收费站拓宽", "--actor", "sx-transport-head")  # fmt: skip
    say("the part flows down: province → Xinzhou → Dingxiang → Jinchang township")
    demo.arrives(XZ, PART_XZ, "assigned")
    demo.act(XZ, "10-20T11:00", "item", "deploy", PART_XZ, "--actor", "sx-xinzhou-head")
    demo.act(XZ, "10-20T11:05", "item", "sub-assign", PART_XZ, "--to-unit", DX,
             "--part", "定襄县组织落实", "--actor", "sx-xinzhou-head")  # fmt: skip
    demo.arrives(DX, PART_DX, "assigned")
    demo.act(DX, "10-20T14:00", "item", "deploy", PART_DX, "--actor", "sx-xinzhou-dingxiang-head")
    demo.act(DX, "10-20T14:10", "item", "sub-assign", PART_DX, "--to-unit", JC,
             "--part", "晋昌镇配合收费站施工", "--actor", "sx-xinzhou-dingxiang-head")  # fmt: skip
    demo.arrives(JC, PART_JC, "assigned")

    say("10-20 19:00: 5 hours before the township's same-day deadline, the SMS goes out")
    demo.act(JC, "10-20T19:00", "reminders", "run", "--once")
    demo.show(JC, "10-20T19:00", "reminders")

    say("each tier reports within 3 days (反馈); the township resolves, then each tier above")
    head = "sx-xinzhou-dingxiang-jinchang-head"
    demo.act(
        JC, "10-20T20:00", "item", "deploy", PART_JC, "--actor", head, "--note", "镇党委会部署"
    )
    for node, part, actor, when in (
        (JC, PART_JC, head, "10-21T16:00"),
        (DX, PART_DX, "sx-xinzhou-dingxiang-head", "10-22T09:00"),
        (XZ, PART_XZ, "sx-xinzhou-head", "10-22T15:00"),
        (SX, ITEM, "sx-transport-op1", "10-23T10:00"),
    ):
        demo.act(node, when, "item", "feedback", part, "--actor", actor,
                 "--content", "已制定收费站拓宽方案，正在落实")  # fmt: skip
    demo.show(SX, "10-24T09:00", "ledger")
    demo.act(JC, "11-08T10:00", "item", "resolve", PART_JC, "--actor", head,
             "--content", "施工区域清障完成")  # fmt: skip
    demo.arrives(DX, PART_DX, "in_progress")
    for node, part, actor, day in (
        (DX, PART_DX, "sx-xinzhou-dingxiang-head", "11-09"),
        (XZ, PART_XZ, "sx-xinzhou-head", "11-10"),
    ):
        demo.act(node, f"{day}T10:00", "item", "resolve", part, "--actor", actor,
                 "--content", "定襄北收费站车道已拓宽")  # fmt: skip
    say("11-12 一网指挥: the province drills down to the township")
    demo.fed.wait_until(lambda: _rolled_up(demo), 30.0)
    demo.show(SX, "11-12T09:00", "tree", "--depth", "2")
    demo.show(SX, "11-12T09:00", "tree", XZ, "--depth", "3")
    demo.show(SX, "11-12T09:00", "tree", "--chain", ITEM)

    say("11-14 transport resolves, 11-15 the general office closes it out (销号): it cascades down")
    demo.act(SX, "11-14T10:00", "item", "resolve", ITEM, "--actor", "sx-transport-head",
             "--content", "定襄北收费站车道已拓宽，企业产品顺利运出")  # fmt: skip
    demo.act(SX, "11-15T10:00", "item", "close-out", ITEM, "--actor", "sx-general-office-sup1",
             "--verdict", "经核实问题已解决，予以销号")  # fmt: skip
    for node, part in ((XZ, PART_XZ), (DX, PART_DX), (JC, PART_JC)):
        demo.arrives(node, part, "closed")
    demo.show(SX, "11-15T11:00", "ledger")

    say("replication lag at the province, and an auditor's check of every history it holds")
    demo.show(SX, "11-15T11:00", "node", "status")
    demo.show(SX, "11-15T11:00", "audit", "verify", str(demo.fed.node_dir(SX)), "--subtree")


def _rolled_up(demo: Demo) -> bool:
    children = demo.act(SX, "11-12T09:00", "item", "show", ITEM)["children"]
    return all(c["state"] == "resolved" for c in children.values())


def main(argv: list[str] | None = None) -> int:
    """Start the federation, play the example, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", help="keep node directories and logs in this directory")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ledger13710-demo-"))
    os.environ.pop("LEDGER13710_DIR", None)
    say(f"starting nats-server and {len(NODES)} nodes (province, 11 cities, county, township)")
    started = time.monotonic()
    fed = LocalFederation(base, NODES, clock_env="2016-10-20T09:00")
    try:
        fed.start(timeout=120.0)
        print(f"   up in {time.monotonic() - started:.1f}s at {fed.url}; logs in {base}")
        run(Demo(fed))
    finally:
        fed.stop()
    say(f"done in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
