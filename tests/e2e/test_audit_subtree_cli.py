"""``ledger13710 audit verify DIR --subtree``: one command for a node's log and its replicas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_cli import NODES, ok, run

from ledger13710.audit.checkpoints import make_checkpoint
from ledger13710.audit.store import open_audit_store
from ledger13710.audit.trust import trust
from ledger13710.config.node import load_node_configs
from ledger13710.node.bootstrap import init_node, open_node
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore

COUNTY, TOWN = "sx.xinzhou.dingxiang", "sx.xinzhou.dingxiang.jinchang"


def township_item(town_dir: Path) -> None:
    """Register, assign and deploy one of the township's own items; sign a checkpoint."""
    cfg = load_node_configs(NODES)[TOWN]
    raising = next(u for u in cfg.units if u.supervisors and "/" in u.id)
    lead = next(u for u in cfg.units if u.head and "/" in u.id and u.id != raising.id)
    node = open_node(town_dir)
    try:
        number = node.app.register(
            title="乡级事项", source="executive", board="daily", severity="general",
            raising_unit=raising.id, lead_unit=lead.id, co_units=[],
            actor=raising.supervisors[0], assign=True,
        ).number  # fmt: skip
        node.app.deploy(number, actor=lead.head, note="已部署")
        assert make_checkpoint(node) is not None
    finally:
        node.close()


def county_holding_township(tmp_path: Path) -> tuple[Path, Path]:
    """A county node holding a verified replica of a township's log, as ingest leaves it."""
    county = init_node(NODES / f"{COUNTY}.toml", tmp_path / "county")
    town = init_node(NODES / f"{TOWN}.toml", tmp_path / "town")
    township_item(town)
    node = open_node(town)
    replicas = ReplicaStore(county / "replicas.sqlite")
    try:
        trust(county, COUNTY, TOWN, node.config.node.public_key)
        assert replicas.configure_keys({TOWN: node.config.node.public_key}) == {}
        replicas.apply(read_log(node.app, TOWN, 0, 10_000))
        audit = open_audit_store(town)
        try:
            (cp,) = audit.checkpoints()
        finally:
            audit.close()
        assert replicas.add_checkpoint(cp)[0].status == "verified"
    finally:
        replicas.close()
        node.close()
    return county, town


def test_every_log_is_verified_by_one_command(tmp_path: Path) -> None:
    """The county's own log and the township's replica, each anchored on a trusted key."""
    county, _ = county_holding_township(tmp_path)
    found = ok("audit", "verify", str(county), "--subtree")
    assert found["ok"] is True
    assert [(r["origin"], r["ok"]) for r in found["logs"]] == [(COUNTY, True), (TOWN, True)]
    assert found["logs"][1]["records"] > 0
    assert not any("not on a key you gave" in n for n in found["logs"][1]["unchecked"])
    out = run("audit", "verify", str(county), "--subtree")
    assert (out.code, out.err) == (0, "")
    assert out.out.strip().endswith("2 logs verified: every log intact")


def test_an_altered_replica_fails_the_command_naming_its_origin(tmp_path: Path) -> None:
    """A record changed in the county's copy of the township's log: exit 1, the origin named."""
    county, _ = county_holding_township(tmp_path)
    with sqlite3.connect(county / "replicas.sqlite") as db:
        db.execute(
            "UPDATE replica_events SET state = replace(state, ?, ?) WHERE origin = ? AND seq = "
            "(SELECT max(seq) FROM replica_events WHERE origin = ?)",
            ("已部署".encode(), "未部署".encode(), TOWN, TOWN),
        )
    out = run("audit", "verify", str(county), "--subtree")
    assert out.code == 1, out
    assert f"{TOWN}: NOT intact" in out.out
    assert f"NOT intact: {TOWN}" in out.out.strip().splitlines()[-1]
    bad = run("audit", "verify", str(county / "replicas.sqlite"), "--subtree")
    assert (bad.code, "--subtree needs a node directory" in bad.err) == (2, True)
