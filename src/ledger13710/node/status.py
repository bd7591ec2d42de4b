"""``ledger13710 node status``: replication lag, visible per origin.

For the node's own log: last local position, last published, last acknowledged by the parent,
backlog and the age of the oldest event not yet published. For every descendant origin this
node ingests: last position applied, records held, its signed checkpoints verified (and the
largest), the signing key pinned for it, and whether it is blocked (why: a quarantined record,
a rejected checkpoint). Its first alert says when no ``node run`` is running, or when it waits
for a nats-server or for the streams.
"""

from __future__ import annotations

import time
from datetime import datetime

import msgspec

from ledger13710.application.mapper import decode_event
from ledger13710.application.node import Node
from ledger13710.node.health import daemon_alert
from ledger13710.reminders.alerts import active_alerts
from ledger13710.replication.publisher import PUBLISHED
from ledger13710.replication.replica_store import ReplicaStore

PARENT_ACK = "parent_ack"


class OwnLog(msgspec.Struct, frozen=True, kw_only=True):
    """Replication of the node's own log."""

    origin: str
    last_local: int
    last_published: int
    last_acked_by_parent: int
    backlog: int
    oldest_unreplicated_age_s: float | None


class Replica(msgspec.Struct, frozen=True, kw_only=True):
    """A descendant's log as this node holds it."""

    origin: str
    last_applied: int
    records: int
    seen: int
    last_ingested_age_s: float | None
    blocked: str
    quarantined: int
    checkpoints_verified: int = 0
    verified_tree_size: int = 0
    checkpoints_pending: int = 0
    pinned_key: str = ""  # its first 16 hex digits
    key_source: str = ""  # "configured" (trusted_keys.json) or "first use (…)"


class Status(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``node status`` shows."""

    node: str
    own: OwnLog
    replicas: list[Replica]
    alerts: list[str] = msgspec.field(default_factory=list)


def node_status(node: Node, store: ReplicaStore) -> Status:
    """Read the node's replication status from its stores (works with the node running)."""
    app = node.app
    last_local = app.recorder.max_notification_id() or 0
    published = store.get_position(PUBLISHED)[0]
    acked = store.get_position(PARENT_ACK)[0]
    pending = app.recorder.select_notifications(start=published + 1, limit=1)
    age = None
    if pending:
        first = decode_event(pending[0].topic, pending[0].state)
        stamp: datetime = first.timestamp
        age = max(0.0, time.time() - stamp.timestamp())
    now_ns = time.time_ns()
    replicas = [
        Replica(
            origin=s.origin,
            last_applied=s.last_seq,
            records=s.count,
            seen=s.seen_seq,
            last_ingested_age_s=(now_ns - s.last_ingested_ns) / 1e9 if s.last_ingested_ns else None,
            blocked=s.blocked,
            quarantined=s.quarantined,
            checkpoints_verified=s.checkpoints_verified,
            verified_tree_size=s.verified_tree_size,
            checkpoints_pending=s.checkpoints_pending,
            pinned_key=s.pinned_key[:16],
            key_source=s.key_source,
        )
        for s in store.statuses()
    ]
    own = OwnLog(
        origin=node.id,
        last_local=last_local,
        last_published=published,
        last_acked_by_parent=acked,
        backlog=max(0, last_local - published),  # positions (PostgreSQL may skip some)
        oldest_unreplicated_age_s=age,
    )
    daemon = daemon_alert(node.dir)
    alerts = [*([daemon] if daemon else []), *(a.message for a in active_alerts(node.dir))]
    return Status(node=node.id, own=own, replicas=replicas, alerts=alerts)
