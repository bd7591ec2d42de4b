"""Verified replication end to end: real node processes, a real nats-server, the real CLI.

The township signs checkpoints as it goes (every record, for the test) and publishes them
upward; the county and the province verify chain links and checkpoints as they ingest. An
insider at the township rewrites a record in its own store, chain row and all, and makes the
township send it again: both parents refuse it, the township's stream waits there, and every
other origin flows on.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from federation_helpers import COUNTY, NOW, SX, TOWN, WAIT, local_item, local_roles, wait_replicated

from ledger13710.audit.keys import public_hex, sign
from ledger13710.audit.store import Checkpoint, open_audit_store
from ledger13710.log.chain import chain_next
from ledger13710.log.record import H_KIND, H_MSG_ID, KIND_CHECKPOINT, record_digest
from ledger13710.replication.publisher import PUBLISHED
from ledger13710.replication.subjects import events_subject
from ledger13710.testing.localfed import LocalFederation

PARENTS = (COUNTY, SX)
CADENCE = ["--checkpoint-every-events", "1", "--checkpoint-check-seconds", "0.2"]


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[LocalFederation]:
    """Province, county and township, signing a checkpoint after every new record."""
    nodes = [SX, COUNTY, TOWN]
    with LocalFederation(tmp_path / "fed", nodes, clock_env=NOW, node_args=CADENCE) as federation:
        yield federation


def replica(fed: LocalFederation, node: str, origin: str) -> dict[str, Any]:
    """``node status``'s row for ``origin`` ({} while there is none)."""
    rows: list[dict[str, Any]] = fed.status(node)["replicas"]
    return next((r for r in rows if r["origin"] == origin), {})


def verified_upto(fed: LocalFederation, node: str, origin: str, size: int) -> bool:
    """``node`` verified a checkpoint of ``origin`` covering its first ``size`` records."""
    return bool(replica(fed, node, origin).get("verified_tree_size") == size)


def blocked(fed: LocalFederation, node: str, origin: str) -> bool:
    """``node`` holds ``origin`` blocked."""
    return bool(replica(fed, node, origin).get("blocked"))


def rewrite_last_record(node_dir: Path, origin: str) -> int:
    """As an insider: back-date the last event in the store, with its record hash and chain
    hash recomputed consistently; return its position."""
    db = sqlite3.connect(node_dir / "events.sqlite", isolation_level=None)
    try:
        seq, oid, version, topic, state = db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        event = json.loads(state)
        event["timestamp"] = "2016-10-19T08:00:00+08:00"
        forged = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        (prev_seq,) = db.execute("SELECT prev_seq FROM chain WHERE seq = ?", (seq,)).fetchone()
        (prev_chain,) = db.execute(
            "SELECT chain_hash FROM chain WHERE seq = ?", (prev_seq,)
        ).fetchone()
        digest = record_digest(origin, seq, prev_seq, topic, str(UUID(oid)), version, forged)
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (forged, seq))
        db.execute(
            "UPDATE chain SET record_hash = ?, chain_hash = ? WHERE seq = ?",
            (digest, chain_next(prev_chain, digest), seq),
        )
    finally:
        db.close()
    return int(seq)


def republish_from(node_dir: Path, after: int) -> None:
    """As an insider: move the publisher's cursor back so the township sends its log again."""
    db = sqlite3.connect(node_dir / "replicas.sqlite", isolation_level=None)
    try:
        db.execute("UPDATE outbound SET position = ? WHERE name = ?", (after, PUBLISHED))
    finally:
        db.close()


@pytest.mark.slow
def test_rewritten_township_record_is_refused_and_its_stream_waits(fed: LocalFederation) -> None:
    """County and province refuse the rewritten record; the township waits, others flow on."""
    town_item, county_item = local_item(fed, TOWN), local_item(fed, COUNTY)
    for node in PARENTS:
        wait_replicated(fed, node, [TOWN])
    original = fed.own_hashes(TOWN)
    for node in PARENTS:  # a checkpoint covering the whole township log reached both
        check = functools.partial(verified_upto, fed, node, TOWN, len(original))
        fed.wait_until(check, WAIT, what=f"{node} verified the township's checkpoint")
    fed.stop_node(TOWN)
    seq = rewrite_last_record(fed.node_dir(TOWN), TOWN)
    assert fed.own_hashes(TOWN)[-1] != original[-1]
    republish_from(fed.node_dir(TOWN), original[-2][0])
    head = local_roles(TOWN)[3]
    fed.cli(TOWN, "item", "feedback", town_item, "--actor", head, "--content", "按时反馈")
    fed.start_node(TOWN)
    for node in PARENTS:
        fed.wait_until(functools.partial(blocked, fed, node, TOWN), WAIT, what=f"{node} blocks")
    fed.cli(TOWN, "item", "progress", town_item, "--actor", head, "--content", "继续")
    county_head = local_roles(COUNTY)[3]
    fed.cli(COUNTY, "item", "feedback", county_item, "--actor", county_head, "--content", "县反馈")
    wait_replicated(fed, SX, [COUNTY])  # other origins flow on
    for node in PARENTS:
        row = replica(fed, node, TOWN)
        assert row["last_applied"] == seq, node  # the original record, nothing after it
        assert fed.replica_hashes(node)[TOWN] == original, node
        assert row["quarantined"] >= 1
        assert "chain" in row["blocked"] or "differs from the record" in row["blocked"]
        assert row["checkpoints_verified"] >= 1
        assert len(row["pinned_key"]) == 16
        assert '"event": "record_quarantined"' in fed.log_path(node).read_text("utf-8")
    assert len(fed.own_hashes(TOWN)) == len(original) + 2  # the township itself went on


def latest_checkpoint(fed: LocalFederation, node: str) -> Checkpoint:
    """The node's newest signed checkpoint, read from its store."""
    store = open_audit_store(fed.node_dir(node))
    try:
        return store.checkpoints()[-1]
    finally:
        store.close()


@pytest.mark.slow
def test_checkpoint_signed_by_a_stranger_is_rejected_upstream(fed: LocalFederation) -> None:
    """A checkpoint on the township's subject re-signed by another key blocks the township."""
    local_item(fed, TOWN)
    size = len(fed.own_hashes(TOWN))
    for node in PARENTS:
        check = functools.partial(verified_upto, fed, node, TOWN, size)
        fed.wait_until(check, WAIT, what=f"{node} verified the township's checkpoint")
    real = latest_checkpoint(fed, TOWN)
    key = Ed25519PrivateKey.generate()
    unsigned = msgspec.structs.replace(real, tree_size=size + 1, public_key=public_hex(key))
    forged = msgspec.structs.replace(unsigned, signature=sign(key, unsigned.body()))

    async def publish() -> None:
        nc = await fed.admin()
        try:
            headers = {H_MSG_ID: f"{TOWN}:cp:forged", H_KIND: KIND_CHECKPOINT}
            await nc.jetstream().publish(
                events_subject(TOWN), msgspec.json.encode(forged), headers=headers
            )
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(publish(), 30))  # its records are all there: checked at once
    for node in PARENTS:
        fed.wait_until(functools.partial(blocked, fed, node, TOWN), WAIT, what=f"{node} rejects")
        row = replica(fed, node, TOWN)
        assert row["blocked"].startswith(f"checkpoint of {size + 1} records")
        assert "not by the key in force" in row["blocked"]
        assert '"event": "checkpoint_rejected"' in fed.log_path(node).read_text("utf-8")
