"""``ledger13710 reminders``: the SMS outbox, and driving the reminder engine by hand.

* ``reminders`` lists the messages in the node's outbox (newest last);
* ``reminders run --once`` ticks the engine once at ``--now`` (demos, drills, cron);
  without ``--once`` it ticks every second until interrupted;
* ``reminders rebuild`` rebuilds the index of due times from the log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from ledger13710.cli import render as show
from ledger13710.cli.args import COUNT_MAX, int_in
from ledger13710.node.bootstrap import open_node
from ledger13710.node.reminders import close_engine, engine_for
from ledger13710.reminders.alerts import REMINDERS_DB, active_alerts
from ledger13710.reminders.gateways.outbox import OutboxGateway


def cmd_list(args: argparse.Namespace) -> int:
    """``reminders``: the outbox as a table (or JSON)."""
    node_dir = Path(args.dir)
    open_node(node_dir, args.run_clock).close()  # checks it is a node directory, names the fix
    outbox = OutboxGateway(node_dir / REMINDERS_DB)
    try:
        messages = outbox.messages(args.limit)
    finally:
        outbox.close()
    alerts = active_alerts(node_dir)
    if args.json:
        show.emit_json(
            {"messages": [asdict(m) for m in messages], "alerts": [asdict(a) for a in alerts]}
        )
        return 0
    table = Table(title=f"短信发件箱 outbox ({len(messages)})")
    for col in ("编号", "收件人", "手机", "入箱时间", "内容"):
        table.add_column(col, overflow="fold")
    for m in messages:
        table.add_row(m.message_id, m.contact, m.phone, show.local(m.queued_at), m.text)
    show.print_all([table])
    for alert in alerts:
        show.out(f"告警: {alert.message}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """``reminders run``: tick once (``--once``) or every second until interrupted."""
    node = open_node(Path(args.dir), args.run_clock)
    engine = engine_for(node)
    try:
        if args.once:
            report = engine.tick()
        else:
            stop = asyncio.Event()
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(engine.run(stop))
            return 0
    finally:
        close_engine(engine)
        node.close()
    if args.json:
        show.emit_json(asdict(report))
    else:
        show.out(
            f"sent {report.sent}, skipped {report.skipped}, failed {report.failed}, "
            f"cancelled {report.cancelled}, postponed {report.postponed}, "
            f"receipts {report.receipts}"
        )
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    """``reminders rebuild``: the index of due times, again from the whole log."""
    node = open_node(Path(args.dir), args.run_clock)
    engine = engine_for(node)
    try:
        read = engine.rebuild()
        waiting = engine.index.count()
    finally:
        close_engine(engine)
        node.close()
    if args.json:
        show.emit_json({"events_read": read, "waiting": waiting})
    else:
        show.out(f"index rebuilt from {read} events; {waiting} reminders waiting")
    return 0


def add_reminder_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register ``reminders`` (list), ``reminders run`` and ``reminders rebuild``."""
    rem = sub.add_parser("reminders", parents=[common], help="SMS reminders: outbox and engine")
    rem.add_argument(
        "--limit", type=int_in(1, COUNT_MAX), default=200, help="show at most this many messages"
    )
    rem.set_defaults(handler=cmd_list)
    actions = rem.add_subparsers(dest="reminders_cmd", metavar="ACTION")
    run = actions.add_parser("run", parents=[common], help="send what is due")
    run.add_argument("--once", action="store_true", help="tick once and exit")
    run.set_defaults(handler=cmd_run)
    actions.add_parser(
        "rebuild", parents=[common], help="rebuild the index of due times from the log"
    ).set_defaults(handler=cmd_rebuild)
