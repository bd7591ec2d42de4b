"""RFC 9162 (Certificate Transparency v2) Merkle trees over a node's record hashes.

The leaves are the raw 32-byte record hashes in log order; leaf ``i`` is the ``i``-th record
(0-based), whatever its position number. Hashes follow RFC 9162 §2.1.1: a leaf is
``SHA-256(0x00 ‖ data)``, an interior node ``SHA-256(0x01 ‖ left ‖ right)``, the empty tree
``SHA-256()``. Proofs are the audit paths of §2.1.3 and the consistency proofs of §2.1.4,
generated and verified by the algorithms of those sections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

EMPTY_ROOT = sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify (its message says why)."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``."""
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class CompactRange:
    """The root of a growing tree from O(log n) state: add leaf hashes, ask for the root."""

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # complete subtrees, largest first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (already ``leaf_hash``-ed)."""
        stack = self._stack
        size, h = 1, leaf
        while stack and stack[-1][0] == size:
            left = stack.pop()[1]
            h = sha256(b"\x01" + left + h).digest()
            size *= 2
        stack.append((size, h))
        self.size += 1

    def state(self) -> bytes:
        """The complete subtrees' hashes, largest first (with :attr:`size`, all there is)."""
        return b"".join(h for _, h in self._stack)

    @classmethod
    def restore(cls, size: int, state: bytes) -> CompactRange:
        """The range :meth:`state` described (``size`` leaves)."""
        compact = cls()
        sizes = [1 << bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
        if len(state) != 32 * len(sizes):
            raise ValueError(f"a compact range of {size} leaves has {len(sizes)} hashes")
        compact.size = size
        compact._stack = [(n, state[32 * i : 32 * i + 32]) for i, n in enumerate(sizes)]
        return compact

    def root(self) -> bytes:
        """The Merkle Tree Hash of the leaves added so far."""
        if not self._stack:
            return EMPTY_ROOT
        h = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h


class MerkleTree:
    """A tree over known leaf hashes: roots of any prefix and proofs, after one O(n) pass."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[Sequence[bytes]] = [leaves]
        level = leaves
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            self.levels.append(level)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self.levels[0])

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges a proof uses (aligned, or ending at a tree edge)."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            return self.levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self.mth(start, start + k), self.mth(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first ``size`` leaves (all by default)."""
        return self.mth(0, self.size if size is None else size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162 §2.1.3.1."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            k = _split(end - start)
            if index < start + k:
                path.append(self.mth(start + k, end))
                end = start + k
            else:
                path.append(self.mth(start, start + k))
                start += k
        path.reverse()
        return path

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """PROOF(old, D[new]) of RFC 9162 §2.1.4.1."""
        new = self.size if new is None else new
        if not 0 < old <= new <= self.size:
            raise ValueError(f"no consistency proof from size {old} to {new}")
        path: list[bytes] = []
        start, end, m, complete = 0, new, old, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                path.append(self.mth(start + k, end))
                end = start + k
            else:
                path.append(self.mth(start, start + k))
                start, m, complete = start + k, m - k, False
        if not complete:
            path.append(self.mth(start, end))
        path.reverse()
        return path


def root_of(leaves: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of ``leaves`` (leaf hashes), streaming."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises :class:`ProofError` unless ``leaf`` is at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


def _consistency_path(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> Sequence[bytes]:
    """The proof to walk (with the old root first when it is a complete subtree); empty when
    the sizes are equal and there is nothing to walk."""
    if not 0 < old <= new:
        raise ProofError(f"no consistency from size {old} to {new}")
    if old == new:
        if path or old_root != new_root:
            raise ProofError("equal sizes need equal roots and an empty proof")
        return []
    if old & (old - 1) == 0:
        path = [old_root, *path]
    if not path:
        raise ProofError("consistency proof is empty")
    return path


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises :class:`ProofError` unless tree ``new`` extends tree ``old``."""
    path = _consistency_path(old, new, old_root, new_root, path)
    if not path:
        return
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")
