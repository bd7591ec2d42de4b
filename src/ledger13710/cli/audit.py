"""``ledger13710 audit …``: verify a node's log, sign checkpoints, replay, prove, report.

``audit verify`` exits 0 when the log is intact and 1 when it is not, naming the first bad
record (with ``--strict``, also when records are not yet covered by a signature);
``audit check-proof`` likewise. Errors a user can cause exit 2, as everywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

import msgspec

from ledger13710.audit.attachments import EvidenceReport, Found, verify_node_evidence
from ledger13710.audit.checkpoints import make_checkpoint, rotate_key
from ledger13710.audit.proofs import (
    InclusionProof,
    check_proof_file,
    prove_consistency,
    prove_item,
)
from ledger13710.audit.replay import replay
from ledger13710.audit.replica import refused_origins, replica_origins, verify_replica
from ledger13710.audit.report import render_report
from ledger13710.audit.store import node_config, open_audit_store
from ledger13710.audit.trust import load_trusted
from ledger13710.audit.verify import Report, verify_log
from ledger13710.audit.witness import check_acknowledged, witnessed
from ledger13710.cli import evidence as evidence_view
from ledger13710.cli import render as show
from ledger13710.cli.args import COUNT_MAX, int_in
from ledger13710.cli.screens import Names, item_panel
from ledger13710.config.boards import load_boards
from ledger13710.domain.directory import Directory
from ledger13710.domain.errors import InputError
from ledger13710.i18n import Catalog
from ledger13710.log.merkle import ProofError
from ledger13710.node.bootstrap import open_node, parse_time

FAILED = 1


def _verify_dir(node_dir: Path, keys: list[str], witness: str | None = None) -> Report:
    cfg = node_config(node_dir)
    trusted = keys or [cfg.node.public_key]
    seen = witnessed(Path(witness), cfg.id) if witness else []
    store = open_audit_store(node_dir)
    try:
        report = verify_log(store, trusted_keys=trusted, witnessed=seen)
    finally:
        store.close()
    from ledger13710.node.status import PARENT_ACK  # noqa: PLC0415 - it imports nats-py

    check_acknowledged(node_dir, PARENT_ACK, report)
    if seen:
        report.unchecked.append(
            f"checked against {len(seen)} checkpoints its parent witnessed ({witness})"
        )
    return report


def _verify_subtree(node_dir: Path, keys: list[str]) -> list[Report]:
    """The node's own log, then every descendant's log it holds a replica of (anchored on the
    keys it was configured to trust, else on the keys it pinned)."""
    if not node_dir.is_dir():
        raise InputError(f"{node_dir}: --subtree needs a node directory")
    reports = [_verify_dir(node_dir, keys)]
    replicas = node_dir / "replicas.sqlite"
    trusted = load_trusted(node_dir)
    for origin in replica_origins(replicas):
        anchor = [trusted[origin]] if origin in trusted else []
        reports.append(verify_replica(replicas, origin, anchor))
    return reports


def cmd_verify(args: argparse.Namespace) -> int:
    """``audit verify PATH``: a node directory (``--subtree``: and every replica it holds), or
    a ``replicas.sqlite`` with ``--origin``."""
    path = Path(args.path)
    if args.witness and (args.subtree or args.origin or not path.is_dir()):
        raise InputError("--witness goes with a node directory (its own log), alone")
    refused = refused_origins(path / "replicas.sqlite") if args.subtree else []
    if args.subtree:
        reports = _verify_subtree(path, args.public_key)
    elif args.origin:
        replicas = path / "replicas.sqlite" if path.is_dir() else path
        reports = [verify_replica(replicas, args.origin, args.public_key)]
    elif path.is_dir():
        reports = [_verify_dir(path, args.public_key, args.witness)]
    else:
        raise InputError(f"{path}: give a node directory, or a replicas.sqlite with --origin")
    good = [r.strict_ok() if args.strict else r.ok for r in reports]
    evidence = [] if args.origin else verify_node_evidence(path, subtree=args.subtree)
    ok = all(good) and not refused and all(e.ok for e in evidence)
    if args.json:
        found = [{**dataclasses.asdict(r), "ok": g} for r, g in zip(reports, good, strict=True)]
        refusals = [{"origin": o, "messages": n, "reason": why} for o, n, why in refused]
        out = {"ok": ok, "logs": found, "refused": refusals} if args.subtree else found[0]
        files = [{**dataclasses.asdict(e), "ok": e.ok} for e in evidence]
        if files:
            out["attachments"] = files if args.subtree else files[0]
        show.emit_json(out)
        return 0 if ok else FAILED
    for report in reports:
        _show_report(report)
    for files_report in evidence:
        _show_evidence(files_report)
    for origin, messages, why in refused:
        show.out(f"refused at ingest: {origin}: {messages} messages: {why}")
    if args.subtree:
        bad = [r.origin for r, g in zip(reports, good, strict=True) if not g]
        bad += [f"{origin} (refused)" for origin, _, _ in refused]
        verdict = f"NOT intact: {', '.join(bad)}" if bad else "every log intact"
        show.out(f"{len(reports)} logs verified: {verdict}")
    return 0 if ok else FAILED


def _show_report(report: Report) -> None:
    verdict = "intact" if report.ok else "NOT intact"
    show.out(
        f"{report.origin}: {verdict}: {report.records} records, "
        f"{report.checkpoints} checkpoints, {report.rotations} key rotations"
    )
    if report.first is not None:
        show.out(f"first bad {report.first}")
        for issue in report.issues[1:20]:
            show.out(f"  also {issue}")
    for note in report.unchecked:
        show.out(f"not checked: {note}")


def _show_evidence(report: EvidenceReport) -> None:
    erased = [e for e in report.evidence if e.found is Found.ERASED]
    verdict = "intact" if report.ok else "NOT intact"
    show.out(
        f"{report.origin}: attachments {verdict}: {len(report.evidence)} named, "
        f"{len(erased)} erased by decision, {len(report.problems)} problems, "
        f"{len(report.unreferenced)} stored files named by no event"
    )
    for e in [*report.problems, *erased]:
        show.out(f"  {e}")


def cmd_checkpoint(args: argparse.Namespace) -> int:
    """``audit checkpoint``: sign a checkpoint of the node's log now."""
    node = open_node(Path(args.dir), args.run_clock)
    try:
        cp = make_checkpoint(node)
    finally:
        node.close()
    if args.json:
        show.emit_json(msgspec.to_builtins(cp))
    elif cp is None:
        show.out("nothing new since the last checkpoint")
    else:
        show.out(f"checkpoint: {cp.tree_size} records up to {cp.last_seq}, root {cp.root_hash}")
    return 0


def cmd_rotate_key(args: argparse.Namespace) -> int:
    """``audit rotate-key``: a new signing key, recorded in the log signed by the old one."""
    node = open_node(Path(args.dir), args.run_clock)
    try:
        rotated = rotate_key(node, actor=args.actor or "")
    finally:
        node.close()
    if args.json:
        show.emit_json(msgspec.to_builtins(rotated))
    else:
        show.out(f"new public key: {rotated.new_public_key}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """``audit replay --item N --as-of T``: the item as it stood then (JSON like item show)."""
    as_of = parse_time(args.as_of, "--as-of")
    result = replay(Path(args.dir), args.item, as_of)
    data = show.item_json(result.state, as_of)
    data["events"] = [{"topic": type(e).TOPIC, **msgspec.to_builtins(e)} for e in result.events]
    named = evidence_view.from_events(result.events)  # with where the bytes are now
    data["attachments"] = evidence_view.evidence_json(Path(args.dir), named)
    if args.json:
        show.emit_json(data)
    else:
        names = Names(Catalog(args.lang), Directory([]), load_boards())  # units shown by id
        tables = evidence_view.evidence_tables(Path(args.dir), named)
        show.print_all([*item_panel(result.state, result.events, as_of, names), *tables])
    return 0


def _write(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text, "utf-8")
    else:
        sys.stdout.write(text)


def cmd_prove(args: argparse.Namespace) -> int:
    """``audit prove --item N`` / ``--consistency [SIZE]``: a proof file, checkable offline."""
    store = open_audit_store(Path(args.dir))
    try:
        proof: Any = (
            prove_item(store, args.item)
            if args.item
            else prove_consistency(store, args.from_size or None)
        )
    finally:
        store.close()
    _write(msgspec.json.format(msgspec.json.encode(proof)).decode() + "\n", args.out)
    return 0


def cmd_check_proof(args: argparse.Namespace) -> int:
    """``audit check-proof FILE --public-key HEX``: verify a proof without the store."""
    try:
        proof = check_proof_file(Path(args.file), args.public_key)
    except ProofError as e:
        show.out(f"proof does NOT hold: {e}")
        return FAILED
    if isinstance(proof, InclusionProof):
        show.out(f"proof holds: {len(proof.events)} events of {proof.item} are in the signed log")
    else:
        show.out(f"proof holds: the log of {proof.new.tree_size} extends {proof.old.tree_size}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``audit report --item N | --unit U``: an HTML report with the verification result."""
    node_dir = Path(args.dir)
    report, (evidence,) = _verify_dir(node_dir, []), verify_node_evidence(node_dir)
    node = open_node(node_dir, args.run_clock)
    store = open_audit_store(node_dir)
    try:
        now = node.app.clock.now()
        if args.item:
            items = [node.app.item(args.item)]
        else:
            items = [i for i in node.app.items() if args.unit in (i.lead_unit, *i.co_units)]
        title = f"审计报告 audit report: {args.item or args.unit}"
        html = render_report(title, report, store, items, now, evidence)
    finally:
        store.close()
        node.close()
    _write(html, args.out)
    return 0 if report.ok and evidence.ok else FAILED


def add_audit_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register ``audit`` and its actions."""
    audit = sub.add_parser(
        "audit", help="tamper evidence: verify, checkpoints, proofs"
    ).add_subparsers(dest="audit_cmd", required=True, metavar="ACTION")
    p = audit.add_parser("verify", parents=[common], help="verify a node's log (exit 1 if not)")
    p.add_argument("path", help="node directory, or a replicas.sqlite (with --origin)")
    p.add_argument("--origin", help="verify this origin's replicated log in replicas.sqlite")
    p.add_argument(
        "--subtree", action="store_true",
        help="a node directory: its own log and every descendant's log it holds a replica of",
    )  # fmt: skip
    p.add_argument("--public-key", action="append", default=[], help="trusted key (hex)")
    p.add_argument(
        "--witness", metavar="PARENT_DIR",
        help="also check the log against the checkpoints its parent verified (parent's node dir)",
    )  # fmt: skip
    p.add_argument(
        "--strict", action="store_true",
        help="fail when records are not yet covered by a signature (after the last checkpoint)",
    )  # fmt: skip
    p.set_defaults(handler=cmd_verify)
    audit.add_parser("checkpoint", parents=[common], help="sign a checkpoint now").set_defaults(
        handler=cmd_checkpoint
    )
    p = audit.add_parser("rotate-key", parents=[common], help="replace the node's signing key")
    p.add_argument("--actor", help="contact id of who rotates (logged)")
    p.set_defaults(handler=cmd_rotate_key)
    p = audit.add_parser("replay", parents=[common], help="an item as it stood at a time")
    p.add_argument("--item", required=True, help="item number")
    p.add_argument("--as-of", required=True, help="ISO time, e.g. 2016-10-21T12:00")
    p.set_defaults(handler=cmd_replay)
    p = audit.add_parser("prove", parents=[common], help="inclusion or consistency proof (JSON)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--item", help="prove this item's events are in the signed log")
    which.add_argument("--consistency", action="store_true", help="latest extends an earlier")
    p.add_argument(
        "--from-size", type=int_in(0, COUNT_MAX), help="the earlier checkpoint's tree size"
    )
    p.add_argument("--out", help="write here instead of stdout")
    p.set_defaults(handler=cmd_prove)
    p = audit.add_parser("check-proof", parents=[common], help="check a proof file offline")
    p.add_argument("file", help="a proof written by `audit prove`")
    p.add_argument("--public-key", required=True, help="the node's public key (hex)")
    p.set_defaults(handler=cmd_check_proof)
    p = audit.add_parser("report", parents=[common], help="HTML report for an item or unit")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--item", help="item number")
    which.add_argument("--unit", help="unit id: items it leads or co-handles")
    p.add_argument("--out", help="write here instead of stdout")
    p.set_defaults(handler=cmd_report)
