"""Verify a node's log: record hashes, the chain, key rotations and signed checkpoints.

One pass over the log and the chain, merged by position. Every record's hash is recomputed
from the stored event, every chain link from the previous chain hash, and the Merkle root of
each checkpoint from the recomputed record hashes; each checkpoint's signature is checked with
the key in force at its last position. Two checkpoints whose roots both match the same log are
consistent by construction (the smaller is a prefix of the larger), so no proof is needed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from hashlib import sha256

from ledger13710.application.mapper import decode_event
from ledger13710.audit.keys import rotation_ok, signature_ok
from ledger13710.audit.parallel import MIN_PARALLEL, Run, extend, items
from ledger13710.audit.rows import JoinedRow
from ledger13710.audit.store import AuditStore, Checkpoint, SQLiteAuditStore
from ledger13710.domain.key_events import KeyRotated, keys_id
from ledger13710.log.chain import GENESIS, ChainLink, LogEntry, as_read
from ledger13710.log.merkle import CompactRange
from ledger13710.log.record import record_digest


class Problem(StrEnum):
    """What is wrong with a record or a checkpoint."""

    CHANGED = "changed"
    MISSING = "missing"
    REORDERED = "reordered"
    INSERTED = "inserted"
    CHAIN = "chain broken"
    BAD_SIGNATURE = "bad signature"
    CHECKPOINT = "checkpoint mismatch"
    UNSIGNED = "unsigned"


_ABOUT_CHECKPOINTS = frozenset({Problem.BAD_SIGNATURE, Problem.CHECKPOINT})


@dataclass(frozen=True)
class Issue:
    """One finding: the position it concerns, what is wrong, and in words."""

    seq: int
    problem: Problem
    detail: str

    def __str__(self) -> str:
        return f"record {self.seq}: {self.problem}: {self.detail}"

    def order(self) -> tuple[int, bool]:
        """Sort key: by position; at one position the record's own problem comes first."""
        return self.seq, self.problem in _ABOUT_CHECKPOINTS


@dataclass
class Report:
    """The outcome of verifying one log."""

    origin: str
    records: int = 0
    checkpoints: int = 0
    rotations: int = 0
    issues: list[Issue] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    end: int = 0  # the last position of the log
    unsigned: int = 0  # records after the last checkpoint: no signature covers them yet

    @property
    def ok(self) -> bool:
        """No issue found."""
        return not self.issues

    def strict_ok(self) -> bool:
        """No issue found, and a signature covers every record."""
        return self.ok and not self.unsigned

    @property
    def first(self) -> Issue | None:
        """The issue at the lowest position (the first bad record)."""
        return min(self.issues, key=Issue.order) if self.issues else None


class _Keys:
    """The signing key in force as the walk advances (rotations are records of the log)."""

    def __init__(self, genesis: str, anchors: Sequence[str]) -> None:
        self.anchors = [a for a in anchors if a]
        self.current = genesis
        self.history = [genesis] if genesis else []

    def rotate(self, r: KeyRotated) -> str:
        """Apply a rotation; a non-empty result says what is wrong with it."""
        if not rotation_ok(r):
            return "key rotation signatures do not verify"
        if r.old_public_key != self.current:
            return "key rotation is not signed by the key in force"
        self.current = r.new_public_key
        self.history.append(r.new_public_key)
        return ""


def _genesis_key(store: AuditStore, anchors: Sequence[str], checkpoints: list[Checkpoint]) -> str:
    rotations = store.originator_rows(keys_id(store.origin))
    if rotations:
        first: KeyRotated = decode_event(rotations[0].topic, rotations[0].state)
        return first.old_public_key
    # No rotation on record: start from the key of the first checkpoint. Whether that key is
    # trusted is checked at the end (the anchors must appear in the key history), so a log
    # re-signed with a stranger's key still fails, while a deleted rotation is reported where
    # it was deleted rather than as a bad signature on the checkpoint before it.
    known = [cp.public_key for cp in checkpoints] or [a for a in anchors if a]
    return known[0] if known else ""


def verify_log(
    store: AuditStore,
    *,
    trusted_keys: Sequence[str] = (),
    witnessed: Sequence[Checkpoint] = (),
    processes: int | None = None,
    min_parallel: int = MIN_PARALLEL,
) -> Report:
    """Verify ``store``'s log; ``trusted_keys`` anchor the signatures (the node.toml key, or
    keys an auditor got elsewhere): one of them must be in the node's key history.

    ``witnessed``: checkpoints of this log kept elsewhere (the parent verified them as they
    arrived, :mod:`ledger13710.audit.witness`); each is checked as if the store held it, so a
    log re-chained or cut short fails them even with its own checkpoint table emptied.

    A SQLite log of at least ``min_parallel`` records is scanned by ``processes`` processes
    (default: one per usable core; see :mod:`ledger13710.audit.parallel`); the report is the
    same however it is scanned."""
    origin = store.origin
    report = Report(origin)
    checkpoints = _all_checkpoints(store, witnessed)
    keys = _Keys(_genesis_key(store, trusted_keys, checkpoints), trusted_keys)
    issues = report.issues
    pending = [*checkpoints]
    compact = CompactRange()
    prev_seq, prev_hash, rotation = 0, GENESIS, KeyRotated.TOPIC
    changed: dict[int, tuple[LogEntry, ChainLink]] = {}
    next_size = pending[0].tree_size if pending else 0
    for row in _rows(store, checkpoints, processes, min_parallel):
        if isinstance(row, Run):  # intact records, already checked by the scan
            report.records, compact = report.records + row.records, extend(compact, row.blocks)
            prev_seq, prev_hash = row.last_seq, row.last_hash
            continue
        seq, e, c = row
        # Fast path: an intact record of an intact chain, not at a checkpoint or a rotation.
        if e is not None and c is not None and c.prev_seq == prev_seq and e.topic != rotation:
            leaf = _leaf(origin, seq, prev_seq, e)
            if (
                leaf == c.record_hash
                and sha256(prev_hash + leaf).digest() == c.chain_hash
                and compact.size + 1 != next_size
            ):
                compact.append(sha256(b"\x00" + leaf).digest())
                report.records += 1
                prev_seq, prev_hash = seq, c.chain_hash
                continue
        if c is None:
            issues.append(
                Issue(
                    seq,
                    Problem.INSERTED,
                    "in the log but not in the chain (written outside the node's recorder)",
                )
            )
            continue
        report.records += 1
        c = as_read(c)
        issues += _link_issues(seq, c, prev_seq, prev_hash)
        leaf = c.record_hash
        if e is None:
            issues.append(Issue(seq, Problem.MISSING, "in the chain but deleted from the log"))
        else:
            leaf = _leaf(origin, seq, c.prev_seq, e)
            if leaf != c.record_hash:
                changed[seq] = (e, c)
            elif e.topic == rotation:
                report.rotations += 1
                problem = keys.rotate(decode_event(e.topic, e.state))
                issues += [Issue(seq, Problem.BAD_SIGNATURE, problem)] if problem else []
        compact.append(sha256(b"\x00" + leaf).digest())
        prev_seq, prev_hash = c.seq, c.chain_hash
        while pending and pending[0].tree_size == compact.size:
            _check_checkpoint(pending.pop(0), compact, seq, c.chain_hash, keys.current, issues)
            report.checkpoints, next_size = (
                report.checkpoints + 1,
                pending[0].tree_size if pending else 0,
            )
    issues += _classify_changed(origin, changed)
    issues += [
        Issue(
            cp.last_seq,
            Problem.MISSING,
            f"checkpoint of {cp.tree_size} records (up to {cp.last_seq}) covers "
            f"records the log no longer has; it ends at {prev_seq}",
        )
        for cp in pending
    ]
    report.checkpoints += len(pending)  # each is reported above
    _finish(report, keys, checkpoints, prev_seq)
    report.issues.sort(key=Issue.order)
    return report


def _all_checkpoints(store: AuditStore, witnessed: Sequence[Checkpoint]) -> list[Checkpoint]:
    """The store's checkpoints and the witnessed ones, each once, by size."""
    return sorted({*store.checkpoints(), *witnessed}, key=lambda cp: (cp.tree_size, cp.signature))


def _rows(
    store: AuditStore, checkpoints: list[Checkpoint], processes: int | None, min_parallel: int
) -> Iterable[Run | JoinedRow]:
    """The joined rows; for SQLite, runs of intact records stand for most of them."""
    if not isinstance(store, SQLiteAuditStore):
        return store.joined_rows()
    sizes = [cp.tree_size for cp in checkpoints]
    # The sizes at which the walk stops to check a checkpoint (none if the smallest can never
    # be reached: then every checkpoint is left pending).
    stops = frozenset(sizes if sizes and sizes[0] >= 1 else ())
    return items(store, stops, KeyRotated.TOPIC, processes=processes, min_parallel=min_parallel)


def _leaf(origin: str, seq: int, prev_seq: int, e: LogEntry) -> bytes:
    """The record hash of ``e`` at ``seq`` linked back to ``prev_seq``."""
    return record_digest(
        origin, seq, prev_seq, e.topic, e.originator_id, e.originator_version, e.state
    )


def _link_issues(seq: int, c: ChainLink, prev_seq: int, prev_hash: bytes) -> list[Issue]:
    """Problems with a chain row's back-link and chain hash, given the row before it."""
    cprev = c.prev_seq
    if cprev.__class__ is not int:
        return [Issue(seq, Problem.CHAIN, f"back-link {cprev!r} is not a position")]
    if cprev > prev_seq:
        return [Issue(cprev, Problem.MISSING, f"record {seq} links back to {cprev}, which is gone")]
    if cprev < prev_seq:
        return [
            Issue(
                prev_seq,
                Problem.INSERTED,
                f"record {seq} links back to {cprev}: {prev_seq} was put in between",
            )
        ]
    if sha256(prev_hash + c.record_hash).digest() != c.chain_hash:
        return [
            Issue(
                seq,
                Problem.CHAIN,
                "chain hash does not follow from the previous chain hash and this record's hash",
            )
        ]
    return []


def _check_checkpoint(
    cp: Checkpoint,
    compact: CompactRange,
    seq: int,
    chain_hash: bytes,
    key: str,
    issues: list[Issue],
) -> None:
    where = f"checkpoint of {cp.tree_size} records signed {cp.timestamp}"
    if cp.public_key != key or not signature_ok(cp.public_key, cp.body(), cp.signature):
        issues.append(
            Issue(
                cp.last_seq, Problem.BAD_SIGNATURE, f"{where}: signature is not by the key in force"
            )
        )
    elif cp.root_hash != compact.root().hex() or cp.last_seq != seq:
        issues.append(
            Issue(
                cp.last_seq,
                Problem.CHECKPOINT,
                f"{where}: the log up to {seq} no longer has the signed root",
            )
        )
    elif cp.chain_hash != chain_hash.hex():
        issues.append(
            Issue(cp.last_seq, Problem.CHAIN, f"{where}: chain hash differs from the signed one")
        )


def _classify_changed(origin: str, changed: dict[int, tuple[LogEntry, ChainLink]]) -> list[Issue]:
    """A changed record whose content hashes right at another changed position was moved."""
    out = []
    for seq, (e, _) in changed.items():
        moved_from = next(
            (
                other
                for other, (_, c) in changed.items()
                if other != seq and _leaf(origin, other, c.prev_seq, e) == c.record_hash
            ),
            None,
        )
        if moved_from is None:
            out.append(Issue(seq, Problem.CHANGED, "content differs from what was written"))
        else:
            out.append(Issue(seq, Problem.REORDERED, f"holds the record written at {moved_from}"))
    return out


def _finish(report: Report, keys: _Keys, checkpoints: list[Checkpoint], end: int) -> None:
    """The log's end, what no signature covers yet, and what the signatures are anchored on."""
    report.end = end
    covered = max((cp.tree_size for cp in checkpoints), default=0)
    report.unsigned = max(0, report.records - covered)
    _check_anchors(report, keys, bool(checkpoints), end)


def _check_anchors(report: Report, keys: _Keys, signed: bool, end: int) -> None:
    if not signed and keys.anchors and report.records:
        report.issues.append(
            Issue(
                end,
                Problem.UNSIGNED,
                f"{report.records} records and no signed checkpoint, though the node's key is "
                "known: nothing proves who wrote them (checkpoints deleted, or never made: "
                "ledger13710 audit checkpoint)",
            )
        )
    elif not signed:
        report.unchecked.append(
            "no checkpoint yet: nothing is signed (ledger13710 audit "
            "checkpoint); the chain alone does not prove who wrote it"
        )
    elif report.unsigned:
        report.unchecked.append(
            f"{report.unsigned} records not yet covered by a signature (after the last "
            f"checkpoint, up to {end}): --strict fails on them"
        )
    if not keys.anchors:
        report.unchecked.append(
            "no trusted public key: signatures checked against the keys the "
            "log names, not against a key you trust"
        )
    elif keys.history and not set(keys.anchors) & set(keys.history):
        report.issues.append(
            Issue(
                end,  # a consequence of any bad rotation before, so never ahead of it
                Problem.BAD_SIGNATURE,
                "none of the trusted public keys is in the node's key history",
            )
        )
