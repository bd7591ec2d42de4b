"""A verifier written from docs/record-format.md alone, as an integrator in any language would.

It imports nothing of ledger13710 (``test_record_format.py`` checks that): only ``hashlib``,
``base64`` and ``cryptography``'s Ed25519. Every function names the section of the document it
follows. Values are what travels: hex strings, the payload bytes as received, and the JSON
objects of a checkpoint message and of an inclusion proof file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

#: "The chain": the chain hash before the first record.
GENESIS = hashlib.sha256(b"ledger13710 chain genesis v1").digest()
#: "The checkpoint body": its first line.
BODY_LABEL = "ledger13710 checkpoint v1"


class NotVerified(Exception):
    """Something does not hold; the message says what."""


def record_hash(
    origin: str, seq: int, prev: int, topic: str, originator: str, version: int, payload: bytes
) -> bytes:
    """ "The record hash": SHA-256 of six UTF-8 fields, each followed by one zero byte, then
    the payload bytes as stored."""
    envelope = b"".join(
        field.encode("utf-8") + b"\x00"
        for field in (origin, str(seq), str(prev), topic, originator, str(version))
    )
    return hashlib.sha256(envelope + payload).digest()


def chain_next(previous: bytes, record: bytes) -> bytes:
    """ "The chain": SHA-256 of the previous chain hash and the record hash, raw bytes."""
    return hashlib.sha256(previous + record).digest()


def leaf(record: bytes) -> bytes:
    """ "The Merkle tree": a leaf is SHA-256(0x00 ‖ record hash)."""
    return hashlib.sha256(b"\x00" + record).digest()


def interior(left: bytes, right: bytes) -> bytes:
    """ "The Merkle tree": an interior node is SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(leaves: Sequence[bytes]) -> bytes:
    """ "The Merkle tree": MTH of RFC 9162 §2.1.1, split at the largest power of two < n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return interior(tree_root(leaves[:k]), tree_root(leaves[k:]))


def inclusion_root(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """ "Inclusion proofs": the root an audit path leads to (RFC 9162 §2.1.3.2)."""
    if not 0 <= index < size:
        raise NotVerified(f"leaf {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise NotVerified("the audit path is too long")
        if fn % 2 == 1 or fn == sn:
            r = interior(p, r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = interior(r, p)
        fn, sn = fn // 2, sn // 2
    if sn != 0:
        raise NotVerified("the audit path is too short")
    return r


def checkpoint_body(cp: Mapping[str, Any]) -> bytes:
    """ "The checkpoint body": eight lines, each ending in a newline, UTF-8."""
    lines = [BODY_LABEL] + [
        f"{name} {cp[name]}"
        for name in (
            "origin", "tree_size", "root_hash", "last_seq", "chain_hash", "timestamp", "public_key"
        )
    ]  # fmt: skip
    return "".join(line + "\n" for line in lines).encode("utf-8")


def check_signature(cp: Mapping[str, Any], public_key: str) -> None:
    """ "Verifying a checkpoint", steps 1-2: the key you trust signed this body."""
    if cp["public_key"] != public_key:
        raise NotVerified(f"checkpoint names key {cp['public_key']}, not {public_key}")
    key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    try:
        key.verify(bytes.fromhex(cp["signature"]), checkpoint_body(cp))
    except InvalidSignature:
        raise NotVerified("the signature does not verify") from None


def check_log(
    cp: Mapping[str, Any], records: Sequence[Mapping[str, str]], payloads: Sequence[bytes]
) -> None:
    """ "Verifying a checkpoint", step 3: the records (NATS headers and payloads of one origin,
    in log order, from its first) give the checkpoint's root and chain hash."""
    chain, prev, leaves = GENESIS, 0, []
    for headers, payload in zip(records, payloads, strict=True):
        seq = int(headers["L13710-Seq"])
        if int(headers["L13710-Prev"]) != prev:
            raise NotVerified(f"record {seq} does not follow record {prev}")
        digest = record_hash(
            headers["L13710-Origin"], seq, prev, headers["L13710-Topic"],
            headers["L13710-Originator"], int(headers["L13710-Version"]), payload,
        )  # fmt: skip
        if digest.hex() != headers["L13710-Hash"]:
            raise NotVerified(f"record {seq}: L13710-Hash is not the hash of the record")
        chain = chain_next(chain, digest)
        if chain.hex() != headers["L13710-Chain"]:
            raise NotVerified(f"record {seq}: L13710-Chain does not continue the chain")
        leaves.append(leaf(digest))
        prev = seq
        if len(leaves) == cp["tree_size"]:
            if seq != cp["last_seq"] or chain.hex() != cp["chain_hash"]:
                raise NotVerified("the checkpoint's last_seq or chain_hash is not the log's")
            if tree_root(leaves).hex() != cp["root_hash"]:
                raise NotVerified("the checkpoint's root_hash is not the root of the log")
            return
    raise NotVerified(f"the checkpoint covers {cp['tree_size']} records, not {len(leaves)}")


def check_inclusion_proof(proof: Mapping[str, Any], public_key: str) -> int:
    """ "Inclusion proofs": every event of the proof file is in the signed log; returns how
    many events it proves."""
    cp = proof["checkpoint"]
    check_signature(cp, public_key)
    for event in proof["events"]:
        digest = record_hash(
            cp["origin"], event["seq"], event["prev"], event["topic"], event["originator_id"],
            event["version"], base64.b64decode(event["state"]),
        )  # fmt: skip
        path = [bytes.fromhex(p) for p in event["path"]]
        root = inclusion_root(leaf(digest), event["leaf_index"], cp["tree_size"], path)
        if root.hex() != cp["root_hash"]:
            raise NotVerified(f"event {event['seq']}: the audit path does not lead to the root")
    return len(proof["events"])
