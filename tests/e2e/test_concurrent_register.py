"""Two processes registering on one node at once: every registration succeeds, no number twice."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable

import msgspec
import pytest

from ledger13710.application.node import Node

MakeNode = Callable[..., Node]

PER_PROCESS = 200

#: One writer: ``PER_PROCESS`` registrations through the real command line, in one process
#: (``main(argv)`` per command, each opening the node as the console script does).
WRITER = """
import sys
from ledger13710.cli.main import main

node_dir, count = sys.argv[1], int(sys.argv[2])
argv = ["item", "register", "--dir", node_dir, "--actor", "sx-general-office-sup1",
        "--title", "并发立项", "--source", "key_work", "--board", "key-work",
        "--raising-unit", "sx/general-office", "--lead-unit", "sx/transport", "--json"]
failed = sum(main(argv) != 0 for _ in range(count))
sys.exit(1 if failed else 0)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_processes_register_400_items_with_400_distinct_numbers(
    make_node: MakeNode, kind: str
) -> None:
    """2 x 200 concurrent ``item register`` all succeed, and the 400 numbers are distinct.

    Both processes race for the node's next number; the one whose counter is saved second
    retries with the number after, instead of failing with "already registered".
    """
    node: Node = make_node(kind)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER13710_")}
    env["LEDGER13710_NOW"] = "2016-10-20T09:00"
    argv = [sys.executable, "-c", WRITER, str(node.dir), str(PER_PROCESS)]
    pipe = subprocess.PIPE
    writers = [subprocess.Popen(argv, env=env, stdout=pipe, stderr=pipe) for _ in range(2)]
    numbers: list[str] = []
    for w in writers:
        out, err = w.communicate(timeout=900)
        assert w.returncode == 0, err.decode()[-2000:]
        numbers += [msgspec.json.decode(line)["number"] for line in out.splitlines()]
    expected = (2 * PER_PROCESS, 2 * PER_PROCESS)
    assert expected == (len(numbers), len(set(numbers)))
    assert sum(1 for _ in node.app.item_ids()) == 2 * PER_PROCESS
