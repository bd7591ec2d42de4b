"""The nats-server configuration text format: a nested dict rendered as the server reads it
(keys bare, strings JSON-quoted, maps in braces, lists in brackets), two spaces per level.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def render(conf: Mapping[str, Any]) -> str:
    """nats-server configuration text for a dict (keys bare, strings JSON-quoted)."""
    return "\n".join(_render_items(conf, 0)) + "\n"


def _render_items(conf: Mapping[str, Any], depth: int) -> list[str]:
    pad = "  " * depth
    return [f"{pad}{key}: {_render_value(value, depth)}" for key, value in conf.items()]


def _render_value(value: object, depth: int) -> str:
    pad = "  " * depth
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{\n" + "\n".join(_render_items(value, depth + 1)) + f"\n{pad}}}"
    if isinstance(value, list):
        inner = [f"{pad}  {_render_value(v, depth + 1)}" for v in value]
        return "[\n" + "\n".join(inner) + f"\n{pad}]"
    raise TypeError(f"cannot render {value!r} as nats-server configuration")
