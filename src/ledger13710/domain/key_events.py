"""Key rotation as a fact: the node's signing key changes, signed by the old and the new key.

A :class:`KeyRotated` event (kind ``audit``, topic ``ledger13710.audit.KeyRotated.v1``) lives in
the node's log like any other fact, so replication carries it and an auditor replays it. The
signing itself (keys on disk, Ed25519) is ``audit/keys.py``; here is only what is recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID, uuid5

import msgspec

from ledger13710.domain.events import event
from ledger13710.domain.item import ITEM_NAMESPACE


@event("KeyRotated", kind="audit")
class KeyRotated(msgspec.Struct, frozen=True, kw_only=True):
    """The node's signing key changes from ``old_public_key`` to ``new_public_key``."""

    TOPIC: ClassVar[str] = ""

    originator_id: UUID
    originator_version: int
    timestamp: datetime
    node: str
    old_public_key: str
    new_public_key: str
    signature: str  # by the old key over rotation_message(...)
    proof: str  # by the new key over the same message


def keys_id(node: str) -> UUID:
    """Aggregate id of a node's key history (its versions count the rotations)."""
    return uuid5(ITEM_NAMESPACE, f"audit-keys:{node}")


def rotation_message(node: str, version: int, old: str, new: str) -> bytes:
    """The bytes both keys sign for a rotation."""
    return f"ledger13710 key rotation v1\n{node}\n{version}\n{old}\n{new}\n".encode()
