"""The five attacks of issue 11, against real node processes, a real nats-server, the real CLI.

Each was accepted before: a forged record that fits the chain was applied upstream, a replica
cut short verified as intact, a re-chained store with its checkpoints deleted verified as
intact, an unknown descendant's records were applied, and records after the last checkpoint
went unmentioned. Each is now refused or reported.
"""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import nats
import pytest
from federation_helpers import COUNTY, NOW, SX, TOWN, WAIT, local_item, local_roles, wait_replicated

from ledger13710.log.chain import GENESIS, chain_next
from ledger13710.log.record import Record, headers_of, make_record, record_digest
from ledger13710.node.daemon import load_settings
from ledger13710.replication.subjects import events_subject, reply_prefix
from ledger13710.testing.localfed import LocalFederation, ledger_command

PARENTS = (COUNTY, SX)
FAKE = f"{COUNTY}.fakevillage"


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[LocalFederation]:
    """Province, county and township, keys exchanged as operators publish them."""
    with LocalFederation(tmp_path / "fed", [SX, COUNTY, TOWN], clock_env=NOW) as federation:
        yield federation


def verify(*args: str | Path) -> tuple[int, str]:
    """``ledger13710 audit verify ARGS``: (exit code, stdout and stderr)."""
    done = subprocess.run(
        [*ledger_command(), "audit", "verify", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def chained_log(fed: LocalFederation, node: str) -> list[Record]:
    """The node's log as its publisher sends it, chain hashes included (read from its store)."""
    db = sqlite3.connect(fed.node_dir(node) / "events.sqlite")
    try:
        chains = {
            int(s): bytes(c).hex() for s, c in db.execute("SELECT seq, chain_hash FROM chain")
        }
    finally:
        db.close()
    return [msgspec.structs.replace(r, chain=chains[r.seq]) for r in fed.own_records(node)]


def forged_after(last: Record, origin: str | None = None) -> Record:
    """A new record after ``last`` that fits its chain: the same event signed by "forger"."""
    event = json.loads(last.state)
    event["actor"] = "forger"
    event["originator_version"] = last.originator_version + 1
    state = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
    who = origin or last.origin
    r = make_record(
        who, last.seq + 1, last.seq, last.topic, last.originator_id,
        last.originator_version + 1, state,
    )  # fmt: skip
    prev_chain = bytes.fromhex(last.chain) if origin is None else GENESIS
    return msgspec.structs.replace(r, chain=chain_next(prev_chain, bytes.fromhex(r.hash)).hex())


async def _publish(fed: LocalFederation, as_node: str | None, records: list[Record]) -> None:
    if as_node is None:
        nc = await fed.admin()
    else:  # with the node's own NATS credentials
        settings = load_settings(fed.node_dir(as_node))
        nc = await nats.connect(
            settings.url, user=settings.user, password=settings.password,
            inbox_prefix=reply_prefix(as_node), allow_reconnect=False, connect_timeout=5,
        )  # fmt: skip
    try:
        for r in records:
            subject = events_subject(r.origin)
            await nc.jetstream().publish(subject, r.state, headers=headers_of(r))
    finally:
        await nc.close()


def publish(fed: LocalFederation, as_node: str | None, records: list[Record]) -> None:
    """Publish ``records`` on their origin's subject (as ``as_node``, or as admin)."""
    asyncio.run(asyncio.wait_for(_publish(fed, as_node, records), 30))


def replica_rows(fed: LocalFederation, node: str, sql: str, *params: object) -> list[Any]:
    """Rows of a query on the node's replica store."""
    db = sqlite3.connect(f"{(fed.node_dir(node) / 'replicas.sqlite').as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql, params).fetchall()
    finally:
        db.close()


def quarantined(fed: LocalFederation, node: str, origin: str) -> dict[int, str]:
    """seq -> reason of the origin's quarantined records at ``node``."""
    rows = replica_rows(fed, node, "SELECT seq, reason FROM quarantine WHERE origin = ?", origin)
    return {int(s): str(r) for s, r in rows}


@pytest.mark.slow
def test_forged_record_that_fits_the_chain_is_quarantined_and_the_real_one_flows_on(
    fed: LocalFederation,
) -> None:
    """Attack 1: a record published with the township's credentials, seq = last + 1, a right
    content hash and chain link, is held, never applied, quarantined as unsigned once the
    township's signed checkpoint picks its real record (whose message id the forgery took)."""
    number = local_item(fed, TOWN)
    for node in PARENTS:
        wait_replicated(fed, node, [TOWN])
    forged = forged_after(chained_log(fed, TOWN)[-1])
    publish(fed, TOWN, [forged])
    head = local_roles(TOWN)[3]
    fed.cli(TOWN, "item", "feedback", number, "--actor", head, "--content", "按时反馈")
    fed.cli(TOWN, "item", "progress", number, "--actor", head, "--content", "继续")
    for node in PARENTS:
        wait_replicated(fed, node, [TOWN])
        check = functools.partial(quarantined, fed, node, TOWN)
        reasons = fed.wait_until(check, WAIT, what=f"{node} quarantines the forgery")
        assert reasons[forged.seq].startswith("unsigned")
        applied = replica_rows(fed, node, "SELECT state FROM replica_events WHERE origin = ?", TOWN)
        assert not any(b"forger" in bytes(state) for (state,) in applied)
        (blocked,) = replica_rows(
            fed, node, "SELECT blocked FROM replica_positions WHERE origin = ?", TOWN
        )
        assert blocked == ("",)
    code, out = verify(fed.node_dir(SX), "--subtree")
    assert (code, out.splitlines()[-1].endswith("every log intact")) == (0, True)


@pytest.mark.slow
def test_replica_cut_short_is_not_intact(fed: LocalFederation) -> None:
    """Attack 2: the last records of an origin deleted from the province's replica store."""
    local_item(fed, TOWN)
    wait_replicated(fed, SX, [TOWN])
    fed.stop_node(SX)
    path = fed.node_dir(SX) / "replicas.sqlite"
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "DELETE FROM replica_events WHERE origin = ? AND seq > "
            "(SELECT max(seq) - 2 FROM replica_events WHERE origin = ?)",
            (TOWN, TOWN),
        )
    db.close()
    code, out = verify(fed.node_dir(SX), "--subtree")
    assert code == 1
    assert f"{TOWN}: NOT intact" in out
    assert "no longer has" in out or "cut short" in out
    with sqlite3.connect(path) as db:  # the position row too: the signed checkpoints remain
        db.execute(
            "UPDATE replica_positions SET count = count - 2, last_seq = (SELECT max(seq) FROM "
            "replica_events WHERE origin = ?) WHERE origin = ?",
            (TOWN, TOWN),
        )
    code, out = verify(path, "--origin", TOWN)
    assert (code, "covers records the log no longer has" in out) == (1, True)


def rechain(node_dir: Path, origin: str, at: int) -> None:
    """As an insider: change the event at ``at`` and recompute the chain from there on."""
    db = sqlite3.connect(node_dir / "events.sqlite", isolation_level=None)
    try:
        (state,) = db.execute("SELECT state FROM stored_events WHERE rowid = ?", (at,)).fetchone()
        db.execute(  # still valid JSON, not the bytes that were signed
            "UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(state) + b" ", at)
        )
        (prev_chain,) = db.execute(
            "SELECT chain_hash FROM chain WHERE seq < ? ORDER BY seq DESC LIMIT 1", (at,)
        ).fetchone() or (GENESIS,)
        rows = db.execute(
            "SELECT e.rowid, c.prev_seq, e.topic, e.originator_id, e.originator_version, e.state "
            "FROM stored_events e JOIN chain c ON c.seq = e.rowid WHERE e.rowid >= ? "
            "ORDER BY e.rowid",
            (at,),
        ).fetchall()
        for seq, prev, topic, oid, version, body in rows:
            digest = record_digest(origin, seq, prev, topic, str(UUID(oid)), version, body)
            prev_chain = chain_next(prev_chain, digest)
            db.execute(
                "UPDATE chain SET record_hash = ?, chain_hash = ? WHERE seq = ?",
                (digest, prev_chain, seq),
            )
        db.execute("DELETE FROM checkpoints")
    finally:
        db.close()


@pytest.mark.slow
def test_rechained_store_without_checkpoints_is_not_intact_and_its_witness_says_where(
    fed: LocalFederation,
) -> None:
    """Attack 3: an event edited, the chain recomputed from there, the checkpoints deleted:
    not intact (a key is configured, nothing signs the log); re-signed with the key in the node
    directory it looks intact alone, but not against the checkpoints the county witnessed."""
    local_item(fed, TOWN)
    wait_replicated(fed, COUNTY, [TOWN])
    fed.stop_node(TOWN)
    town = fed.node_dir(TOWN)
    rechain(town, TOWN, 2)
    code, out = verify(town)
    assert (code, "no signed checkpoint" in out) == (1, True)
    fed.cli(TOWN, "audit", "checkpoint")  # whoever holds the key file can sign anything
    assert verify(town)[0] == 0  # what a store alone cannot show
    code, out = verify(town, "--witness", fed.node_dir(COUNTY))
    assert (code, "checkpoint mismatch" in out) == (1, True)


@pytest.mark.slow
def test_records_of_an_unknown_descendant_are_refused(fed: LocalFederation) -> None:
    """Attack 4: records on the subject of a node in no directory, with no key, are refused
    and counted at ingest, never applied; the province's subtree audit says so."""
    local_item(fed, TOWN)
    wait_replicated(fed, SX, [TOWN])
    first = chained_log(fed, TOWN)[0]
    fake = make_record(FAKE, 1, 0, first.topic, first.originator_id, 1, first.state)
    fake = msgspec.structs.replace(fake, chain=chain_next(GENESIS, bytes.fromhex(fake.hash)).hex())
    publish(fed, None, [fake])
    for node in PARENTS:
        check = functools.partial(
            replica_rows, fed, node, "SELECT messages FROM replica_refused WHERE origin = ?", FAKE
        )
        fed.wait_until(check, WAIT, what=f"{node} refuses {FAKE}")
        assert replica_rows(fed, node, "SELECT 1 FROM replica_events WHERE origin = ?", FAKE) == []
        assert '"event": "origin_refused"' in fed.log_path(node).read_text("utf-8")
    code, out = verify(fed.node_dir(SX), "--subtree")
    assert code == 1
    assert f"refused at ingest: {FAKE}" in out
    assert out.splitlines()[-1].endswith(f"{FAKE} (refused)")


@pytest.mark.slow
def test_records_after_the_last_checkpoint_are_reported_and_fail_strict(
    fed: LocalFederation,
) -> None:
    """Attack 5: records written while the node does not run are covered by no signature yet:
    verify counts them, and ``--strict`` fails on them."""
    number = local_item(fed, TOWN)
    wait_replicated(fed, COUNTY, [TOWN])
    fed.stop_node(TOWN)
    head = local_roles(TOWN)[3]
    fed.cli(TOWN, "item", "feedback", number, "--actor", head, "--content", "反馈")
    code, out = verify(fed.node_dir(TOWN))
    assert (code, "records not yet covered by a signature" in out) == (0, True)
    code, out = verify(fed.node_dir(TOWN), "--strict")
    assert code == 1
