"""A record whose hash is right but whose payload or envelope is wrong is quarantined, not a crash.

``check_record`` names what may fail while reading a received event (the mapper's
``MapperDeserialisationError``, an envelope originator that is no UUID) instead of catching
everything; these records, each with a correctly recomputed content hash, show that what an
origin can send wrongly still ends in quarantine with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from audit_helpers import fill

from conftest import MakeNode
from ledger13710.log.record import Record, make_record
from ledger13710.replication.publisher import read_log
from ledger13710.replication.replica_store import ReplicaStore


@pytest.fixture
def first(make_node: MakeNode) -> Record:
    """The first record of a SQLite province node that has registered an item."""
    node = make_node("sqlite")
    fill(node.app, items=1)
    return read_log(node.app, node.id, 0, 1)[0]


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaStore]:
    """An empty replica store, as a parent holds it."""
    store = ReplicaStore(tmp_path / "replicas.sqlite")
    yield store
    store.close()


def remade(r: Record, **changes: object) -> Record:
    """``r`` with envelope or payload ``changes`` and its content hash recomputed to match."""
    fields = msgspec.structs.asdict(r) | changes
    envelope = ("origin", "seq", "prev", "topic", "originator_id", "originator_version", "state")
    made = make_record(*(fields[name] for name in envelope))
    return msgspec.structs.replace(made, chain=r.chain)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"state": b"\xff not json"}, "does not match its schema"),
        ({"state": b'{"originator_id": 7}'}, "does not match its schema"),
        ({"topic": "ledger13710.item.Unheard.v9"}, "unknown event topic"),
        ({"originator_id": "not-a-uuid"}, "originator differs from the envelope"),
    ],
    ids=["not-json", "wrong-schema", "unknown-topic", "envelope-id-not-a-uuid"],
)
def test_a_record_that_cannot_be_read_is_quarantined_with_its_reason(
    first: Record, replicas: ReplicaStore, changes: dict[str, object], reason: str
) -> None:
    """Each bad record is quarantined (the origin waits) and nothing is applied."""
    result = replicas.apply([remade(first, **changes)])
    assert result.applied == []
    ((bad, why),) = result.quarantined
    assert (bad.seq, reason in why) == (first.seq, True), why
