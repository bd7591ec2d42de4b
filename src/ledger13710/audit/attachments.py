"""Verify a node's evidence: every attachment its log names, against the stored bytes.

One pass over the log collects each event's attachments and every recorded erasure; then each
named file is hashed once. A file is *ok* when its bytes hash to the recorded SHA-256,
*tampered* when they do not, *missing* when they are gone with no decision to explain it, and
*erased* when an :class:`~ledger13710.domain.events.AttachmentErased` decision removed it after
the last event that named it (a file still present then is an unfinished erasure). Files in
the store that no event names are counted: a crash between storing and recording leaves them,
harmlessly. A record the log check finds undecodable is left to that check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import MapperDeserialisationError

from ledger13710.application.attachments import ATTACHMENTS_DIR, AttachmentStore, Status
from ledger13710.application.mapper import decode_event
from ledger13710.audit.replica import ReplicaAuditStore, replica_origins
from ledger13710.audit.store import AuditStore, open_audit_store
from ledger13710.domain import events as ev
from ledger13710.log.chain import as_bytes


class Found(StrEnum):
    """What verification found for one attachment an event names."""

    OK = "ok"
    ERASED = "erased"
    MISSING = "missing"
    TAMPERED = "tampered"
    NOT_ERASED = "erasure unfinished"
    NOT_YET = "not fetched yet"  # a replicated log's file still on its way up


_GOOD = frozenset({Found.OK, Found.ERASED, Found.NOT_YET})


@dataclass(frozen=True)
class Evidence:
    """One attachment named by the event at ``seq`` of item ``item``, and what was found."""

    seq: int
    item: str
    topic: str
    name: str
    media_type: str
    size: int
    sha256: str
    found: Found
    decision: str = ""

    def __str__(self) -> str:
        what = f"attachment {self.name} ({self.sha256[:12]}…) of {self.item}, record {self.seq}"
        if self.found is Found.ERASED:
            return f"{what}: erased by decision {self.decision}"
        if self.found is Found.NOT_ERASED:
            return (
                f"{what}: erased by decision {self.decision} but the bytes are still stored; "
                "run item erase-attachment again"
            )
        if self.found is Found.TAMPERED:
            return f"{what}: tampered: the stored bytes no longer hash to the recorded SHA-256"
        return f"{what}: {self.found}"


@dataclass
class EvidenceReport:
    """Every attachment a log names, as found in the node's attachment store."""

    origin: str
    evidence: list[Evidence] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every named file is intact or erased by decision."""
        return all(e.found in _GOOD for e in self.evidence)

    @property
    def problems(self) -> list[Evidence]:
        """The attachments that are missing, tampered or not fully erased, in log order."""
        return [e for e in self.evidence if e.found not in _GOOD]


def _named(store: AuditStore) -> Iterator[tuple[int, str, ev.ItemEvent]]:
    """(seq, item number, event) of every item event that names or erases an attachment."""
    numbers: dict[str, str] = {}
    for seq, topic, oid, _, state in store.log_rows():
        data = as_bytes(state)
        if topic == ev.Registered.TOPIC or b'"sha256"' in data:
            try:
                e = decode_event(topic, data)
            except MapperDeserialisationError:
                continue
            if isinstance(e, ev.Registered):
                numbers[str(UUID(str(oid)))] = e.number
            elif isinstance(e, ev.ItemEvent):
                yield seq, numbers.get(str(e.originator_id), str(e.originator_id)), e


def verify_evidence(
    store: AuditStore, files: AttachmentStore, *, replica: bool = False
) -> EvidenceReport:
    """Check every attachment ``store``'s log names against ``files``; for a ``replica`` log a
    file not here yet is on its way up (not missing), and unreferenced files are not counted."""
    named: list[tuple[int, str, str, ev.Attachment]] = []
    erased: dict[str, tuple[int, str]] = {}
    last_named: dict[str, int] = {}
    for seq, number, e in _named(store):
        if isinstance(e, ev.AttachmentErased):
            erased[e.sha256] = (seq, e.decision)
        for att in getattr(e, "attachments", ()):
            named.append((seq, number, type(e).TOPIC, att))
            last_named[att.sha256] = seq
    checked: dict[str, Status] = {}
    report = EvidenceReport(origin=store.origin)
    for seq, number, topic, att in named:
        sha = att.sha256
        if sha not in checked:
            checked[sha] = files.check(sha)
        erased_at, by = erased.get(sha, (0, ""))  # positions start at 1
        decision = ""
        if erased_at > last_named[sha]:
            decision = by
            found = Found.ERASED if checked[sha] is Status.MISSING else Found.NOT_ERASED
        elif replica and checked[sha] is Status.MISSING:
            found = Found.NOT_YET
        else:
            found = Found(checked[sha].value)
        report.evidence.append(
            Evidence(seq, number, topic, att.name, att.media_type, att.size, sha, found, decision)
        )
    if not replica:
        report.unreferenced = [sha for sha in files.stored() if sha not in last_named]
    return report


def verify_node_evidence(node_dir: Path, *, subtree: bool = False) -> list[EvidenceReport]:
    """The node's own evidence and, with ``subtree``, that of every log it holds a replica of
    (one attachment store holds them all: a file is unreferenced only if no log names it)."""
    files = AttachmentStore(node_dir / ATTACHMENTS_DIR)
    store = open_audit_store(node_dir)
    try:
        reports = [verify_evidence(store, files)]
    finally:
        store.close()
    replicas = node_dir / "replicas.sqlite"
    for origin in replica_origins(replicas) if subtree else []:
        held = ReplicaAuditStore(replicas, origin)
        try:
            reports.append(verify_evidence(held, files, replica=True))
        finally:
            held.close()
    named = {e.sha256 for r in reports for e in r.evidence}
    reports[0].unreferenced = [sha for sha in reports[0].unreferenced if sha not in named]
    return reports


__all__ = ["Evidence", "EvidenceReport", "Found", "verify_evidence", "verify_node_evidence"]
