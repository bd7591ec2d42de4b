"""``[node] key_file``: the signing key outside the data directory, as production keeps it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import msgspec
from test_cli import ok, run

from conftest import write_config_dir

KEY = "../secrets/sx.ed25519"  # relative to the node file


def logged(*args: str) -> Any:
    """Run a command that must succeed (it may log warnings); its parsed ``--json`` output."""
    result = run(*args, "--json")
    assert result.code == 0, result.err
    return msgspec.json.decode(result.out)


def node_with_key_file(tmp_path: Path) -> tuple[Path, Path]:
    """``node init`` of a node whose TOML puts its key in ``secrets/`` beside the data dir."""
    config = write_config_dir(tmp_path / "config")
    text = config.read_text("utf-8").replace(
        'public_key = ""\n', f'public_key = ""\nkey_file = "{KEY}"\n', 1
    )
    config.write_text(text, "utf-8")
    node_dir = tmp_path / "node"
    ok("node", "init", "--config", str(config), "--dir", str(node_dir))
    return node_dir, (config.parent / KEY).resolve()


def test_the_key_lives_where_configured_and_rotation_keeps_it_there(tmp_path: Path) -> None:
    """The key is made at the configured path (0600), none in the node directory; checkpoints
    and a key rotation use it there, and the log verifies."""
    node_dir, key = node_with_key_file(tmp_path)
    assert key.stat().st_mode & 0o777 == 0o600
    assert not (node_dir / "keys").exists()
    assert str(key) in (node_dir / "node.toml").read_text("utf-8")
    before = key.read_bytes()
    rotated = logged("audit", "rotate-key", "--dir", str(node_dir))
    assert key.read_bytes() != before
    assert list(key.parent.iterdir()) == [key]  # the pending key became the key
    assert (
        ok("audit", "checkpoint", "--dir", str(node_dir))["public_key"]
        == (rotated["new_public_key"])
    )
    assert run("audit", "verify", str(node_dir)).code == 0


def test_a_key_others_may_read_is_refused(tmp_path: Path) -> None:
    """A key file readable by group or others: one line naming it and the fix, exit 2."""
    node_dir, key = node_with_key_file(tmp_path)
    key.chmod(0o644)
    result = run("audit", "rotate-key", "--dir", str(node_dir))
    assert result.code == 2
    assert result.err.strip().count("\n") == 0
    assert f"chmod 600 {key}" in result.err


def test_a_copy_of_the_data_directory_alone_cannot_sign(tmp_path: Path) -> None:
    """A backup of the node directory, away from the key's machine, signs nothing."""
    node_dir, key = node_with_key_file(tmp_path)
    backup = tmp_path / "backup"
    shutil.copytree(node_dir, backup)
    key.rename(tmp_path / "elsewhere")  # the backup's machine has no such file
    result = run("audit", "rotate-key", "--dir", str(backup))
    assert (result.code, "has no signing key" in result.err) == (2, True)
