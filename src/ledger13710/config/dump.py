"""Write a node configuration back as TOML (``node init``'s copy, key rotation, the synthetic
province generator); what it writes loads back with :func:`ledger13710.config.load_node_config`
to the same configuration."""

from __future__ import annotations

import json
from typing import Any

import msgspec

from ledger13710.config.node import NodeConfig, RemindersSection


def dump_node_config(cfg: NodeConfig) -> str:
    """Render ``cfg`` as TOML text (without ``source``)."""
    lines = ["[node]"]
    lines += _fields(msgspec.to_builtins(cfg.node))
    lines += ["", "[store]"]
    lines += _fields({k: v for k, v in msgspec.to_builtins(cfg.store).items() if v != ""})
    if cfg.reminders != RemindersSection():
        lines += _reminder_lines(cfg.reminders)
    for unit in cfg.units:
        data = msgspec.to_builtins(unit)
        if data.get("tier") is None:
            data.pop("tier", None)
        lines += ["", "[[units]]", *_fields(data)]
    for contact in cfg.contacts:
        lines += ["", "[[contacts]]", *_fields(msgspec.to_builtins(contact))]
    return "\n".join(lines) + "\n"


def _fields(data: dict[str, Any]) -> list[str]:
    return [f"{key} = {_value(value)}" for key, value in data.items()]


def _reminder_lines(section: RemindersSection) -> list[str]:
    data = msgspec.to_builtins(section)
    http, smpp = data.pop("http"), data.pop("smpp")
    return [
        *["", "[reminders]", *_fields(data)],
        *["", "[reminders.http]", *_fields(http)],
        *["", "[reminders.smpp]", *_fields(smpp)],
    ]


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_value(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    raise TypeError(f"cannot write {value!r} as TOML here")
