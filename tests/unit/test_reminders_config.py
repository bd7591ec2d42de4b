"""``[reminders]`` in a node TOML: optional, round-trips through ``node init``, checked."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from ledger13710.config.dump import dump_node_config
from ledger13710.config.node import RemindersSection, load_node_config
from ledger13710.domain.errors import ConfigError
from ledger13710.node.reminders import settings_of

NODES = Path(__file__).resolve().parents[2] / "nodes"

SECTION = """
[reminders]
gateway = "http"
late_after = "10m"
max_parts = 2

[reminders.http]
url = "https://sms.example.test/send"
headers = { Authorization = "Bearer ${key}" }
body = { mobile = "${phone}", content = "${text}" }
message_id_field = "data.id"
"""


def test_existing_node_files_get_the_outbox_default() -> None:
    """A node TOML without ``[reminders]`` still loads, with the outbox gateway."""
    cfg = load_node_config(NODES / "sx.toml")
    assert cfg.reminders == RemindersSection()
    assert settings_of(cfg.reminders).late_after_s == 300


def test_reminders_section_survives_dump_and_load(tmp_path: Path) -> None:
    """A configured section is written back by ``dump_node_config`` and reads the same."""
    path = tmp_path / "sx.toml"
    path.write_text((NODES / "sx.toml").read_text("utf-8") + SECTION, "utf-8")
    cfg = load_node_config(path)
    assert cfg.reminders.gateway == "http"
    assert cfg.reminders.http.body == {"mobile": "${phone}", "content": "${text}"}
    again = tmp_path / "again.toml"
    again.write_text(dump_node_config(cfg), "utf-8")
    assert load_node_config(again).reminders == cfg.reminders


def test_bad_values_name_the_field() -> None:
    """A bad duration or a zero limit is a ConfigError naming ``[reminders]``."""
    with pytest.raises(ConfigError, match=r"\[reminders\]"):
        settings_of(msgspec.structs.replace(RemindersSection(), late_after="5 minutes"))
    with pytest.raises(ConfigError, match=r"\[reminders\]\.max_parts"):
        settings_of(msgspec.structs.replace(RemindersSection(), max_parts=0))
