"""Arbitrary strings in every text field and argument of the command line.

Control characters, bidi overrides, very long text, SQL-ish and path-ish strings go into each
slot of each command, in-process through ``main(argv)``. Whatever the string: no internal error
(exit 70), no traceback, the log does not move unless the command succeeded, and nothing a
person reads holds a raw control or bidi character.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger13710.cli.main import main
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import open_node

NODES = Path(__file__).resolve().parents[2] / "nodes"
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"
N = "sx-2016-0001"
X = "\0slot"  # where the arbitrary string goes
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

REGISTER = [
    "item", "register", "--actor", SUP, "--title", "风电法兰运输受阻", "--source", "key_work",
    "--board", "key-work", "--raising-unit", "sx/general-office", "--lead-unit", "sx/transport",
]  # fmt: skip


def _register_with(flag: str) -> list[str]:
    if flag in REGISTER:
        i = REGISTER.index(flag)
        return [*REGISTER[: i + 1], X, *REGISTER[i + 2 :]]
    return [*REGISTER, flag, X]


#: Every command with a slot for the string; each is run with ``--dir`` and ``--now`` added.
COMMANDS = [
    *(
        _register_with(flag)
        for flag in (
            "--title",
            "--detail",
            "--reference",
            "--number",
            "--board",
            "--source",
            "--severity",
            "--raising-unit",
            "--lead-unit",
            "--co-unit",
            "--actor",
        )
    ),
    ["item", "assign", N, "--actor", SUP, "--note", X],
    ["item", "deploy", N, "--actor", HEAD, "--note", X],
    ["item", "deploy", X, "--actor", HEAD],
    ["item", "feedback", N, "--actor", HEAD, "--content", X],
    ["item", "progress", N, "--actor", HEAD, "--content", X, "--milestone", "0"],
    ["item", "progress", N, "--actor", HEAD, "--content", "进展", "--milestone", X],
    ["item", "resolve", N, "--actor", HEAD, "--content", X],
    ["item", "urge", N, "--actor", SUP, "--message", X],
    ["item", "return", N, "--actor", SUP, "--reason", X],
    ["item", "close-out", N, "--actor", SUP, "--verdict", X],
    ["item", "cancel", N, "--actor", SUP, "--reason", X, "--approved-by", ""],
    ["item", "cancel", N, "--actor", SUP, "--reason", "", "--approved-by", X],
    [
        "item",
        "plan",
        N,
        "--actor",
        HEAD,
        "--reason",
        X,
        "--milestone",
        "设计@2016-11-01",
        "--target",
        "2016-11-10",
    ],
    ["item", "plan", N, "--actor", HEAD, "--reason", "r", "--milestone", X, "--target", X],
    ["item", "extend", N, "--actor", HEAD, "--clock", X, "--until", "2016-12-01", "--reason", "r"],
    ["item", "extend", N, "--actor", HEAD, "--clock", "resolve", "--until", X, "--reason", X],
    ["item", "sub-assign", N, "--actor", HEAD, "--to-unit", X, "--part", X],
    ["item", "sub-assign", N, "--actor", HEAD, "--to-unit", "sx/highway-group", "--part", X],
    ["item", "show", X],
    ["ledger", "--board", X, "--unit", X],
    ["ledger", "--within", X],
    ["ledger", "--state", X],
    ["ledger", "--year", X],
    ["ledger", "--page", X],
    ["ledger", "--sort", X],
    ["stats", "--unit", X],
    ["tree", X],
    ["tree", "--chain", X],
    ["tree", "--depth", X],
    ["timeline", X],
    ["reminders", "--limit", X],
    ["audit", "verify", X],
    ["audit", "replay", "--item", X, "--as-of", X],
    ["audit", "prove", "--item", X],
    ["contact", "set-phone", X, "13800000000"],
    ["contact", "set-phone", "sx-transport-op1", X],
    ["contact", "erase", X],
    ["node", "trust", X, X],
    ["node", "unblock", X],
    ["import", X, "--actor", SUP],
    ["ledger", "--now", X],
    ["--log-level", X, "ledger"],
]

HOSTILE = [
    "../../x y", "/etc/passwd", "..\\..\\boot.ini", "x'; DROP TABLE stored_events; --",
    "\" OR 1=1 --", "%s%n%x", "{0}{title}", "[bold red]alarm[/]", "[/]", "\x1b[2J\x1b[31m",
    "\u202eevil\u202c", "\u2066iso\u2069", "\x9b31m", "\x00", "-", "--json", "sx-2016-0001",
    "", " ", "\n", "99999999999999999999", "-1", "nan", "2016-13-45", "sx/transport",
]  # fmt: skip
ODD = st.characters(
    codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Zs", "Lo", "Ll", "Nd", "Po", "Sm"]
)
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(ODD, max_size=60),
    st.builds(lambda s, n: s * n, st.text(ODD, min_size=1, max_size=3), st.integers(300, 5000)),
)


@dataclass
class Node:
    """The node under attack."""

    dir: Path


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Node:
    """A province node with one assigned item, sx-2016-0001."""
    node_dir = tmp_path_factory.mktemp("fuzz") / "sx"
    with captured():
        assert (
            main(["node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(node_dir)]) == 0
        )
        assert main([*REGISTER, "--assign", "--dir", str(node_dir), "--now", "2016-10-20"]) == 0
    return Node(node_dir)


@dataclass
class Output:
    """What a command printed."""

    out: str = ""
    err: str = ""


@contextmanager
def captured() -> Iterator[Output]:
    """Capture stdout and stderr (text and bytes) of the commands run inside."""
    result = Output()
    streams = io.TextIOWrapper(io.BytesIO(), "utf-8"), io.TextIOWrapper(io.BytesIO(), "utf-8")
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = streams
    try:
        yield result
    finally:
        sys.stdout, sys.stderr = saved
        for s in streams:
            s.flush()
        result.out, result.err = (s.buffer.getvalue().decode() for s in streams)


def log_position(node_dir: Path) -> int:
    """The node's last log position."""
    node = open_node(node_dir, ManualClock(datetime(2016, 10, 20, tzinfo=SHANGHAI)))
    try:
        return node.app.recorder.max_notification_id() or 0
    finally:
        node.close()


@pytest.mark.slow
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), text=TEXT, json=st.booleans())
def test_no_string_in_any_slot_crashes_half_writes_or_reaches_the_screen_raw(
    node: Node, command: list[str], text: str, json: bool
) -> None:
    """Exit 0, 1 or 2; one line per error; no traceback; the log moves only on success; no
    raw control or bidi character in what is printed."""
    argv = [text if a == X else a for a in command]
    argv += ["--dir", str(node.dir), *([] if "--now" in command else ["--now", "2016-10-21T10"])]
    argv += ["--json"] if json else []
    before = log_position(node.dir)
    with captured() as printed:
        code = main(argv)
    assert code in (0, 1, 2), printed.err
    assert "Traceback" not in printed.err
    assert "internal error" not in printed.err
    if code == 2 and not printed.err.startswith("usage:"):
        assert len(printed.err.splitlines()) == 1, printed.err
    if code != 0:
        assert before == log_position(node.dir)
    assert RAW.search(printed.out) is None, printed.out
    assert RAW.search(printed.err) is None, printed.err
