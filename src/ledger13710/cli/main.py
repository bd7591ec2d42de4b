"""``ledger13710``: the command line of a node.

Every command takes ``--json`` for scripts. Errors a user can cause print one line to stderr
and exit 2; nothing is written by a refused command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import msgspec

from ledger13710.cli import render as show
from ledger13710.domain.errors import InputError, LedgerError
from ledger13710.domain.text import display
from ledger13710.i18n import LANG_ENV, lang_from
from ledger13710.logging import configure
from ledger13710.node.bootstrap import NOW_ENV, clock_at, init_node, open_node

if TYPE_CHECKING:
    from ledger13710.application.node import Node

DIR_ENV = "LEDGER13710_DIR"

#: The module of ``ledger13710.cli`` that adds each top-level command (``node`` and ``contact``
#: are added here). A run builds only the part of the command tree its command needs, so that
#: ``item show`` does not import the audit, NATS, Excel or SMS gateway code: a supervisor runs
#: dozens of commands a day. ``tests/unit/test_cli_groups.py`` keeps the table true.
GROUPS: dict[str, str] = {
    "item": "items",
    "reminders": "reminders",
    "audit": "audit",
    "nats": "nats",
    "points": "points",
    "cases": "cases",
    **dict.fromkeys(("views", "ledger", "tree", "stats", "timeline", "export", "import"), "views"),
}
#: Each module's function that adds its commands, in the order ``--help`` lists them.
ADDERS: dict[str, str] = {
    "items": "add_item_commands",
    "reminders": "add_reminder_commands",
    "audit": "add_audit_commands",
    "nats": "add_nats_commands",
    "views": "add_view_commands",
    "points": "add_points_commands",
    "cases": "add_case_commands",
}

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """argparse, with its one-line errors (which quote what was typed) shown safely."""

    def error(self, message: str) -> NoReturn:
        """Print usage and the error, then exit 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {display(message)}\n")


def _node(args: argparse.Namespace) -> Node:
    return open_node(Path(args.dir), args.run_clock)


def cmd_node_init(args: argparse.Namespace) -> int:
    """``node init``: create a node directory from a node TOML."""
    node_dir = init_node(Path(args.config), Path(args.dir), args.run_clock)
    if args.json:
        show.emit_json({"dir": str(node_dir), "config": args.config})
    else:
        show.out(f"node initialised in {node_dir} from {args.config}")
    return 0


def cmd_node_show(args: argparse.Namespace) -> int:
    """``node show``: what this node is and holds."""
    node = _node(args)
    try:
        app, cfg = node.app, node.config
        info = {
            "id": cfg.id,
            "name": cfg.node.name,
            "tier": cfg.node.tier.value,
            "parent": cfg.node.parent,
            "public_key": cfg.node.public_key,
            "store": cfg.store.kind,
            "policy": app.policy.version,
            "calendar": app.calendar.version,
            "units": len(app.directory.units()),
            "log_position": app.recorder.max_notification_id() or 0,
            "items": sum(1 for _ in app.item_ids()),
        }
    finally:
        node.close()
    if args.json:
        show.emit_json(info)
    else:
        for k, v in info.items():
            show.out(f"{k:>13}: {v}")
    return 0


def cmd_contact(args: argparse.Namespace) -> int:
    """``contact set-phone`` / ``contact erase``: fix or erase personal data, never events."""
    node = _node(args)
    try:
        if args.contact_cmd == "set-phone":
            node.directory_store.set_phone(args.contact, args.phone)
        else:
            node.directory_store.erase_contact(args.contact)
        contact = node.directory_store.directory().contact(args.contact)
    finally:
        node.close()
    if args.json:
        show.emit_json(contact)
    else:
        show.out(f"{contact.id}: {contact.name} {contact.phone}")
    return 0


def command_word(argv: Sequence[str]) -> str | None:
    """The top-level command ``argv`` names (``item`` in ``--log-level info item show N``)."""
    words = iter(argv)
    for word in words:
        if word == "--log-level":
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif not word.startswith("--log-level="):
            return None  # -h and the like: the whole tree
    return None


def _add_group(module: str, sub: Any, common: argparse.ArgumentParser) -> None:
    adder = getattr(importlib.import_module(f"ledger13710.cli.{module}"), ADDERS[module])
    adder(sub, common)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command tree: the whole of it, or only what the top-level ``command`` needs."""
    known = command in GROUPS or command in ("node", "contact")
    wanted = command if known else None
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", default=os.environ.get(DIR_ENV, "ledger-node"),
        help=f"node data directory (default ${DIR_ENV} or ./ledger-node)",
    )  # fmt: skip
    common.add_argument("--json", action="store_true", help="print JSON instead of tables")
    common.add_argument(
        "--lang", help=f"language of tables and messages: zh-CN (default) or en; also ${LANG_ENV}"
    )
    common.add_argument(
        "--now", help="act as if it were this time (ISO; for demos and drills), "
        f"also ${NOW_ENV}",
    )  # fmt: skip
    parser: argparse.ArgumentParser = Parser(
        prog="ledger13710", description="13710 电子督办台账 — a node of the federated ledger"
    )
    parser.add_argument(
        "--log-level", default="warning", type=str.lower,
        choices=["debug", "info", "warning", "error"], help="what the logs on stderr show",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    if wanted in (None, "node"):
        _add_node_commands(sub, common)
    for module in ADDERS:
        if wanted is None or GROUPS.get(wanted) == module:
            _add_group(module, sub, common)
    if wanted in (None, "contact"):
        _add_contact_commands(sub, common)
    return parser


def _add_node_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    from ledger13710.cli.federation import add_node_commands  # noqa: PLC0415 - see GROUPS

    node = sub.add_parser("node", help="create and inspect the node").add_subparsers(
        dest="node_cmd", required=True, metavar="ACTION"
    )
    init = node.add_parser("init", parents=[common], help="create a node directory")
    init.add_argument("--config", required=True, help="the node's TOML, e.g. nodes/sx.toml")
    init.set_defaults(handler=cmd_node_init)
    node.add_parser("show", parents=[common], help="what this node is").set_defaults(
        handler=cmd_node_show
    )
    add_node_commands(node, common)


def _add_contact_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    contact = sub.add_parser("contact", help="correct or erase contact details").add_subparsers(
        dest="contact_cmd", required=True, metavar="ACTION"
    )
    phone = contact.add_parser("set-phone", parents=[common], help="correct a phone number")
    phone.add_argument("contact", help="contact id, e.g. sx-transport-op1")
    phone.add_argument("phone", help="the corrected mobile number")
    phone.set_defaults(handler=cmd_contact)
    erase = contact.add_parser("erase", parents=[common], help="erase a person's details")
    erase.add_argument("contact", help="contact id whose name and phone are erased")
    erase.set_defaults(handler=cmd_contact)


def _flag_of(e: LedgerError) -> str:
    """The option that gives the input an error is about, as the domain names no flags."""
    field = e.field if isinstance(e, InputError) else ""
    return f" (--{field.replace('_', '-')})" if field else ""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status (0 ok, 2 user error, 70 internal error)."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_word(words))
    try:
        args = parser.parse_args(words)
    except SystemExit as e:  # --help (0) or a usage error (2), already printed
        return e.code if isinstance(e.code, int) else 2
    configure(args.log_level, json=True)
    handler: Handler = args.handler
    try:
        args.lang = lang_from(getattr(args, "lang", None), os.environ)
        if hasattr(args, "now"):  # the one place the clock is read from the command line
            fixed = (args.now, "--now") if args.now else (os.environ.get(NOW_ENV, ""), NOW_ENV)
            args.run_clock = clock_at(*fixed)
        return handler(args)
    except LedgerError as e:
        return _fail(args, e.code, "error", f"{display(str(e))}{_flag_of(e)}", 2)
    except Exception as e:
        from ledger13710.cli.errors import file_problem, store_problem  # noqa: PLC0415 - rare

        dirs = [getattr(args, "dir", None), getattr(args, "path", None)]
        from eventsourcing.persistence import PersistenceError  # noqa: PLC0415

        problem = store_problem(e, dirs) or file_problem(e)
        if problem is not None:
            return _fail(args, "store", "error", display(problem), 2)
        if isinstance(e, PersistenceError):
            return _fail(args, "store", "store error", display(str(e)), 2)
        if os.environ.get("LEDGER13710_DEBUG"):
            raise
        message = (
            f"{type(e).__name__}: {display(str(e))} "
            "(run again with LEDGER13710_DEBUG=1 for details, and report it)"
        )
        return _fail(args, "internal", "internal error", message, 70)


def _fail(args: argparse.Namespace, code: str, kind: str, message: str, status: int) -> int:
    """Report an error on stderr: one line of text, or with ``--json`` one JSON object whose
    ``code`` is stable (input, not_found, conflict, role, not_allowed_now, config, store,
    internal)."""
    if getattr(args, "json", False):
        error = {"error": {"code": code, "message": message, "exit": status}}
        sys.stderr.buffer.write(msgspec.json.encode(error) + b"\n")
    else:
        sys.stderr.write(f"ledger13710: {kind}: {message}\n")
    return status
