"""Configured keys: a parent pins a descendant's published key before anything arrives.

Without configuration a parent pins an origin's key on first use; these tests cover keys
configured in ``trusted_keys.json`` (by ``node init`` from the node files, or ``node trust``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from audit_helpers import fill
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from structlog.testing import capture_logs

from conftest import NODES
from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint
from ledger13710.audit.keys import public_hex
from ledger13710.audit.store import Checkpoint
from ledger13710.audit.trust import TRUSTED_FILE, load_trusted, trust
from ledger13710.config.node import load_node_configs
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.node.bootstrap import init_node
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.verified import REJECTED, VERIFIED

COUNTY = "sx.xinzhou.dingxiang"


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaStore]:
    """An empty replica store, as a parent holds it."""
    store = ReplicaStore(tmp_path / "replicas.sqlite")
    yield store
    store.close()


def stranger() -> str:
    """A valid public key nobody in the federation holds."""
    return public_hex(Ed25519PrivateKey.generate())


def signed(node: Node, replicas: ReplicaStore, *, configure: str = "") -> Checkpoint:
    """An item on ``node``, its checkpoint signed; the log applied to ``replicas`` (after
    configuring the key ``configure`` for it, if given), the checkpoint not yet received."""
    fill(node.app, 1)
    cp = make_checkpoint(node)
    assert cp is not None
    if configure:
        assert replicas.configure_keys({node.id: configure}) == {}
    replicas.apply(read_log(node.app, node.id, 0, 10_000))
    return cp


def blocked(store: ReplicaStore, origin: str) -> str:
    """The origin's blocked reason ("" when it flows)."""
    return next(s.blocked for s in store.statuses() if s.origin == origin)


def test_checkpoint_by_another_key_is_rejected_from_the_first(
    node: Node, replicas: ReplicaStore
) -> None:
    """A configured key is in force before any checkpoint: a stranger's first one fails."""
    cp = signed(node, replicas, configure=stranger())
    (outcome,) = replicas.add_checkpoint(cp)
    assert (outcome.status, "not by the key in force" in outcome.reason) == (REJECTED, True)
    assert blocked(replicas, node.id).startswith(f"checkpoint of {cp.tree_size}")


def test_the_published_key_verifies_and_is_marked_configured(
    node: Node, replicas: ReplicaStore
) -> None:
    """The origin's own key, configured, verifies its checkpoint and is the one pinned."""
    cp = signed(node, replicas, configure=node.config.node.public_key)
    (outcome,) = replicas.add_checkpoint(cp)
    assert outcome.status == VERIFIED
    (status,) = replicas.statuses()
    assert (status.pinned_key, status.key_source, status.blocked) == (
        node.config.node.public_key, "configured", "",
    )  # fmt: skip


def test_a_key_conflicting_with_first_use_blocks_the_origin(
    node: Node, replicas: ReplicaStore
) -> None:
    """Pinned on first use, then configured otherwise: the origin is blocked, loudly."""
    cp = signed(node, replicas)
    assert replicas.add_checkpoint(cp)[0].status == VERIFIED
    other = stranger()
    conflicts = replicas.configure_keys({node.id: other})
    assert list(conflicts) == [node.id]
    assert f"configured key {other[:16]}" in conflicts[node.id]
    assert blocked(replicas, node.id) == conflicts[node.id]
    # the key it did sign with conflicts with nothing, and a configured key may be replaced
    assert replicas.configure_keys({node.id: node.config.node.public_key}) == {}
    assert replicas.configure_keys({"sx.taiyuan": stranger()}) == {}
    assert replicas.configure_keys({"sx.taiyuan": stranger()}) == {}


def test_trust_accepts_only_descendants_and_real_keys(tmp_path: Path) -> None:
    """``trust`` names what is wrong: not below this node, a department, or not a key."""
    key = stranger()
    assert trust(tmp_path, "sx.xinzhou", COUNTY, key.upper()) == {COUNTY: key}
    assert load_trusted(tmp_path) == {COUNTY: key}
    for origin in ("sx", "sx.xinzhou", "sx.taiyuan.xiaodian", "sx.xinzhou/transport"):
        with pytest.raises(InputError, match="is not a node below"):
            trust(tmp_path, "sx.xinzhou", origin, key)
    for bad in ("", "zz" * 32, key[:-2], "00" * 32 + "00"):
        with pytest.raises(InputError, match="is not an Ed25519 public key"):
            trust(tmp_path, "sx.xinzhou", COUNTY, bad)
    assert load_trusted(tmp_path) == {COUNTY: key}  # nothing half written


def test_a_damaged_trust_file_is_a_config_error(tmp_path: Path) -> None:
    """Unreadable JSON, the wrong shape or a bad key: a ConfigError naming the file."""
    path = tmp_path / TRUSTED_FILE
    for text in ("{", "[]", '{"sx.xinzhou": 1}', '{"sx.xinzhou": "abc"}'):
        path.write_text(text, "utf-8")
        with pytest.raises(ConfigError, match=TRUSTED_FILE):
            load_trusted(tmp_path)


def test_node_init_trusts_the_keys_published_in_the_node_files(tmp_path: Path) -> None:
    """A descendant's ``public_key`` in its node file is trusted by ``node init`` of a parent."""
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    for file in NODES.glob("*.toml"):
        (nodes / file.name).write_text(file.read_text("utf-8"), "utf-8")
    key = stranger()
    county = nodes / f"{COUNTY}.toml"
    county.write_text(
        county.read_text("utf-8").replace('public_key = ""', f'public_key = "{key}"', 1), "utf-8"
    )
    city = init_node(nodes / "sx.xinzhou.toml", tmp_path / "city")
    assert json.loads((city / TRUSTED_FILE).read_text("utf-8")) == {COUNTY: key}
    other = init_node(nodes / "sx.taiyuan.toml", tmp_path / "taiyuan")
    assert not (other / TRUSTED_FILE).exists()  # not its descendant
    with capture_logs() as logs:  # the county itself, set up again without its published key
        init_node(county, tmp_path / "county")
    (warned,) = [e for e in logs if e["event"] == "new_key_differs_from_published"]
    assert warned["published"] == key[:16]
    county.write_text(county.read_text("utf-8").replace(key, "not-a-key"), "utf-8")
    with pytest.raises(ConfigError, match=r"\$\.node\.public_key"):
        load_node_configs(nodes)
