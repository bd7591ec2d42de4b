"""``ledger13710 node run|status|trust|unblock``: the federation side of a node."""

from __future__ import annotations

import argparse
from pathlib import Path

from ledger13710.audit.trust import trust
from ledger13710.cli import render as show
from ledger13710.cli.args import COUNT_MAX, int_in
from ledger13710.domain.errors import InputError
from ledger13710.node.bootstrap import open_node
from ledger13710.node.status import node_status
from ledger13710.replication.replica_store import ReplicaStore


def cmd_node_run(args: argparse.Namespace) -> int:
    """``node run``: replicate upward, ingest the subtree, serve the inbox, until stopped."""
    from ledger13710.node.daemon import run_node  # noqa: PLC0415 - nats-py only where it runs

    return run_node(
        Path(args.dir), args.run_clock, args.nats,
        checkpoint_every_events=args.checkpoint_every_events,
        checkpoint_every_seconds=args.checkpoint_every_seconds,
        checkpoint_check_seconds=args.checkpoint_check_seconds,
    )  # fmt: skip


def cmd_node_status(args: argparse.Namespace) -> int:
    """``node status``: replication lag per origin."""
    node = open_node(Path(args.dir), args.run_clock)
    store = ReplicaStore(node.dir / "replicas.sqlite")
    try:
        status = node_status(node, store)
    finally:
        store.close()
        node.close()
    if args.json:
        show.emit_json(status)
        return 0
    own = status.own
    age = "—" if own.oldest_unreplicated_age_s is None else f"{own.oldest_unreplicated_age_s:.1f}s"
    show.out(
        f"{own.origin} (own log): local {own.last_local}, published {own.last_published}, "
        f"acknowledged by parent {own.last_acked_by_parent}, backlog {own.backlog}, "
        f"oldest unreplicated {age}"
    )
    for alert in status.alerts:
        show.out(f"  ALERT: {alert}")
    for r in status.replicas:
        flag = f"  BLOCKED: {r.blocked}" if r.blocked else ""
        q = f"  quarantined {r.quarantined}" if r.quarantined else ""
        cps = f", checkpoints verified {r.checkpoints_verified} (tree {r.verified_tree_size})"
        key = f", key {r.pinned_key}… ({r.key_source})" if r.pinned_key else ""
        show.out(
            f"  {r.origin}: applied {r.last_applied} ({r.records} records), seen {r.seen}"
            f"{cps}{key}{q}{flag}"
        )
    return 0


def cmd_node_trust(args: argparse.Namespace) -> int:
    """``node trust``: configure the public key of a descendant's log."""
    node = open_node(Path(args.dir), args.run_clock)
    try:
        keys = trust(node.dir, node.id, args.origin, args.key)
        store = ReplicaStore(node.dir / "replicas.sqlite")
        try:
            conflicts = store.configure_keys({args.origin: keys[args.origin]})
        finally:
            store.close()
    finally:
        node.close()
    if args.json:
        show.emit_json({"origin": args.origin, "key": keys[args.origin], "conflict": conflicts})
    else:
        show.out(f"{node.id} trusts {keys[args.origin][:16]}… for the log of {args.origin}")
        for origin, problem in conflicts.items():
            show.out(f"  BLOCKED {origin}: {problem}")
    return 1 if conflicts else 0


def cmd_node_unblock(args: argparse.Namespace) -> int:
    """``node unblock``: let a blocked origin's stream flow again."""
    node = open_node(Path(args.dir), args.run_clock)
    store = ReplicaStore(node.dir / "replicas.sqlite")
    try:
        blocked = {s.origin: s.blocked for s in store.statuses()}
        if args.origin not in blocked:
            raise InputError(
                f"{node.id} holds no replica of {args.origin!r}; it has: "
                f"{', '.join(sorted(blocked)) or 'none yet'}"
            )
        store.unblock(args.origin)
    finally:
        store.close()
        node.close()
    was = blocked[args.origin]
    if args.json:
        show.emit_json({"origin": args.origin, "was_blocked": was})
    elif was:
        show.out(f"{args.origin} unblocked (was: {was}); its records are fetched again")
    else:
        show.out(f"{args.origin} was not blocked")
    return 0


def add_node_commands(
    node: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Add ``node run``, ``status``, ``trust`` and ``unblock``."""
    run = node.add_parser("run", parents=[common], help="run the node's federation process")
    run.add_argument("--nats", help="NATS server URL (default: from nats.json in the node dir)")
    run.add_argument(
        "--checkpoint-every-events", type=int_in(1, COUNT_MAX), default=1000, metavar="N",
        help="sign a checkpoint after N new records (default 1000)",
    )  # fmt: skip
    run.add_argument(
        "--checkpoint-every-seconds", type=float, default=300.0, metavar="S",
        help="or S seconds after the last one, if anything is new (default 300)",
    )  # fmt: skip
    run.add_argument(
        "--checkpoint-check-seconds", type=float, default=5.0, metavar="S",
        help="how often to check whether a checkpoint is due (default 5)",
    )  # fmt: skip
    run.set_defaults(handler=cmd_node_run)
    node.add_parser("status", parents=[common], help="replication lag per origin").set_defaults(
        handler=cmd_node_status
    )
    trusted = node.add_parser(
        "trust", parents=[common], help="trust a public key for a descendant's log"
    )
    trusted.add_argument("origin", help="the descendant node, e.g. sx.xinzhou.dingxiang")
    trusted.add_argument(
        "key", help="its first Ed25519 public key, hex (the key it was initialised with)"
    )
    trusted.set_defaults(handler=cmd_node_trust)
    unblock = node.add_parser(
        "unblock", parents=[common], help="let a blocked origin's records flow again"
    )
    unblock.add_argument("origin", help="the descendant node whose stream waits")
    unblock.set_defaults(handler=cmd_node_unblock)
