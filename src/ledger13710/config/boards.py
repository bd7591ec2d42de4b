"""Boards (板块) as data: the built-in "1+5" plus any a node adds in its ``boards.toml``."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import msgspec

from ledger13710.domain.errors import ConfigError


class Board(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One board: a stable id for events, a Chinese name for people."""

    id: str
    name: str
    group: str = "X"
    description: str = ""


class _BoardsFile(msgspec.Struct, forbid_unknown_fields=True):
    boards: list[Board]


def _parse(text: str, source: str) -> list[Board]:
    try:
        return msgspec.convert(tomllib.loads(text), _BoardsFile).boards
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as e:
        raise ConfigError(f"{source}: {e}") from None


def load_boards(extra: Path | None = None) -> dict[str, Board]:
    """The built-in boards, then those of ``extra`` (a node's boards.toml) if it exists."""
    text = resources.files("ledger13710").joinpath("data/boards.toml").read_text("utf-8")
    boards = {b.id: b for b in _parse(text, "built-in boards.toml")}
    if extra is not None and extra.exists():
        for b in _parse(extra.read_text("utf-8"), str(extra)):
            if b.id in boards:
                raise ConfigError(f"{extra}: board {b.id!r} is already defined")
            boards[b.id] = b
    return boards
