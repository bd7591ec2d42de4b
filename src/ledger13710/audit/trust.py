"""The public keys a node trusts for its descendants' logs, set by configuration.

A parent checks each descendant's signed checkpoints and key rotations against a pinned key.
Left alone it pins on first use: the first checkpoint or rotation it sees from that origin,
which trusts whoever speaks first. A key configured here is pinned before anything arrives, so
a log signed by any other key is rejected from its first checkpoint on. Keys come from:

- ``node init``: the ``public_key`` of every descendant whose ``nodes/<id>.toml`` carries one
  (a node's key is published there once the node is initialised: ``ledger13710 node show``);
- ``ledger13710 node trust ORIGIN KEY``: adds or replaces one later.

They are kept in ``trusted_keys.json`` in the node directory and pinned into the replica store
when the node's federation process starts and when ``node trust`` runs
(:meth:`ledger13710.replication.replica_store.ReplicaStore.configure_keys`).

The key to configure is the one the descendant was initialised with: its log is checked from
its first record, and a later key is reached through the signed rotations in the log. (A
parent that starts out trusting only a rotated-to key would refuse the checkpoints signed
before the rotation.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger13710.config.node import NodeConfig
from ledger13710.domain.directory import is_government, is_within
from ledger13710.domain.errors import ConfigError, InputError

TRUSTED_FILE = "trusted_keys.json"


def check_public_key(key: str, what: str) -> str:
    """``key`` as stored (lower-case hex) if it is an Ed25519 public key; else InputError."""
    text = key.strip().lower()
    try:
        raw = bytes.fromhex(text)
        if len(raw) != 32:
            raise ValueError
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InputError(
            f"{what}: {key!r} is not an Ed25519 public key (64 hex digits, as "
            '"ledger13710 node show" prints it)'
        ) from None
    return text


def load_trusted(node_dir: Path) -> dict[str, str]:
    """origin -> configured public key (empty when the file does not exist)."""
    path = node_dir / TRUSTED_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the trusted keys: {e}") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ConfigError(f"{path}: must be a JSON object of node id -> public key (hex)")
    try:
        return {origin: check_public_key(key, f"{path}: {origin}") for origin, key in data.items()}
    except InputError as e:
        raise ConfigError(str(e)) from None


def save_trusted(node_dir: Path, keys: Mapping[str, str]) -> None:
    """Write the trusted keys (whole file replaced atomically)."""
    path = node_dir / TRUSTED_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(keys.items())), indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


def keys_from_configs(node_id: str, configs: Mapping[str, NodeConfig]) -> dict[str, str]:
    """The published keys of ``node_id``'s descendants among ``configs``."""
    return {
        other: check_public_key(cfg.node.public_key, f"{cfg.source}: $.node.public_key")
        for other, cfg in configs.items()
        if other != node_id and is_within(other, node_id) and cfg.node.public_key
    }


def trust(node_dir: Path, node_id: str, origin: str, key: str) -> dict[str, str]:
    """Configure ``key`` for the descendant ``origin`` of ``node_id``; the keys now trusted."""
    if origin == node_id or not is_government(origin) or not is_within(origin, node_id):
        raise InputError(
            f"{origin!r} is not a node below {node_id!r}: a node trusts keys only for the "
            "descendants whose logs it ingests"
        )
    keys = load_trusted(node_dir)
    keys[origin] = check_public_key(key, f"key for {origin}")
    save_trusted(node_dir, keys)
    return keys
