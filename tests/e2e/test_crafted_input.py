"""A careless or hostile user: one clear line and exit 2 for each mistake, user text shown safely.

The commands run in-process through ``main(argv)`` (the console script's own function).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from openpyxl import load_workbook

from ledger13710.cli.main import main

NODES = Path(__file__).resolve().parents[2] / "nodes"
SUP = "sx-general-office-sup1"
HEAD = "sx-transport-head"
NOW = ["--now", "2016-10-20T09:00"]
TITLE = "收费站\x1b[31m车道\u202e拓宽 [bold]x[/] \x9b2J"
#: A raw control, C1 or bidi character in output meant for a person.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Done:
    """What one command did."""

    code: int
    out: str
    err: str


Run = Callable[..., Done]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run ``ledger13710 ARGS`` in-process; return its exit status and output."""

    def call(*args: str) -> Done:
        code = main(list(args))
        captured = capsys.readouterr()
        return Done(code, captured.out, captured.err)

    return call


def register_args(node: Path, *extra: str, title: str = "风电法兰运输受阻") -> list[str]:
    """``item register`` of a key-work item led by the transport department, as the office."""
    return [
        "item", "register", "--dir", str(node), "--actor", SUP, "--title", title,
        "--source", "key_work", "--board", "key-work", "--raising-unit", "sx/general-office",
        "--lead-unit", "sx/transport", *NOW, *extra,
    ]  # fmt: skip


@pytest.fixture
def node(tmp_path: Path, run: Run) -> Path:
    """A fresh province node with one registered and assigned item, sx-2016-0001."""
    node = tmp_path / "sx"
    assert run("node", "init", "--config", str(NODES / "sx.toml"), "--dir", str(node)).code == 0
    assert run(*register_args(node, "--assign")).code == 0
    return node


def position(run: Run, node: Path) -> int:
    """The node's last log position."""
    done = run("node", "show", "--dir", str(node), "--json", *NOW)
    value: int = msgspec.json.decode(done.out)["log_position"]
    return value


def refused(done: Done, *needles: str) -> None:
    """Exit 2 with one line on stderr that contains each needle; no traceback."""
    assert (done.code, len(done.err.splitlines())) == (2, 1), done.err
    assert done.err.startswith("ledger13710")
    assert "Traceback" not in done.err
    for needle in needles:
        assert needle in done.err


@pytest.mark.parametrize(
    "args",
    [
        ["ledger", "--year", "99999999999999999999"],
        ["stats", "--year", "-99999999999999999999"],
        ["ledger", "--page", "99999999999999999999"],
        ["ledger", "--page-size", "-1"],
        ["reminders", "--limit", "99999999999999999999"],
        ["tree", "--depth", "99999999999999999999"],
    ],
)
def test_a_number_out_of_range_is_refused_naming_the_flag(
    node: Path, run: Run, args: list[str]
) -> None:
    """An enormous or negative number is one line naming the flag and the range, exit 2."""
    done = run(*args, "--dir", str(node))
    assert done.code == 2
    assert f"argument {args[1]}: " in done.err
    assert "is not between" in done.err
    assert "internal error" not in done.err


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database\n" * 40)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:5000])


@pytest.mark.parametrize("damage", [_garbage, _truncated])
@pytest.mark.parametrize("store", ["events.sqlite", "directory.sqlite"])
@pytest.mark.parametrize(
    "command",
    [
        lambda node: ["item", "show", "sx-2016-0001", "--dir", str(node)],
        register_args,
        lambda node: ["audit", "verify", str(node)],
    ],
    ids=["show", "register", "verify"],
)
def test_a_damaged_store_is_named_with_what_to_do(
    node: Path,
    run: Run,
    damage: Callable[[Path], None],
    store: str,
    command: Callable[[Path], list[str]],
) -> None:
    """A garbage or cut-short store: one line naming the file and how to recover, exit 2."""
    if store == "directory.sqlite" and command(node)[0] == "audit":
        # the audit reads the log only: signed before the damage, the log stays intact
        assert run("audit", "checkpoint", "--dir", str(node), *NOW).code == 0
    damage(node / store)
    done = run(*command(node))
    if store == "directory.sqlite" and command(node)[0] == "audit":
        assert done.code == 0
        return
    refused(done, f"{node / store} is not a ledger13710 store or is damaged", "backup")
    if store == "events.sqlite":
        assert f"ledger13710 audit verify {node}" in done.err


def test_a_derived_store_that_is_damaged_says_how_to_rebuild_it(node: Path, run: Run) -> None:
    """A damaged views.sqlite is named, with the command that makes it again."""
    assert run("ledger", "--dir", str(node), *NOW).code == 0
    _garbage(node / "views.sqlite")
    refused(run("ledger", "--dir", str(node), *NOW), "views.sqlite", "views rebuild")
    (node / "views.sqlite").unlink()
    assert run("views", "rebuild", "--dir", str(node), *NOW).code == 0


def test_a_bad_item_number_is_refused_and_nothing_is_written(node: Path, run: Run) -> None:
    """``--number "../../x y"`` is refused with the expected shape; the log does not move."""
    before = position(run, node)
    refused(run(*register_args(node, "--number", "../../x y")), "bad item number", "<node>")
    refused(run("item", "show", "../../x y", "--dir", str(node)), "bad item number")
    assert before == position(run, node)
    assert run(*register_args(node, "--number", "sx-2016-jz-7", "--json")).code == 0


def test_a_120_kb_title_is_refused_and_nothing_is_written(node: Path, run: Run) -> None:
    """A title over its limit is refused naming the field and limit; the log does not move."""
    before = position(run, node)
    refused(run(*register_args(node, title="题" * 120_000)), "title is 120000", "limit is 200")
    refused(
        run("item", "deploy", "sx-2016-0001", "--dir", str(node), "--actor", HEAD,
            "--note", "n" * 2001, *NOW),
        "note is 2001 characters long",
    )  # fmt: skip
    assert before == position(run, node)


def test_item_show_and_the_ledger_show_user_text_safely(node: Path, run: Run) -> None:
    """ESC, a bidi override, C1 and rich markup in a title are shown as escapes / literally."""
    assert run(*register_args(node, title=TITLE)).code == 0
    for args in (["item", "show", "sx-2016-0002"], ["ledger"], ["timeline", "sx-2016-0002"]):
        done = run(*args, "--dir", str(node), *NOW)
        assert done.code == 0, done.err
        assert RAW.search(done.out) is None
    shown = run("item", "show", "sx-2016-0002", "--dir", str(node), *NOW).out
    assert "\\x1b[31m车道\\u202e拓宽 [bold]x[/] \\x9b2J" in shown


def test_emoji_codes_in_user_text_are_shown_as_typed(node: Path, run: Run) -> None:
    """rich would turn ``:red_circle:`` into 🔴; a title shows on every screen as it was typed."""
    assert run(*register_args(node, title="会议:red_circle:纪要")).code == 0
    for args in (["item", "show", "sx-2016-0002"], ["ledger"], ["timeline", "sx-2016-0002"]):
        done = run(*args, "--dir", str(node), *NOW)
        assert done.code == 0, done.err
        assert "🔴" not in done.out
    shown = run("item", "show", "sx-2016-0002", "--dir", str(node), *NOW).out
    assert "会议:red_circle:纪要" in shown


def test_json_output_keeps_the_exact_text_but_no_raw_bidi_or_c1(node: Path, run: Run) -> None:
    """``--json`` decodes to the stored title; the bytes on the terminal hold no raw control."""
    assert run(*register_args(node, title=TITLE)).code == 0
    done = run("item", "show", "sx-2016-0002", "--dir", str(node), "--json", *NOW)
    assert RAW.search(done.out) is None
    assert msgspec.json.decode(done.out)["title"] == TITLE


def test_an_error_message_shows_what_was_typed_safely(node: Path, run: Run) -> None:
    """A user's control characters quoted in an error message are escaped too."""
    for args in (
        ["item", "deploy", "sx-2016-0001", "--actor", "x\x1b[2Jy", "--dir", str(node)],
        ["ledger", "--state", "\u202eclosed", "--dir", str(node)],
    ):
        done = run(*args)
        assert done.code == 2
        assert RAW.search(done.err) is None


def test_a_workbook_shows_text_safely_and_never_as_a_formula(
    node: Path, run: Run, tmp_path: Path
) -> None:
    """Exported cells: control characters escaped, a title starting with "=" stays text."""
    formula = '=HYPERLINK("http://example.invalid","click")'
    assert run(*register_args(node, title=TITLE)).code == 0
    assert run(*register_args(node, title=formula)).code == 0
    out = tmp_path / "ledger.xlsx"
    assert run("export", str(out), "--dir", str(node), *NOW).code == 0
    cells: list[Any] = [
        c for ws in load_workbook(out) for row in ws.iter_rows() for c in row if c.value
    ]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not any(RAW.search(t) for t in texts)
    found = [c for c in cells if c.value == formula]  # on 总台账 and on its board's sheet
    assert found
    assert {"s"} == {c.data_type for c in found}
