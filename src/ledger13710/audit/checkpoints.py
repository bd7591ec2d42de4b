"""Signed checkpoints of a node's log, and key rotation.

A checkpoint is an RFC 9162-style signed tree head over the record hashes in log order:
``tree_size``, ``root_hash``, the position ``last_seq`` of the last record it covers, the chain
hash there, a timestamp and the public key that signed it. Checkpoints live in the store's
``checkpoints`` table, not in the log: a checkpoint is a statement *about* the log, and as a
log record it could never cover itself, would make an idle node's log grow with every timer
tick, and would reach every reader of item events. Truncating the table only removes evidence;
what a checkpoint covers cannot be changed without its key, and phase 2 publishes every
checkpoint to the parent, where deleting it locally no longer hides anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec
from eventsourcing.persistence import IntegrityError

from ledger13710.application.mapper import decode_event
from ledger13710.audit.keys import (
    key_path,
    new_pending_key,
    promote_pending_key,
    public_hex,
    sign,
    signing_key,
)
from ledger13710.audit.store import AuditStore, Checkpoint, open_audit_store
from ledger13710.config.dump import dump_node_config
from ledger13710.domain.errors import ConflictError
from ledger13710.domain.key_events import KeyRotated, keys_id, rotation_message
from ledger13710.log.merkle import CompactRange, leaf_hash
from ledger13710.logging import get_logger

if TYPE_CHECKING:
    from ledger13710.application.node import Node

log = get_logger("ledger13710.audit")


def current_key(node: Node) -> str:
    """The node's current public key: the last rotation's new key, else ``node.public_key``."""
    rotations = node.app.recorder.select_events(keys_id(node.id), desc=True, limit=1)
    if rotations:
        last: KeyRotated = decode_event(rotations[0].topic, rotations[0].state)
        return last.new_public_key
    return node.config.node.public_key


@dataclass
class LogTree:
    """The Merkle range over a node's chain rows up to ``last_seq`` (and the chain hash there).

    The node daemon keeps one between checkpoints, so each checkpoint hashes only the records
    written since the one before (a rebuild from the first record costs a hash per record of
    the whole log, every time). It also means a row changed behind the daemon's back is never
    re-read into what it signs: the daemon signs the log as it was written.
    """

    compact: CompactRange = field(default_factory=CompactRange)
    last_seq: int = 0
    chain_hash: bytes = b""

    def extend(self, store: AuditStore, upto: int | None = None) -> None:
        """Append the chain rows after :attr:`last_seq` (up to position ``upto``)."""
        for seq, _, record_hash, chain in store.chain_rows(after=self.last_seq):
            if upto is not None and seq > upto:
                break
            self.compact.append(leaf_hash(record_hash))
            self.last_seq, self.chain_hash = seq, chain


def key_in_force(node: Node, store: AuditStore, seq: int) -> str:
    """The node's public key in force at position ``seq`` (its key history is in its log)."""
    rotations = store.originator_rows(keys_id(node.id))
    before = [r for r in rotations if r.seq <= seq]
    if before:
        last: KeyRotated = decode_event(before[-1].topic, before[-1].state)
        return last.new_public_key
    if rotations:
        first: KeyRotated = decode_event(rotations[0].topic, rotations[0].state)
        return first.old_public_key
    return node.config.node.public_key


def make_checkpoint(
    node: Node, tree: LogTree | None = None, *, upto: int | None = None
) -> Checkpoint | None:
    """Sign and store a checkpoint of the node's log now; None when nothing is new.

    ``tree`` is the range kept from the last call (brought up to date here); without it the
    tree is built from the first record. Safe to call from the node daemon's timer and from the
    CLI at the same time: the tree size is the checkpoint's key, so a second writer of the same
    checkpoint is refused.

    With ``upto`` (the publisher, after each batch) the checkpoint ends at that position, even
    below a larger checkpoint made meanwhile; None when one of that size exists, or when the key
    in force there was rotated away since (a later checkpoint covers those records).
    """
    tree = LogTree() if tree is None else tree
    store = open_audit_store(node.dir, writable=True, config=node.config)
    try:
        previous = store.checkpoints()
        tree.extend(store, upto)
        compact, last_seq, chain_hash = tree.compact, tree.last_seq, tree.chain_hash
        if compact.size == 0 or any(cp.tree_size == compact.size for cp in previous):
            return None
        if upto is None and previous and previous[-1].tree_size >= compact.size:
            return None
        public_key = current_key(node)
        if upto is not None and key_in_force(node, store, last_seq) != public_key:
            return None
        key = signing_key(key_path(node.dir, node.config.key_file_path()), public_key)
        unsigned = Checkpoint(
            origin=node.id,
            tree_size=compact.size,
            root_hash=compact.root().hex(),
            last_seq=last_seq,
            chain_hash=chain_hash.hex(),
            timestamp=node.app.clock.now().isoformat(),
            public_key=public_key,
        )
        cp = msgspec.structs.replace(unsigned, signature=sign(key, unsigned.body()))
        store.add_checkpoint(cp)
    finally:
        store.close()
    log.info("checkpoint_signed", node=node.id, tree_size=cp.tree_size, last_seq=cp.last_seq)
    return cp


def checkpoint_due(
    node: Node, now: datetime, *, every_events: int = 1000, every_seconds: float = 300.0
) -> bool:
    """Whether the daemon should call :func:`make_checkpoint`: ``every_events`` new records,
    or ``every_seconds`` since the last checkpoint with at least one new record."""
    store = open_audit_store(node.dir, config=node.config)
    try:
        checkpoints = store.checkpoints()
    finally:
        store.close()
    last = checkpoints[-1] if checkpoints else None
    position = node.app.recorder.max_notification_id() or 0
    if position <= (last.last_seq if last else 0):
        return False
    if last is None:
        return True
    new_records = position - last.last_seq  # an upper bound: positions may have holes
    age = (now - datetime.fromisoformat(last.timestamp)).total_seconds()
    return new_records >= every_events or age >= every_seconds


def rotate_key(node: Node, actor: str = "") -> KeyRotated:
    """Replace the node's signing key; the rotation is a signed ``audit`` event in its log."""
    old_public = current_key(node)
    path = key_path(node.dir, node.config.key_file_path())
    old_key = signing_key(path, old_public)
    new_key = new_pending_key(path)
    new_public = public_hex(new_key)
    iid = keys_id(node.id)
    version = len(node.app.recorder.select_events(iid)) + 1
    message = rotation_message(node.id, version, old_public, new_public)
    rotated = KeyRotated(
        originator_id=iid,
        originator_version=version,
        timestamp=node.app.clock.now(),
        node=node.id,
        old_public_key=old_public,
        new_public_key=new_public,
        signature=sign(old_key, message),
        proof=sign(new_key, message),
    )
    try:
        node.app.recorder.insert_events([node.app.mapper.to_stored_event(rotated)])
    except IntegrityError:
        raise ConflictError("the node's key was rotated by someone else just now; retry") from None
    promote_pending_key(path)
    _write_public_key(node, new_public)
    log.warning("key_rotated", node=node.id, actor=actor, version=version, key=new_public[:16])
    return rotated


def _write_public_key(node: Node, public_key: str) -> None:
    section = msgspec.structs.replace(node.config.node, public_key=public_key)
    cfg = msgspec.structs.replace(node.config, node=section)
    (node.dir / "node.toml").write_text(dump_node_config(cfg), "utf-8")
