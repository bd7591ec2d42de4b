"""Every option and argument of the command line says what it is for."""

from __future__ import annotations

import argparse

from ledger13710.cli.main import build_parser


def _undocumented(parser: argparse.ArgumentParser, path: str) -> list[str]:
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _undocumented(sub, f"{path} {name}".strip())
        elif action.help is None and not isinstance(action, argparse._HelpAction):
            found.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return found


def test_every_option_has_help_text() -> None:
    """``--help`` of every command explains each of its options and arguments."""
    assert _undocumented(build_parser(), "") == []
