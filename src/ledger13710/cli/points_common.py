"""What the points and cases commands share: the points rules they price with, and a node with
its points store opened and caught up."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

from ledger13710.application.node import Node
from ledger13710.domain.errors import ConfigError
from ledger13710.domain.points_rules import PointsRules, parse_points_rules
from ledger13710.node.bootstrap import open_node
from ledger13710.node.points import open_points
from ledger13710.projections.points import PointsProjector

DEFAULT_RULES = "builtin:points-v1"


def load_points_rules(spec: str) -> PointsRules:
    """``builtin:<name>`` (``data/<name>.toml``) or a path to a rules TOML file."""
    if spec.startswith("builtin:"):
        name = spec.removeprefix("builtin:")
        data = resources.files("ledger13710").joinpath("data")
        if not name.startswith("points-") or not data.joinpath(f"{name}.toml").is_file():
            raise ConfigError(f"unknown built-in points rules {spec!r}; try {DEFAULT_RULES}")
        return parse_points_rules(data.joinpath(f"{name}.toml").read_text("utf-8"), spec)
    try:
        text = Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{spec}: cannot read the points rules file: {exc}") from None
    return parse_points_rules(text, spec)


T = TypeVar("T")


def with_points(
    args: argparse.Namespace, work: Callable[[PointsProjector, Node], Awaitable[T]]
) -> T:
    """Open the node and its points (priced by ``--rules``), catch up, run ``work``."""
    rules = load_points_rules(args.rules)
    node = open_node(Path(args.dir), args.run_clock)
    try:

        async def run() -> T:
            async with open_points(node.dir, node.id, node.app.recorder, rules) as projector:
                rebuild = getattr(args, "rebuild", False)
                await (projector.rebuild() if rebuild else projector.catch_up())
                return await work(projector, node)

        return asyncio.run(run())
    finally:
        node.close()
