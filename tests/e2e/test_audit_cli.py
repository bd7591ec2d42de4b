"""``ledger13710 audit`` end to end: verify, checkpoint, replay, prove, check-proof, report."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import msgspec
from test_cli import CO, HEAD, NODES, OP, SUP, Story, ok, run

from ledger13710.audit.store import open_audit_store
from ledger13710.domain.clock import ManualClock
from ledger13710.domain.types import SHANGHAI
from ledger13710.node.bootstrap import open_node
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore

ITEM = "sx-2016-0001"


def lifecycle(node_dir: Path) -> dict[str, object]:
    """Drive one item through the CLI; return ``item show --json`` recorded at each instant."""
    story = Story(node_dir)
    story.cmd("init", "node", "init", "--config", str(NODES / "sx.toml"), now="2016-10-20T09:00")
    story.cmd(
        "reg", "item", "register", "--actor", SUP, "--title", "定襄县风电法兰运输受阻",
        "--source", "executive", "--board", "daily", "--raising-unit", "sx",
        "--lead-unit", "sx/transport", "--co-unit", "sx/public-security", "--assign",
        now="2016-10-20T09:00",
    )  # fmt: skip
    shown: dict[str, object] = {}
    steps = [
        ("2016-10-20T15:00", "deploy", HEAD, ["--note", "已部署"]),
        ("2016-10-22T10:00", "feedback", OP, ["--content", "已查看收费站"]),
        ("2016-10-24T11:00", "progress", CO, ["--content", "疏导方案已定"]),
        ("2016-10-27T16:00", "resolve", HEAD, ["--content", "车道已拓宽"]),
    ]
    for now, action, actor, extra in steps:
        story.item(action, action, ITEM, *extra, actor=actor, now=now)
        later = now[:11] + "23:00"  # the same day, in the evening
        shown[later] = story.cmd(f"show-{later}", "item", "show", ITEM, now=later)
    return shown


def test_replay_as_of_equals_what_item_show_showed_then(tmp_path: Path) -> None:
    """At every recorded instant, ``audit replay --as-of`` prints what ``item show`` printed."""
    node_dir = tmp_path / "node"
    shown = lifecycle(node_dir)
    for instant, expected in shown.items():
        replayed = ok("audit", "replay", "--item", ITEM, "--as-of", instant, "--dir", str(node_dir))
        assert expected == replayed, instant


def test_verify_checkpoint_prove_and_check_proof(tmp_path: Path) -> None:
    """A fresh node verifies (exit 0); a proof checks offline; a tampered store exits 1."""
    node_dir = tmp_path / "node"
    lifecycle(node_dir)
    d = ["--dir", str(node_dir)]
    key = ok("node", "show", *d)["public_key"]
    assert ok("audit", "checkpoint", *d)["tree_size"] > 0
    verified = ok("audit", "verify", str(node_dir))
    assert (verified["ok"], verified["issues"]) == (True, [])
    proof = tmp_path / "proof.json"
    assert run("audit", "prove", "--item", ITEM, "--out", str(proof), *d).code == 0
    checked = run("audit", "check-proof", str(proof), "--public-key", key)
    assert (checked.code, checked.out[:11]) == (0, "proof holds")
    wrong = run("audit", "check-proof", str(proof), "--public-key", "11" * 32)
    assert wrong.code == 1
    html = tmp_path / "report.html"
    assert run("audit", "report", "--item", ITEM, "--out", str(html), *d).code == 0
    assert "验证通过" in html.read_text("utf-8")
    db = sqlite3.connect(node_dir / "events.sqlite")
    db.execute("UPDATE stored_events SET state = CAST('{}' AS BLOB) WHERE rowid = 5")
    db.commit()
    db.close()
    bad = run("audit", "verify", str(node_dir))
    assert bad.code == 1
    assert bad.out.splitlines()[1].startswith("first bad record 5: changed")


def test_erased_contact_keeps_verify_green(tmp_path: Path) -> None:
    """``contact erase`` after a checkpoint: the log still verifies (no personal data in it)."""
    node_dir = tmp_path / "node"
    lifecycle(node_dir)
    d = ["--dir", str(node_dir)]
    ok("audit", "checkpoint", *d)
    ok("contact", "erase", HEAD, *d)
    assert run("audit", "verify", str(node_dir)).code == 0


def test_verify_a_replica_by_origin(tmp_path: Path) -> None:
    """A parent's replicas.sqlite verifies per origin: hashes, chain and signed checkpoints."""
    node_dir = tmp_path / "node"
    lifecycle(node_dir)
    ok("audit", "checkpoint", "--dir", str(node_dir))
    node = open_node(node_dir, ManualClock(datetime(2016, 11, 1, tzinfo=SHANGHAI)))
    replicas = ReplicaStore(tmp_path / "replicas.sqlite")
    try:
        replicas.apply(read_log(node.app, "sx", 0, 1000))
        store = open_audit_store(node_dir)
        (cp,) = store.checkpoints()
        store.close()
        assert replicas.add_checkpoint(cp)[0].status == "verified"
    finally:
        replicas.close()
        node.close()
    path = str(tmp_path / "replicas.sqlite")
    result = run("audit", "verify", path, "--origin", "sx", "--json")
    report = msgspec.json.decode(result.out)
    assert (result.code, report["ok"], report["checkpoints"]) == (0, True, 1)
    assert "pinned (first use (checkpoint)" in report["unchecked"][0]
    key = node.config.node.public_key
    trusted = run("audit", "verify", path, "--origin", "sx", "--public-key", key, "--json")
    assert msgspec.json.decode(trusted.out)["unchecked"] == []
    db = sqlite3.connect(tmp_path / "replicas.sqlite")
    db.execute("UPDATE replica_events SET chain_hash = hash WHERE seq = 2")
    db.commit()
    chain = run("audit", "verify", path, "--origin", "sx", "--json")
    first = msgspec.json.decode(chain.out)["issues"][0]
    assert (chain.code, first["seq"], first["problem"]) == (1, 2, "chain broken")
    db.execute("UPDATE replica_events SET state = CAST('{}' AS BLOB) WHERE seq = 3")
    db.commit()
    db.close()
    bad = run("audit", "verify", path, "--origin", "sx", "--json")
    problems = {(i["seq"], i["problem"]) for i in msgspec.json.decode(bad.out)["issues"]}
    assert bad.code == 1
    assert (3, "changed") in problems
