"""Offline-checkable proofs: an item's events are in the signed log; a log only grew.

A proof file is JSON holding a signed checkpoint and, per event, the stored bytes with their
envelope and the RFC 9162 audit path of the record hash. :func:`check_proof` needs only the
file and the node's public key.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from ledger13710.application.mapper import decode_event
from ledger13710.audit.keys import signature_ok
from ledger13710.audit.store import AuditStore, Checkpoint
from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.item import item_id
from ledger13710.log.merkle import (
    MerkleTree,
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from ledger13710.log.record import record_digest

INCLUSION = "ledger13710-inclusion-proof/v1"
CONSISTENCY = "ledger13710-consistency-proof/v1"


class EventProof(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event, its place in the log and its audit path."""

    seq: int
    prev: int
    topic: str
    originator_id: str
    version: int
    state: bytes
    leaf_index: int
    path: list[str]


class InclusionProof(msgspec.Struct, frozen=True, kw_only=True):
    """The item's events covered by ``checkpoint``; later events are listed in ``uncovered``."""

    format: str
    item: str
    checkpoint: Checkpoint
    events: list[EventProof]
    uncovered: list[int] = msgspec.field(default_factory=list)


class ConsistencyProof(msgspec.Struct, frozen=True, kw_only=True):
    """``new`` extends ``old``: RFC 9162 §2.1.4 proof between two signed checkpoints."""

    format: str
    old: Checkpoint
    new: Checkpoint
    path: list[str]


def _tree(store: AuditStore, size: int) -> tuple[MerkleTree, dict[int, tuple[int, int]]]:
    leaves: list[bytes] = []
    where: dict[int, tuple[int, int]] = {}  # seq -> (leaf index, prev)
    for seq, prev, record_hash, _ in store.chain_rows():
        if len(leaves) == size:
            break
        where[seq] = (len(leaves), prev)
        leaves.append(leaf_hash(record_hash))
    return MerkleTree(leaves), where


def _latest(store: AuditStore) -> list[Checkpoint]:
    checkpoints = store.checkpoints()
    if not checkpoints:
        raise NotFoundError(
            f"node {store.origin} has no checkpoint yet; "
            "make one with: ledger13710 audit checkpoint"
        )
    return checkpoints


def prove_item(store: AuditStore, number: str) -> InclusionProof:
    """Inclusion proofs of item ``number``'s events against the latest checkpoint."""
    checkpoint = _latest(store)[-1]
    rows = store.originator_rows(item_id(number))
    if not rows:
        raise NotFoundError(f"no item {number!r} in the log of node {store.origin}")
    tree, where = _tree(store, checkpoint.tree_size)
    events, uncovered = [], []
    for seq, topic, oid, version, state in rows:
        if seq not in where:
            uncovered.append(seq)
            continue
        index, prev = where[seq]
        path = [p.hex() for p in tree.inclusion_proof(index)]
        events.append(
            EventProof(
                seq=seq,
                prev=prev,
                topic=topic,
                originator_id=oid,
                version=version,
                state=state,
                leaf_index=index,
                path=path,
            )
        )
    return InclusionProof(
        format=INCLUSION, item=number, checkpoint=checkpoint, events=events, uncovered=uncovered
    )


def prove_consistency(store: AuditStore, old_size: int | None = None) -> ConsistencyProof:
    """The latest checkpoint extends the one of ``old_size`` records (default: the one before)."""
    checkpoints = _latest(store)
    new = checkpoints[-1]
    olds = [c for c in checkpoints[:-1] if old_size is None or c.tree_size == old_size]
    if not olds:
        sizes = ", ".join(str(c.tree_size) for c in checkpoints)
        raise NotFoundError(f"no earlier checkpoint of that size; sizes: {sizes}")
    old = olds[-1]
    tree, _ = _tree(store, new.tree_size)
    path = [p.hex() for p in tree.consistency_proof(old.tree_size)]
    return ConsistencyProof(format=CONSISTENCY, old=old, new=new, path=path)


def _check_signature(cp: Checkpoint, public_key: str) -> None:
    if cp.public_key != public_key or not signature_ok(public_key, cp.body(), cp.signature):
        raise ProofError(
            f"checkpoint of {cp.tree_size} records is not signed by key {public_key[:16]}…"
        )


def check_inclusion(proof: InclusionProof, public_key: str) -> None:
    """Raise :class:`ProofError` unless every event is in the log the checkpoint signs."""
    cp = proof.checkpoint
    _check_signature(cp, public_key)
    root = bytes.fromhex(cp.root_hash)
    for e in proof.events:
        event = decode_event(e.topic, e.state)
        if event.originator_id != item_id(proof.item) or str(event.originator_id) != (
            e.originator_id
        ):
            raise ProofError(f"the event at {e.seq} is not an event of item {proof.item}")
        digest = record_digest(
            cp.origin, e.seq, e.prev, e.topic, e.originator_id, e.version, e.state
        )
        path = [bytes.fromhex(p) for p in e.path]
        try:
            verify_inclusion(leaf_hash(digest), e.leaf_index, cp.tree_size, path, root)
        except ProofError as err:
            raise ProofError(f"event {e.seq} (v{e.version}): {err}") from None


def check_consistency(proof: ConsistencyProof, public_key: str) -> None:
    """Raise :class:`ProofError` unless ``proof.new`` extends ``proof.old``."""
    _check_signature(proof.old, public_key)
    _check_signature(proof.new, public_key)
    verify_consistency(
        proof.old.tree_size,
        proof.new.tree_size,
        bytes.fromhex(proof.old.root_hash),
        bytes.fromhex(proof.new.root_hash),
        [bytes.fromhex(p) for p in proof.path],
    )


def check_proof_file(path: Path, public_key: str) -> InclusionProof | ConsistencyProof:
    """Read and check a proof file of either kind; return it when it holds."""
    try:
        raw = path.read_bytes()
        kind = msgspec.json.decode(raw, type=dict[str, object]).get("format")
        proof: InclusionProof | ConsistencyProof
        if kind == INCLUSION:
            proof = msgspec.json.decode(raw, type=InclusionProof)
            check_inclusion(proof, public_key)
        elif kind == CONSISTENCY:
            proof = msgspec.json.decode(raw, type=ConsistencyProof)
            check_consistency(proof, public_key)
        else:
            raise InputError(f"{path}: not a ledger13710 proof file (format {kind!r})")
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from None
    except (msgspec.DecodeError, ValueError) as e:
        if isinstance(e, ProofError):
            raise
        raise InputError(f"{path}: not a valid proof file: {e}") from None
    return proof
