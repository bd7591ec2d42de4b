"""Key rotation as a fact: the node's signing key changes, signed by the old and the new key.

A :class:`KeyRotated` event (kind ``audit``, topic ``ledger13710.audit.KeyRotated.v1``) lives in
the node's log like any other fact, so replication carries it and an auditor replays it. The
signing itself (keys on disk, Ed25519) is ``audit/keys.py``; here is only what is recorded.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid5

from ledger13710.domain.events import Fact, event
from ledger13710.domain.item import ITEM_NAMESPACE
from ledger13710.domain.types import described

#: What both keys of a rotation sign, as the schema describes it (see rotation_message).
_MESSAGE = r"'ledger13710 key rotation v1\n<node>\n<version>\n<old key>\n<new key>\n' (UTF-8)"
_KeysId = Annotated[UUID, described("the node's key history id")]
_Rotation = Annotated[int, described("the rotation's number (1, 2, …)")]


@event("KeyRotated", kind="audit")
class KeyRotated(Fact[_KeysId, _Rotation], frozen=True, kw_only=True):
    """The node's signing key changes from ``old_public_key`` to ``new_public_key``."""

    node: Annotated[str, described("the node whose key changes")]
    old_public_key: Annotated[str, described("hex Ed25519 key in force until now")]
    new_public_key: Annotated[str, described("hex Ed25519 key in force from now")]
    signature: Annotated[str, described(f"hex Ed25519 by the old key over {_MESSAGE}")]
    proof: Annotated[str, described(f"hex Ed25519 by the new key over {_MESSAGE}")]


def keys_id(node: str) -> UUID:
    """Aggregate id of a node's key history (its versions count the rotations)."""
    return uuid5(ITEM_NAMESPACE, f"audit-keys:{node}")


def rotation_message(node: str, version: int, old: str, new: str) -> bytes:
    """The bytes both keys sign for a rotation."""
    return f"ledger13710 key rotation v1\n{node}\n{version}\n{old}\n{new}\n".encode()
