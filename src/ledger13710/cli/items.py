"""``ledger13710 item …``: the lifecycle commands of one item."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from ledger13710.application.ledger import LedgerApp
from ledger13710.cli import evidence
from ledger13710.cli import render as show
from ledger13710.cli.args import actor_of, add_actor, int_in
from ledger13710.cli.screens import Names, item_panel
from ledger13710.domain.errors import InputError
from ledger13710.domain.lifecycle import Action
from ledger13710.domain.policy import end_of_day
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import Severity, Source
from ledger13710.i18n import Catalog
from ledger13710.node.bootstrap import open_node, parse_time

Command = Callable[[LedgerApp, argparse.Namespace], ItemState]


def _run(command: Command, args: argparse.Namespace) -> int:
    node = open_node(Path(args.dir), args.run_clock)
    try:
        actor_of(args)
        item = command(node.app, args)
        now = node.app.clock.now()
    finally:
        node.close()
    if args.json:
        show.emit_json(show.item_json(item, now))
    else:
        cat = Catalog(args.lang)
        show.out(cat.ui("moved", number=item.number, state=cat.name("state", item.state)))
    return 0


def _show(args: argparse.Namespace) -> int:
    node = open_node(Path(args.dir), args.run_clock)
    try:
        item = node.app.item(args.number)
        events = node.app.item_events(args.number)
        now = node.app.clock.now()
        names = Names(Catalog(args.lang), node.app.directory, node.app.boards)
    finally:
        node.close()
    if args.json:
        data = show.item_json(item, now)
        data["events"] = [
            {"topic": type(e).TOPIC, **{f: getattr(e, f) for f in e.__struct_fields__}}
            for e in events
        ]
        data["attachments"] = evidence.evidence_json(Path(args.dir), evidence.from_events(events))
        show.emit_json(data)
    else:
        tables = evidence.evidence_tables(Path(args.dir), evidence.from_events(events))
        show.print_all([*item_panel(item, events, now, names), *tables])
    return 0


def _due(text: str, what: str) -> datetime:
    """A due time from the command line: a date alone means the END of that local day
    (23:59:59 Shanghai), like every clock the policy computes; a date-time is taken as it is."""
    value = parse_time(text, what)
    return value if "T" in text or " " in text.strip() else end_of_day(value.date())


def _milestone(text: str) -> tuple[str, Any]:
    title, sep, when = text.rpartition("@")
    if not sep or not title.strip():
        raise InputError(f"bad --milestone {text!r}: use 'title@2016-12-01'")
    return title.strip(), _due(when, "milestone date")


def _files(a: argparse.Namespace) -> list[Path]:
    return [Path(f) for f in a.attach or []]


def _register(app: LedgerApp, a: argparse.Namespace) -> ItemState:
    return app.register(
        title=a.title, source=a.source, board=a.board, severity=a.severity,
        raising_unit=a.raising_unit, lead_unit=a.lead_unit, co_units=a.co_unit or [],
        detail=a.detail, reference=a.reference, number=a.number, actor=a.actor, assign=a.assign,
    )  # fmt: skip


def _extend(app: LedgerApp, a: argparse.Namespace) -> ItemState:
    until = _due(a.until, "--until") if a.until else None
    if a.approve or a.deny:
        return app.decide_extension(
            a.number, actor=a.actor, clock=a.clock, approve=a.approve, reason=a.reason,
            until=until, attach=_files(a),
        )  # fmt: skip
    if until is None:
        raise InputError("an extension request needs --until (the due time asked for)")
    return app.request_extension(
        a.number, actor=a.actor, clock=a.clock, until=until, reason=a.reason, attach=_files(a)
    )


def _plan(app: LedgerApp, a: argparse.Namespace) -> ItemState:
    return app.plan(
        a.number, actor=a.actor, reason=a.reason,
        milestones=[_milestone(m) for m in a.milestone or []],
        target_at=_due(a.target, "--target"), attach=_files(a),
    )  # fmt: skip


ACTIONS: dict[Action, tuple[str, Command]] = {
    Action.ASSIGN: ("交办: start the clocks", lambda app, a: app.assign(
        a.number, actor=a.actor, note=a.note)),
    Action.SUB_ASSIGN: ("分解交办: a part to a lower unit", lambda app, a: app.sub_assign(
        a.number, to_unit=a.to_unit, part=a.part, actor=a.actor)),
    Action.DEPLOY: ("研究部署", lambda app, a: app.deploy(
        a.number, actor=a.actor, note=a.note, attach=_files(a))),
    Action.FEEDBACK: ("反馈", lambda app, a: app.feedback(
        a.number, actor=a.actor, content=a.content, attach=_files(a))),
    Action.PROGRESS: ("进展", lambda app, a: app.progress(
        a.number, actor=a.actor, content=a.content, milestone=a.milestone, attach=_files(a))),
    Action.RESOLVE: ("落实解决", lambda app, a: app.resolve(
        a.number, actor=a.actor, content=a.content, attach=_files(a))),
    Action.PLAN: ("时间节点和方案", _plan),
    Action.EXTEND: ("延期: request, or --approve / --deny", _extend),
    Action.RETURN: ("退回 for rework", lambda app, a: app.return_for_rework(
        a.number, actor=a.actor, reason=a.reason, untrue=a.untrue, attach=_files(a))),
    Action.ACCEPT_FEEDBACK: ("反馈审核通过", lambda app, a: app.accept_feedback(
        a.number, actor=a.actor, note=a.note)),
    Action.URGE: ("催办", lambda app, a: app.urge(a.number, actor=a.actor, message=a.message)),
    Action.CLOSE_OUT: ("销号", lambda app, a: app.close_out(
        a.number, actor=a.actor, verdict=a.verdict, attach=_files(a))),
    Action.CANCEL: ("撤销, with reason and approval", lambda app, a: app.cancel(
        a.number, actor=a.actor, reason=a.reason, approved_by=a.approved_by,
        attach=_files(a))),
    Action.ERASE_ATTACHMENT: ("删除附件: erase a file by a recorded decision", lambda app, a:
        app.erase_attachment(a.number, actor=a.actor, sha256=a.sha256, decision=a.decision,
                             reason=a.reason)),
}  # fmt: skip

#: ``--attach FILE``: the actions that report or decide take evidence files
_ATTACH = (
    "--attach",
    {
        "action": "append",
        "metavar": "FILE",
        "help": "evidence file (image, PDF, office), repeatable",
    },
)

#: extra arguments per action: (flag, options)
ARGS: dict[Action, list[tuple[str, dict[str, Any]]]] = {
    Action.ASSIGN: [("--note", {"default": "", "help": "a word to the undertaking units"})],
    Action.SUB_ASSIGN: [
        ("--to-unit", {"required": True, "help": "unit id under the lead unit's government"}),
        ("--part", {"required": True, "help": "which part of the item it takes on"}),
    ],
    Action.DEPLOY: [
        ("--note", {"default": "", "help": "how it was studied and deployed"}),
        _ATTACH,
    ],
    Action.FEEDBACK: [
        ("--content", {"required": True, "help": "the handling status reported"}),
        _ATTACH,
    ],
    Action.PROGRESS: [
        ("--content", {"required": True, "help": "the progress made"}),
        (
            "--milestone",
            {"type": int_in(0, 1000), "default": 0, "help": "plan milestone met (1-based)"},
        ),
        _ATTACH,
    ],
    Action.RESOLVE: [
        ("--content", {"required": True, "help": "what was done to solve it"}),
        _ATTACH,
    ],
    Action.PLAN: [
        ("--reason", {"required": True, "help": "why it cannot be solved in time"}),
        ("--milestone", {"action": "append", "help": "title@date, repeatable, in order"}),
        ("--target", {"required": True, "help": "when the problem will be solved"}),
        _ATTACH,
    ],
    Action.EXTEND: [
        ("--clock", {"required": True, "help": "deploy, feedback, resolve, milestone-N"}),
        ("--until", {"help": "requested (or approved) due time; a date alone means its end"}),
        ("--reason", {"default": "", "help": "why it is asked for (or denied)"}),
        ("--approve", {"action": "store_true", "help": "approve the waiting request"}),
        ("--deny", {"action": "store_true", "help": "deny the waiting request (with --reason)"}),
        _ATTACH,
    ],
    Action.RETURN: [
        ("--reason", {"required": True, "help": "what is missing or wrong"}),
        ("--untrue", {"action": "store_true", "help": "the feedback is untrue (不实)"}),
        _ATTACH,
    ],
    Action.ACCEPT_FEEDBACK: [
        ("--note", {"default": "", "help": "a word on the accepted feedback"})
    ],
    Action.URGE: [("--message", {"required": True, "help": "the words sent to the unit"})],
    Action.CLOSE_OUT: [("--verdict", {"required": True, "help": "the verified outcome"}), _ATTACH],
    Action.ERASE_ATTACHMENT: [
        ("--sha256", {"required": True, "help": "the file's SHA-256 (item show lists them)"}),
        ("--decision", {"required": True, "help": "reference of the erasure decision"}),
        ("--reason", {"required": True, "help": "why the file is erased"}),
    ],
    Action.CANCEL: [
        ("--reason", {"required": True, "help": "why the item is cancelled"}),
        ("--approved-by", {"required": True, "help": "contact id of the approving leader"}),
        _ATTACH,
    ],
}


def add_item_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``item register|assign|…|show`` to the command tree."""
    acting = argparse.ArgumentParser(add_help=False, parents=[common])
    add_actor(acting)
    items = sub.add_parser("item", help="one item's lifecycle").add_subparsers(
        dest="item_cmd", required=True, metavar="ACTION"
    )
    reg = items.add_parser("register", parents=[acting], help="立项: create an item")
    reg.add_argument("--title", required=True, help="the matter, in one line")
    reg.add_argument(
        "--source", required=True, choices=[s.value for s in Source], help="where it was decided"
    )
    reg.add_argument("--board", required=True, help="board id, e.g. daily, key-work")
    reg.add_argument(
        "--severity", default="general", choices=[s.value for s in Severity],
        help="general (7 days) or major / complex (1 month)",
    )  # fmt: skip
    reg.add_argument("--raising-unit", required=True, help="unit that raises the item")
    reg.add_argument("--lead-unit", required=True, help="牵头单位")
    reg.add_argument("--co-unit", action="append", help="协办单位, repeatable")
    reg.add_argument("--detail", default="", help="what the problem is")
    reg.add_argument("--reference", default="", help="meeting or document reference")
    reg.add_argument("--number", help="explicit item number (default: issued by the node)")
    reg.add_argument("--assign", action="store_true", help="交办 at once: start the clocks")
    reg.set_defaults(handler=lambda a: _run(_register, a))
    for name, (help_text, command) in ACTIONS.items():
        p = items.add_parser(name, parents=[acting], help=help_text)
        p.add_argument("number", help="item number, e.g. sx-2016-0001")
        for flag, opts in ARGS[name]:
            p.add_argument(flag, **opts)
        p.set_defaults(handler=lambda a, c=command: _run(c, a))
    shw = items.add_parser("show", parents=[common], help="an item, its clocks and timeline")
    shw.add_argument("number", help="item number, e.g. sx-2016-0001")
    shw.set_defaults(handler=_show)
