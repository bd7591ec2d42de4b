"""``ledger13710 node trust`` and ``node unblock`` end to end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_cli import NODES, ok, run

from ledger13710.audit.keys import public_hex
from ledger13710.replication.replica_store import ReplicaStore

COUNTY = "sx.xinzhou.dingxiang"


def city(tmp_path: Path) -> str:
    """A fresh city node directory."""
    node_dir = tmp_path / "city"
    ok("node", "init", "--config", str(NODES / "sx.xinzhou.toml"), "--dir", str(node_dir))
    return str(node_dir)


def test_trust_pins_the_key_and_reports_it(tmp_path: Path) -> None:
    """The key is saved and pinned in the replica store; the JSON names it."""
    node_dir = city(tmp_path)
    key = public_hex(Ed25519PrivateKey.generate())
    assert ok("node", "trust", COUNTY, key, "--dir", node_dir) == {
        "origin": COUNTY, "key": key, "conflict": {},
    }  # fmt: skip
    store = ReplicaStore(Path(node_dir) / "replicas.sqlite")
    try:
        (status,) = store.statuses()
    finally:
        store.close()
    assert (status.origin, status.pinned_key) == (COUNTY, key)
    out = run("node", "trust", COUNTY, key, "--dir", node_dir)
    assert (out.code, out.err) == (0, "")
    assert f"trusts {key[:16]}… for the log of {COUNTY}" in out.out


def test_bad_trust_and_unblock_requests_are_one_line_errors(tmp_path: Path) -> None:
    """Not a key, not a descendant, no such replica: exit 2, one line, nothing written."""
    node_dir = city(tmp_path)
    key = public_hex(Ed25519PrivateKey.generate())
    for args, expected in [
        (("trust", COUNTY, "abc"), "is not an Ed25519 public key"),
        (("trust", "sx.taiyuan", key), "is not a node below"),
        (("unblock", COUNTY), "holds no replica of"),
    ]:
        out = run("node", *args, "--dir", node_dir)
        assert out.code == 2, (args, out)
        assert expected in out.err, out.err
        assert len(out.err.strip().splitlines()) == 1, out.err
        assert "Traceback" not in out.err
    assert not (Path(node_dir) / "trusted_keys.json").exists()


def test_unblock_lets_a_blocked_origin_flow(tmp_path: Path) -> None:
    """A blocked origin is unblocked and the command says what it was blocked for."""
    node_dir = city(tmp_path)
    ReplicaStore(Path(node_dir) / "replicas.sqlite").close()
    with sqlite3.connect(Path(node_dir) / "replicas.sqlite") as db:
        db.execute(
            "INSERT INTO replica_positions (origin, last_seq, count, blocked) VALUES (?, 3, 3, ?)",
            (COUNTY, "record 4: chain broken"),
        )
    assert ok("node", "unblock", COUNTY, "--dir", node_dir) == {
        "origin": COUNTY, "was_blocked": "record 4: chain broken",
    }  # fmt: skip
    out = run("node", "unblock", COUNTY, "--dir", node_dir)
    assert (out.code, out.out.strip()) == (0, f"{COUNTY} was not blocked")
