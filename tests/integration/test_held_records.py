"""A parent holds what arrives until a checkpoint signed by the origin covers it (no NATS).

Real records and checkpoints of a real node (``read_log``, ``make_checkpoint``: what its
publisher sends) go through ``ReplicaStore.receive``, as the ingester passes them on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from audit_helpers import fill
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint, rotate_key
from ledger13710.audit.keys import public_hex, sign
from ledger13710.audit.store import Checkpoint
from ledger13710.log.chain import chain_next
from ledger13710.log.record import Record, make_record
from ledger13710.replication.held import UNSIGNED
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.verified import PENDING, REJECTED, VERIFIED


@pytest.fixture
def replicas(tmp_path: Path, node: Node) -> Iterator[ReplicaStore]:
    """A parent's replica store, configured with the node's published key."""
    store = ReplicaStore(tmp_path / "replicas.sqlite")
    assert store.configure_keys({node.id: node.config.node.public_key}) == {}
    yield store
    store.close()


def signed(node: Node) -> Checkpoint:
    """The node's checkpoint of its whole log, signed now."""
    cp = make_checkpoint(node)
    assert cp is not None
    return cp


def fitting_forgery(last: Record) -> Record:
    """A record after ``last`` that fits its chain (the chain is public), by "forger"."""
    event = json.loads(last.state)
    event["actor"] = "forger"
    event["originator_version"] = last.originator_version + 1
    state = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    r = make_record(last.origin, last.seq + 1, last.seq, last.topic, last.originator_id,
                    last.originator_version + 1, state)  # fmt: skip
    link = chain_next(bytes.fromhex(last.chain), bytes.fromhex(r.hash))
    return msgspec.structs.replace(r, chain=link.hex())


def test_records_wait_for_the_signature_that_covers_them(
    node: Node, replicas: ReplicaStore
) -> None:
    """Received records are held, not applied; the checkpoint after them applies them all."""
    fill(node.app)
    log = read_log(node.app, node.id, 0, 1000)
    held = replicas.receive(log)
    assert (held.applied, held.held) == ([], len(log))
    assert replicas.last_seq(node.id) == 0
    assert replicas.frontier(node.id) == log[-1].seq
    done = replicas.receive([], [signed(node)])
    assert [r.seq for r in done.applied] == [r.seq for r in log]
    assert [o.status for o in done.checkpoints] == [PENDING, VERIFIED]  # received, then checked
    assert replicas.receive(log).duplicates == len(log)


def test_a_forgery_that_fits_the_chain_is_quarantined_and_the_real_record_applied(
    node: Node, replicas: ReplicaStore
) -> None:
    """Forgery first, then the real record at the same position: the signature picks the real
    one, the forgery is quarantined as unsigned, and the origin is not blocked."""
    fill(node.app)
    first = read_log(node.app, node.id, 0, 1000)
    replicas.receive(first, [signed(node)])
    forged = fitting_forgery(first[-1])
    assert replicas.receive([forged]).held == 1
    fill(node.app, 1)
    rest = read_log(node.app, node.id, first[-1].seq, 1000)
    result = replicas.receive(rest, [signed(node)])
    assert [r.seq for r in result.applied] == [r.seq for r in rest]
    assert result.quarantined == [(forged, UNSIGNED)]
    (status,) = replicas.statuses()
    assert (status.blocked, status.last_seq) == ("", rest[-1].seq)


def test_a_forgery_after_the_signed_record_is_quarantined_not_blocking(
    node: Node, replicas: ReplicaStore
) -> None:
    """A forgery at a position already applied differs from the signed record there."""
    fill(node.app, 1)
    log = read_log(node.app, node.id, 0, 1000)
    replicas.receive(log, [signed(node)])
    forged = fitting_forgery(log[-2])
    ((_, reason),) = replicas.receive([forged]).quarantined
    assert reason.startswith("unsigned: differs")
    assert replicas.statuses()[0].blocked == ""


def test_a_rotation_among_the_held_records_is_followed(node: Node, replicas: ReplicaStore) -> None:
    """A checkpoint signed by the new key releases held records with the rotation among them."""
    fill(node.app, 1)
    rotated = rotate_key(node)
    fill(node.app, 1)
    log = read_log(node.app, node.id, 0, 1000)
    cp = signed(node)
    assert cp.public_key == rotated.new_public_key
    result = replicas.receive(log, [cp])
    assert len(result.applied) == len(log)
    assert result.checkpoints[-1].status == VERIFIED
    assert replicas.statuses()[0].pinned_key == rotated.new_public_key


def test_a_checkpoint_signed_by_a_stranger_releases_nothing(
    node: Node, replicas: ReplicaStore
) -> None:
    """Held records stay held when the checkpoint's key is not the origin's."""
    fill(node.app, 1)
    log = read_log(node.app, node.id, 0, 1000)
    stranger = Ed25519PrivateKey.generate()
    unsigned = msgspec.structs.replace(signed(node), public_key=public_hex(stranger))
    forged = msgspec.structs.replace(unsigned, signature=sign(stranger, unsigned.body()))
    result = replicas.receive(log, [forged])
    assert result.applied == []
    assert [o.status for o in result.checkpoints if o.status == REJECTED] == [REJECTED]


def test_a_missing_predecessor_is_fetched_from_the_last_signed_position(
    node: Node, replicas: ReplicaStore
) -> None:
    """A record whose predecessor is not held is a gap, to be fetched after what is signed."""
    fill(node.app)
    log = read_log(node.app, node.id, 0, 1000)
    result = replicas.receive([log[0], log[2]])
    assert (result.held, result.gaps) == (1, {node.id: 0})
