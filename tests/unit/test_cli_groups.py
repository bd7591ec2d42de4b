"""The command line builds only the part of its command tree a run needs, and stays light."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from ledger13710.cli import main as cli


def top_level(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The top-level commands of ``parser`` with their parsers."""
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_the_group_table_names_every_top_level_command() -> None:
    """Every command the modules add is in ``GROUPS`` (or is ``node``/``contact``), and every
    entry of ``GROUPS`` is a command that exists."""
    commands = set(top_level(cli.build_parser()))
    assert commands == set(cli.GROUPS) | {"node", "contact"}


@pytest.mark.parametrize("command", [*sorted(cli.GROUPS), "node", "contact"])
def test_a_partial_tree_has_the_same_command_as_the_whole(command: str) -> None:
    """Built for one command, the tree holds that command with the same usage text."""
    whole = top_level(cli.build_parser())[command]
    part = top_level(cli.build_parser(command))[command]
    assert whole.format_help() == part.format_help()


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["item", "show", "N"], "item"),
        (["--log-level", "info", "ledger", "--overdue"], "ledger"),
        (["--log-level=debug", "audit", "verify"], "audit"),
        (["-h"], None),
        ([], None),
    ],
)
def test_the_command_word_skips_the_global_options(argv: list[str], word: str | None) -> None:
    """The top-level command is found after ``--log-level`` in either spelling; ``-h`` alone
    asks for the whole tree."""
    assert word == cli.command_word(argv)


def test_an_unknown_command_still_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped command gets argparse's usual error naming the valid choices, and exit 2."""
    assert cli.main(["itme", "show"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'itme'" in err
    assert "'item'" in err
    assert "'audit'" in err


HEAVY = ["openpyxl", "psycopg", "nats", "httpx", "smpplib", "structlog", "aiosqlite"]


def test_item_show_imports_none_of_the_heavy_libraries(tmp_path: object) -> None:
    """``item show`` (here on a directory that is no node, so it stops at the error) imports
    neither Excel, PostgreSQL, NATS, the SMS gateways' clients, structlog nor aiosqlite:
    each costs every command start-up time (scripts/bench_startup.py measures it)."""
    probe = (
        "import sys, json\n"
        "from ledger13710.cli.main import main\n"
        f"code = main(['item', 'show', 'sx-2016-0001', '--dir', {str(tmp_path)!r}])\n"
        f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    code, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 2
    assert loaded == []
