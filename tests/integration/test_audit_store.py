"""The chain is written with the events, and ``verify`` detects tampering, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from audit_helpers import LEAD, Tamper, fill

from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import LogTree, make_checkpoint, rotate_key
from ledger13710.audit.keys import KEY_FILE
from ledger13710.audit.proofs import (
    check_consistency,
    check_inclusion,
    prove_consistency,
    prove_item,
)
from ledger13710.audit.store import AuditStore, open_audit_store
from ledger13710.audit.verify import Problem, Report, verify_log
from ledger13710.log.chain import GENESIS
from ledger13710.log.merkle import ProofError
from ledger13710.replication.publisher import read_log


@pytest.fixture
def tamper(node: Node) -> Iterator[Tamper]:
    """SQL access to the node's store."""
    t = Tamper(node)
    yield t
    t.close()


def verify(node: Node) -> Report:
    """Verify the node's store as an auditor would, trusting its node.toml key."""
    store = open_audit_store(node.dir)
    try:
        return verify_log(store, trusted_keys=[node.config.node.public_key])
    finally:
        store.close()


def audit_store(node: Node) -> AuditStore:
    """The node's store, read-only."""
    return open_audit_store(node.dir)


def test_every_record_is_chained_with_the_hash_replication_sends(node: Node) -> None:
    """One chain row per record, same record hash as the publisher's, linked from GENESIS."""
    fill(node.app)
    records = read_log(node.app, node.id, 0, 1000)
    store = audit_store(node)
    try:
        chain = list(store.chain_rows())
    finally:
        store.close()
    assert [r.seq for r in records] == [c[0] for c in chain]
    assert [r.hash for r in records] == [c[2].hex() for c in chain]
    assert [r.prev for r in records] == [c[1] for c in chain]
    assert chain[0][3] != GENESIS
    report = verify(node)  # unsigned: the node's key is known, no checkpoint signs the log
    assert [i.problem for i in report.issues] == [Problem.UNSIGNED]
    assert make_checkpoint(node) is not None
    report = verify(node)
    assert (True, len(records)) == (report.ok, report.records)


def test_node_key_is_private_and_its_public_key_is_in_node_toml(node: Node) -> None:
    """``node init`` makes keys/node.ed25519 with mode 0600 and writes node.public_key."""
    assert (node.dir / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert len(node.config.node.public_key) == 64


def test_checkpoints_and_a_key_rotation_verify(node: Node) -> None:
    """Checkpoints before and after a rotation verify; the rotation is a record of the log."""
    fill(node.app, 2)
    first = make_checkpoint(node)
    assert make_checkpoint(node) is None  # nothing new
    rotated = rotate_key(node)
    fill(node.app, 1)
    second = make_checkpoint(node)
    assert first is not None
    assert second is not None
    assert (first.public_key, second.public_key) == (rotated.old_public_key, rotated.new_public_key)
    report = verify(node)
    assert (report.ok, report.checkpoints, report.rotations) == (True, 2, 1)


def rebuilt(node: Node, tree: LogTree | None = None) -> LogTree:
    """``tree`` (a new one when None) extended with the chain rows after what it covers."""
    tree = LogTree() if tree is None else tree
    store = audit_store(node)
    try:
        tree.extend(store)
    finally:
        store.close()
    return tree


def test_a_kept_tree_signs_what_a_rebuild_signs_reading_only_new_rows(
    node: Node, tamper: Tamper
) -> None:
    """The daemon's kept tree gives the checkpoints a rebuild gives, and what it covers is
    not read again: a chain row changed behind it does not reach the next checkpoint."""
    tree = LogTree()
    fill(node.app, 1)
    assert make_checkpoint(node, tree) is not None
    fill(node.app, 1)
    second = make_checkpoint(node, tree)
    assert second is not None
    full = rebuilt(node)
    assert (second.tree_size, second.root_hash) == (full.compact.size, full.compact.root().hex())
    assert (verify(node).ok, verify(node).checkpoints) == (True, 2)
    tamper.sql(f"UPDATE {tamper.prefix}chain SET record_hash = ? WHERE seq = 1", b"\x00" * 32)
    fill(node.app, 1)
    third = make_checkpoint(node, tree)
    assert third is not None
    assert third.root_hash == rebuilt(node, full).compact.root().hex()
    assert third.root_hash != rebuilt(node).compact.root().hex()


def test_chain_columns_rewritten_with_other_types_are_findings(node: Node, tamper: Tamper) -> None:
    """SQLite keeps any type in any column: a hash turned into text or a number, a back-link
    into text, are reported at their records (scanned in one process or in chunks alike)."""
    if node.config.store.kind != "sqlite":
        pytest.skip("PostgreSQL's typed columns refuse these values")
    fill(node.app, 4)
    make_checkpoint(node)
    tamper.sql("UPDATE chain SET record_hash = 'zz' WHERE seq = 5")
    tamper.sql("UPDATE chain SET chain_hash = 7 WHERE seq = 9")
    tamper.sql("UPDATE chain SET prev_seq = 'x' WHERE seq = 12")
    found = {(i.seq, i.problem) for i in verify(node).issues}
    assert {(5, Problem.CHAIN), (9, Problem.CHAIN), (12, Problem.CHAIN)} <= found
    assert min(found)[0] == 5
    store = audit_store(node)
    try:
        chunked = verify_log(
            store, trusted_keys=[node.config.node.public_key], processes=2, min_parallel=0
        )
    finally:
        store.close()
    assert chunked == verify(node)


@pytest.mark.parametrize(
    ("action", "expected"),
    [("change", Problem.CHANGED), ("delete", Problem.MISSING), ("swap", Problem.REORDERED),
     ("insert", Problem.INSERTED)],
)  # fmt: skip
def test_tampering_is_found_at_the_right_record(
    node: Node, tamper: Tamper, action: str, expected: Problem
) -> None:
    """A changed, deleted, swapped or inserted event is named as the first bad record."""
    fill(node.app)
    make_checkpoint(node)
    last = node.app.recorder.max_notification_id() or 0
    target = {"change": 4, "delete": 4, "swap": 4, "insert": last + 1}[action]
    if action == "swap":
        tamper.swap(4, 7)
    else:
        getattr(tamper, action)(target)
    first = verify(node).first
    assert first is not None
    assert (target, expected) == (first.seq, first.problem)


def test_a_forged_checkpoint_has_a_bad_signature(node: Node, tamper: Tamper) -> None:
    """Changing a signed root is a bad signature, named at the checkpoint's last record."""
    fill(node.app)
    cp = make_checkpoint(node)
    assert cp is not None
    tamper.sql(f"UPDATE {tamper.prefix}checkpoints SET root_hash = ?", "00" * 32)
    first = verify(node).first
    assert first is not None
    assert (cp.last_seq, Problem.BAD_SIGNATURE) == (first.seq, first.problem)


def test_erasing_a_contact_leaves_the_log_verified(node: Node) -> None:
    """Personal data is not in the chain: erasing a contact changes nothing audit sees."""
    fill(node.app)
    make_checkpoint(node)
    node.directory_store.erase_contact(LEAD)
    assert verify(node).ok


def test_item_and_consistency_proofs_check_offline(node: Node) -> None:
    """An item's proof and a growth proof hold with the node's key and fail with another."""
    number = fill(node.app, 2)[0]
    make_checkpoint(node)
    node.app.urge(number, actor="sx-general-office-sup1", message="催办")
    make_checkpoint(node)
    store = audit_store(node)
    try:
        inclusion = prove_item(store, number)
        consistency = prove_consistency(store)
    finally:
        store.close()
    key = node.config.node.public_key
    assert len(inclusion.events) == 4  # registered, assigned, deployed, urged
    check_inclusion(inclusion, key)
    check_consistency(consistency, key)
    with pytest.raises(ProofError, match="not signed by key"):
        check_inclusion(inclusion, "11" * 32)
