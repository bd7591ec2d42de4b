"""``ledger13710 cases``: accountability cases (责任追究) — list, scan the facts, step a case.

``cases scan`` reads the priced facts of a period from the points projection and opens a case
for each trigger of the accountability rules whose conditions hold (never twice for the same
facts). Each step of the procedure is checked against who acts.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from uuid import UUID

from rich.table import Table

from ledger13710.application.cases import case_rows, propose_cases, step_case
from ledger13710.application.node import Node
from ledger13710.cli import render as show
from ledger13710.cli.args import actor_of, add_actor
from ledger13710.cli.points_common import DEFAULT_RULES, with_points
from ledger13710.domain.cases import AccountabilityRules, parse_accountability, proposals
from ledger13710.domain.errors import ConfigError, InputError
from ledger13710.node.bootstrap import open_node
from ledger13710.projections.points import PointsProjector
from ledger13710.projections.points_excel import CASE_STATE_ZH, write_cases_xlsx
from ledger13710.projections.points_queries import facts, parse_period

DEFAULT_ACCOUNTABILITY = "builtin:accountability-v1"


def load_accountability(spec: str) -> AccountabilityRules:
    """``builtin:accountability-v1`` or a path to an accountability rules TOML file."""
    if spec == DEFAULT_ACCOUNTABILITY:
        data = resources.files("ledger13710").joinpath("data/accountability-v1.toml")
        return parse_accountability(data.read_text("utf-8"), spec)
    try:
        text = Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{spec}: cannot read the accountability rules: {exc}") from None
    return parse_accountability(text, spec)


def _case_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InputError(f"bad case id {text!r}: give the id 'cases' lists") from None


def cmd_scan(args: argparse.Namespace) -> int:
    """``cases scan``: propose the cases the period's facts call for."""
    actor, rules = actor_of(args), load_accountability(args.accountability)

    async def work(projector: PointsProjector, node: Node) -> list[str]:
        period = parse_period(args.period or str(node.app.clock.now().year))
        found = proposals(await facts(projector.store, period), rules)
        opened = propose_cases(node.app, found, rules_version=rules.version, actor=actor)
        return [str(c.id) for c in opened]

    opened = with_points(args, work)
    if args.json:
        show.emit_json({"opened": opened})
    else:
        show.out(f"{len(opened)} case(s) opened" + "".join(f"\n  {c}" for c in opened))
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """``cases``: every case of this node and where it stands."""
    node = open_node(Path(args.dir), args.run_clock)
    try:
        rows = case_rows(node.app)
    finally:
        node.close()
    if args.export:
        write_cases_xlsx(Path(args.export), rows)
    if args.json:
        show.emit_json(rows)
        return 0
    table = Table(title="责任追究")
    for col in ("编号", "对象", "情形", "状态", "处理方式"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["subject"], r["circumstances"],
                      CASE_STATE_ZH.get(r["state"], r["state"]), r["form"])  # fmt: skip
    show.print_all([table])
    return 0


def cmd_step(args: argparse.Namespace) -> int:
    """``cases investigate|decide|close|dismiss ID --text T``."""
    actor = actor_of(args)
    forms = load_accountability(args.accountability).forms
    node = open_node(Path(args.dir), args.run_clock)
    try:
        case = step_case(node.app, _case_id(args.case), args.cases_cmd, text=args.text,
                         actor=actor, form=args.form or "", forms=forms)  # fmt: skip
    finally:
        node.close()
    result = {"id": str(case.id), "state": case.state.value, "form": case.form}
    if args.json:
        show.emit_json(result)
    else:
        show.out(f"{case.id}: {CASE_STATE_ZH[case.state.value]} {case.form}".rstrip())
    return 0


def add_case_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``cases`` (list), ``cases scan`` and the procedure's steps."""
    acting = argparse.ArgumentParser(add_help=False, parents=[common])
    add_actor(acting)
    acting.add_argument(
        "--accountability", default=DEFAULT_ACCOUNTABILITY, help="rules: builtin or a file"
    )
    cases = sub.add_parser("cases", parents=[common], help="责任追究: accountability cases")
    cases.add_argument("--export", metavar="FILE.xlsx", help="write the case list to Excel")
    cases.set_defaults(handler=cmd_list)
    steps = cases.add_subparsers(dest="cases_cmd", metavar="ACTION")
    scan = steps.add_parser("scan", parents=[acting], help="open the cases the facts call for")
    scan.add_argument("--period", help="2016, 2016-Q4 or 2016-10 (default: this year)")
    scan.add_argument("--rules", default=DEFAULT_RULES, help="points rules pricing the facts")
    scan.set_defaults(handler=cmd_scan)
    for action, text in (("investigate", "调查核实"), ("decide", "处理决定 (--form)"),
                         ("close", "结案"), ("dismiss", "不予追究")):  # fmt: skip
        p = steps.add_parser(action, parents=[acting], help=text)
        p.add_argument("case", help="the case id 'cases' lists")
        p.add_argument("--text", required=True, help="findings, reasons or note")
        if action == "decide":
            p.add_argument("--form", required=True, help="a form of the accountability rules")
        p.set_defaults(handler=cmd_step)
