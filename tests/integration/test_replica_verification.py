"""A parent verifies chain, key rotations and signed checkpoints as it ingests (no NATS).

Real records of a real node (``read_log``, as the publisher and the fetch responder send them)
are applied to a ``ReplicaStore``; forgeries are made from them as an attacker would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from audit_helpers import fill
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger13710.application.node import Node
from ledger13710.audit.checkpoints import make_checkpoint, rotate_key
from ledger13710.audit.keys import public_hex, sign
from ledger13710.audit.replica import verify_replica
from ledger13710.audit.store import Checkpoint
from ledger13710.audit.verify import Problem
from ledger13710.domain.key_events import KeyRotated, keys_id, rotation_message
from ledger13710.log.chain import GENESIS, chain_next
from ledger13710.log.record import Record, make_record
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_reads import OriginStatus
from ledger13710.replication.replica_store import ReplicaStore
from ledger13710.replication.verified import PENDING, REJECTED, VERIFIED

DEPLOYED, FORGED = "已部署".encode(), "未部署".encode()


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaStore]:
    """An empty replica store, as a parent holds it."""
    store = ReplicaStore(tmp_path / "replicas.sqlite")
    yield store
    store.close()


def records(node: Node) -> list[Record]:
    """The node's whole log as it travels upward."""
    return read_log(node.app, node.id, 0, 10_000)


def status(store: ReplicaStore, origin: str) -> OriginStatus:
    """The replica store's status row of ``origin``."""
    (found,) = (s for s in store.statuses() if s.origin == origin)
    return found


def forge(r: Record, *, relink_from: str | None = None) -> Record:
    """``r`` with its event edited and its record hash recomputed (and, given the chain hash
    before it, its chain hash too), as an insider at the origin would."""
    assert DEPLOYED in r.state
    state = r.state.replace(DEPLOYED, FORGED)
    forged = make_record(r.origin, r.seq, r.prev, r.topic, r.originator_id,
                         r.originator_version, state)  # fmt: skip
    chain = r.chain
    if relink_from is not None:
        chain = chain_next(bytes.fromhex(relink_from), bytes.fromhex(forged.hash)).hex()
    return msgspec.structs.replace(forged, chain=chain)


def relinked(log: list[Record], start: int, chain: str) -> list[Record]:
    """``log[start:]`` with every chain hash recomputed after ``chain`` (a whole new chain)."""
    out = []
    for r in log[start:]:
        chain = chain_next(bytes.fromhex(chain), bytes.fromhex(r.hash)).hex()
        out.append(msgspec.structs.replace(r, chain=chain))
    return out


def resigned(cp: Checkpoint, key: Ed25519PrivateKey, **changes: object) -> Checkpoint:
    """``cp`` (changed) signed by ``key`` instead of the origin's key."""
    unsigned = msgspec.structs.replace(cp, public_key=public_hex(key), **changes)
    return msgspec.structs.replace(unsigned, signature=sign(key, unsigned.body()))


def deployed_at(log: list[Record]) -> int:
    """Index of the first record that holds a deploy note."""
    return next(i for i, r in enumerate(log) if DEPLOYED in r.state)


def test_every_record_carries_its_chain_hash_and_continues_the_chain(
    node: Node, replicas: ReplicaStore
) -> None:
    """``read_log`` sends the origin's chain hash; the replica applies the whole log intact."""
    fill(node.app)
    log = records(node)
    chain = GENESIS
    for r in log:
        chain = chain_next(chain, bytes.fromhex(r.hash))
        assert r.chain == chain.hex()
    result = replicas.apply(log)
    assert (len(result.applied), result.quarantined) == (len(log), [])
    assert status(replicas, node.id).blocked == ""
    assert replicas.apply(log).duplicates == len(log)


def test_edited_record_with_recomputed_hash_is_quarantined_by_the_chain(
    node: Node, replicas: ReplicaStore
) -> None:
    """The content hash matches the edit, the chain link does not: quarantined, origin waits."""
    fill(node.app)
    log = records(node)
    i = deployed_at(log)
    replicas.apply(log[:i])
    result = replicas.apply([forge(log[i]), *log[i + 1 :]])
    assert result.applied == []
    ((bad, reason),) = result.quarantined
    assert (bad.seq, "chain hash" in reason) == (log[i].seq, True)
    row = status(replicas, node.id)
    assert (row.last_seq, row.quarantined) == (log[i - 1].seq, 1)
    assert row.blocked.startswith(f"record {log[i].seq}: ")
    assert replicas.apply(log[i:]).applied == []  # blocked: even the real record waits


def test_relinked_record_breaks_the_link_of_the_record_after_it(
    node: Node, replicas: ReplicaStore
) -> None:
    """An insider who also recomputes the edited record's chain hash is caught one later."""
    fill(node.app)
    log = records(node)
    i = deployed_at(log)
    replicas.apply(log[:i])
    result = replicas.apply([forge(log[i], relink_from=log[i - 1].chain), *log[i + 1 :]])
    assert [r.seq for r in result.applied] == [log[i].seq]
    ((bad, reason),) = result.quarantined
    assert (bad.seq, "does not continue the chain" in reason) == (log[i + 1].seq, True)


def test_record_without_chain_hash_is_quarantined(node: Node, replicas: ReplicaStore) -> None:
    """A record that carries no chain hash cannot be verified, so it is never applied."""
    fill(node.app, 1)
    log = records(node)
    result = replicas.apply([msgspec.structs.replace(log[0], chain="")])
    assert "no chain hash" in result.quarantined[0][1]
    assert status(replicas, node.id).blocked


def test_conflicting_duplicate_blocks_its_origin(node: Node, replicas: ReplicaStore) -> None:
    """A record that differs from the one applied at its position (a rewritten log) blocks."""
    fill(node.app)
    log = records(node)
    i = deployed_at(log)
    replicas.apply(log)
    result = replicas.apply([forge(log[i], relink_from=log[i - 1].chain)])
    assert result.quarantined[0][1] == "differs from the record already applied at this position"
    assert status(replicas, node.id).blocked.startswith(f"record {log[i].seq}: differs")


def test_conflicting_duplicate_in_the_same_batch_blocks_its_origin(
    node: Node, replicas: ReplicaStore
) -> None:
    """A record applied earlier in the same batch (its row not written yet) is compared too."""
    fill(node.app)
    log = records(node)
    i = deployed_at(log)
    result = replicas.apply([*log[: i + 1], forge(log[i], relink_from=log[i - 1].chain)])
    assert [r.seq for r in result.applied] == [r.seq for r in log[: i + 1]]
    assert result.quarantined[0][1] == "differs from the record already applied at this position"
    assert status(replicas, node.id).blocked.startswith(f"record {log[i].seq}: differs")
    assert replicas.apply([log[i]]).duplicates == 1  # the same record again is a duplicate


def test_positions_advance_with_the_rows_of_each_batch(node: Node, replicas: ReplicaStore) -> None:
    """Count, last and seen positions follow the applied rows, across batches and duplicates."""
    fill(node.app)
    log = records(node)
    half = len(log) // 2
    first = replicas.apply([*log[:half], *log[:2]])
    assert (len(first.applied), first.duplicates) == (half, 2)
    gap = replicas.apply([log[-1]])  # ahead of what is applied: seen, not applied
    assert (gap.applied, gap.gaps) == ([], {node.id: log[half - 1].seq})
    s = status(replicas, node.id)
    assert (s.count, s.last_seq, s.seen_seq) == (half, log[half - 1].seq, log[-1].seq)
    replicas.apply(log[half:])
    s = status(replicas, node.id)
    assert (s.count, s.last_seq, s.seen_seq) == (len(log), log[-1].seq, log[-1].seq)
    assert replicas.records(node.id) == [msgspec.structs.replace(r, chain="") for r in log]


def test_checkpoint_waits_for_its_records_then_verifies(node: Node, replicas: ReplicaStore) -> None:
    """A checkpoint ahead of its records is pending; applying them verifies it and pins the key."""
    fill(node.app)
    cp = make_checkpoint(node)
    assert cp is not None
    log = records(node)
    (pending,) = replicas.add_checkpoint(cp)
    assert pending.status == PENDING
    assert replicas.add_checkpoint(cp) == []  # a duplicate
    replicas.apply(log[:2])
    result = replicas.apply(log[2:])
    assert [(o.tree_size, o.status) for o in result.checkpoints] == [(len(log), VERIFIED)]
    row = status(replicas, node.id)
    assert (row.checkpoints_verified, row.verified_tree_size, row.checkpoints_pending) == (
        1, len(log), 0,
    )  # fmt: skip
    assert (row.pinned_key, row.key_source) == (
        node.config.node.public_key,
        "first use (checkpoint)",
    )
    report = verify_replica(replicas.path, node.id)
    assert (report.ok, report.checkpoints, report.records) == (True, 1, len(log))


def test_checkpoint_signed_with_another_key_is_rejected(node: Node, replicas: ReplicaStore) -> None:
    """After the first checkpoint pinned the origin's key, one re-signed by a stranger fails."""
    fill(node.app, 1)
    first = make_checkpoint(node)
    fill(node.app, 1)
    second = make_checkpoint(node)
    assert first is not None
    assert second is not None
    log = records(node)
    replicas.apply(log)
    assert replicas.add_checkpoint(first)[0].status == VERIFIED
    forged = resigned(second, Ed25519PrivateKey.generate())
    (outcome,) = replicas.add_checkpoint(forged)
    assert (outcome.status, "not by the key in force" in outcome.reason) == (REJECTED, True)
    assert status(replicas, node.id).blocked.startswith(f"checkpoint of {second.tree_size}")
    fill(node.app, 1)
    assert replicas.apply(records(node)[len(log) :]).applied == []  # the origin waits
    assert [s for _cp, s, _why in replicas.checkpoints(node.id)] == [VERIFIED, REJECTED]


def test_first_checkpoint_with_a_bad_signature_pins_nothing(
    node: Node, replicas: ReplicaStore
) -> None:
    """A checkpoint whose signature does not verify is rejected, and its key is not trusted."""
    fill(node.app, 1)
    cp = make_checkpoint(node)
    assert cp is not None
    replicas.apply(records(node))
    flipped = f"{int(cp.signature[-2:], 16) ^ 1:02x}"  # always differs from the last byte
    bad = msgspec.structs.replace(cp, signature=cp.signature[:-2] + flipped)
    assert replicas.add_checkpoint(bad)[0].reason == "signature does not verify"
    assert status(replicas, node.id).pinned_key == ""


def test_whole_log_rewritten_is_caught_by_an_earlier_checkpoint(
    node: Node, replicas: ReplicaStore
) -> None:
    """Edited record, whole chain recomputed: every link holds, the signed root does not."""
    fill(node.app)
    cp = make_checkpoint(node)
    assert cp is not None
    log = records(node)
    assert replicas.add_checkpoint(cp)[0].status == PENDING  # published before the rewrite
    i = deployed_at(log)
    head = forge(log[i], relink_from=log[i - 1].chain)
    rewritten = [*log[:i], head, *relinked(log, i + 1, head.chain)]
    result = replicas.apply(rewritten)
    assert (len(result.applied), result.quarantined) == (len(log), [])
    ((state, reason),) = [(o.status, o.reason) for o in result.checkpoints]
    assert state == REJECTED
    assert reason == "the Merkle root of the replicated records differs from the signed root"
    assert "Merkle root" in status(replicas, node.id).blocked
    assert not verify_replica(replicas.path, node.id).ok


def test_key_rotation_is_followed(node: Node, replicas: ReplicaStore) -> None:
    """Checkpoints before and after a rotation verify; the rotation's new key is pinned."""
    fill(node.app, 1)
    first = make_checkpoint(node)
    rotated = rotate_key(node)
    fill(node.app, 1)
    second = make_checkpoint(node)
    assert first is not None
    assert second is not None
    replicas.add_checkpoint(second)  # arrives first: pending until its records are here
    replicas.add_checkpoint(first)
    result = replicas.apply(records(node))
    assert sorted((o.tree_size, o.status) for o in result.checkpoints) == [
        (first.tree_size, VERIFIED), (second.tree_size, VERIFIED),
    ]  # fmt: skip
    assert status(replicas, node.id).pinned_key == rotated.new_public_key
    assert verify_replica(replicas.path, node.id, [rotated.old_public_key]).ok


def test_rotation_not_signed_by_the_pinned_key_is_quarantined(
    node: Node, replicas: ReplicaStore
) -> None:
    """A rotation written into the origin's log with strangers' keys is never applied."""
    fill(node.app, 1)
    cp = make_checkpoint(node)
    assert cp is not None
    replicas.apply(records(node))
    replicas.add_checkpoint(cp)
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    message = rotation_message(node.id, 1, public_hex(old), public_hex(new))
    stranger = KeyRotated(
        originator_id=keys_id(node.id), originator_version=1, timestamp=node.app.clock.now(),
        node=node.id, old_public_key=public_hex(old), new_public_key=public_hex(new),
        signature=sign(old, message), proof=sign(new, message),
    )  # fmt: skip
    node.app.recorder.insert_events([node.app.mapper.to_stored_event(stranger)])
    (r,) = read_log(node.app, node.id, cp.last_seq, 10)
    result = replicas.apply([r])
    assert result.quarantined[0][1].startswith("key rotation is not signed by the pinned key")
    assert status(replicas, node.id).pinned_key == node.config.node.public_key


def test_replica_file_of_an_older_version_gains_the_chain_columns(
    node: Node, tmp_path: Path
) -> None:
    """A replicas.sqlite written before chain hashes travelled keeps working, chain taken up."""
    fill(node.app)
    log = records(node)
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE replica_events (origin TEXT NOT NULL, seq INTEGER NOT NULL, prev INTEGER "
        "NOT NULL, topic TEXT NOT NULL, originator_id TEXT NOT NULL, originator_version INTEGER "
        "NOT NULL, state BLOB NOT NULL, hash TEXT NOT NULL, published_ns INTEGER NOT NULL, "
        "ingested_ns INTEGER NOT NULL, PRIMARY KEY (origin, seq)) WITHOUT ROWID;"
        "CREATE TABLE replica_positions (origin TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, "
        "count INTEGER NOT NULL, seen_seq INTEGER NOT NULL DEFAULT 0, last_ingested_ns INTEGER "
        "NOT NULL DEFAULT 0, blocked TEXT NOT NULL DEFAULT '');"
    )
    r = log[0]
    db.execute(
        "INSERT INTO replica_events VALUES (?,?,?,?,?,?,?,?,0,0)",
        (r.origin, r.seq, r.prev, r.topic, r.originator_id, r.originator_version, r.state, r.hash),
    )
    db.execute("INSERT INTO replica_positions (origin, last_seq, count) VALUES (?, ?, 1)",
               (r.origin, r.seq))  # fmt: skip
    db.commit()
    db.close()
    store = ReplicaStore(path)
    try:
        assert len(store.apply(log[1:]).applied) == len(log) - 1
        cp = make_checkpoint(node)
        assert cp is not None
        assert store.add_checkpoint(cp)[0].status == VERIFIED
    finally:
        store.close()
    report = verify_replica(path, node.id)
    assert report.ok
    assert any("1 records were replicated before chain hashes" in n for n in report.unchecked)


def test_a_replica_column_rewritten_with_another_type_is_a_finding(
    node: Node, replicas: ReplicaStore
) -> None:
    """An event turned into edited text, a record hash into non-hex: findings, not a crash."""
    fill(node.app, 2)
    replicas.apply(records(node))
    at = deployed_at(records(node))
    seq = records(node)[at].seq
    with sqlite3.connect(replicas.path) as db:  # SQLite's replace() returns TEXT
        db.execute(
            "UPDATE replica_events SET state = replace(state, ?, ?) WHERE seq = ?",
            (DEPLOYED, FORGED, seq),
        )
        db.execute("UPDATE replica_events SET hash = 'not hex' WHERE seq = ?", (seq + 1,))
    report = verify_replica(replicas.path, node.id)
    assert report.first is not None
    assert (report.first.seq, report.first.problem) == (seq, Problem.CHANGED)
    assert (seq + 1, Problem.CHAIN) in [(i.seq, i.problem) for i in report.issues]
