"""``ledger13710 views|ledger|tree|stats|timeline|export|import``: the read side of a node.

Every query command first catches the views up with the node's events (cheap when current),
then reads them. ``views rebuild`` folds a view again from the first event.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger13710.application.node import Node
from ledger13710.cli import evidence
from ledger13710.cli import render as show
from ledger13710.cli.args import COUNT_MAX, YEARS, actor_of, add_actor, int_in
from ledger13710.cli.screens import (
    Names,
    chain_table,
    pages_of,
    timeline_tables,
    tree_view,
    view_ledger_table,
)
from ledger13710.domain.errors import InputError
from ledger13710.domain.state import State
from ledger13710.domain.types import Severity, Tier
from ledger13710.i18n import Catalog
from ledger13710.node.bootstrap import open_node
from ledger13710.node.views import open_views
from ledger13710.projections import excel
from ledger13710.projections.evidence import evidence_names
from ledger13710.projections.importer import import_ledger
from ledger13710.projections.projector import Projector
from ledger13710.projections.queries import SORTS, LedgerQuery, chain, ledger_page
from ledger13710.projections.schema import VIEWS
from ledger13710.projections.stats import statistics
from ledger13710.projections.timeline import timeline
from ledger13710.projections.tree import command_tree

T = TypeVar("T")
Query = Callable[[Projector, Node, datetime], Awaitable[T]]


def _query(args: argparse.Namespace, query: Query[T]) -> tuple[T, datetime]:
    """Open the node and its views, catch up, run ``query``; return its result and now."""
    node = open_node(Path(args.dir), args.run_clock)
    try:
        now = node.app.clock.now()

        async def run() -> T:
            async with open_views(node.dir, node.id, node.app.recorder) as views:
                await views.catch_up()
                return await query(views, node, now)

        return asyncio.run(run()), now
    finally:
        node.close()


def _names(args: argparse.Namespace, node: Node) -> Names:
    return Names(Catalog(args.lang), node.app.directory, node.app.boards)


def _ledger_query(args: argparse.Namespace) -> LedgerQuery:
    return LedgerQuery(
        board=args.board, tier=args.tier, unit=getattr(args, "unit", None), within=args.within,
        state=args.state, severity=args.severity, year=args.year, overdue=args.overdue,
        light=args.light, behind_plan=args.behind_plan, sort=getattr(args, "sort", "number"),
        descending=getattr(args, "desc", False), page=getattr(args, "page", 1),
        page_size=getattr(args, "page_size", 0),
    )  # fmt: skip


def cmd_views(args: argparse.Namespace) -> int:
    """``views update`` / ``views rebuild``: catch up, or fold from the first event."""
    views = [args.view] if getattr(args, "view", None) else list(VIEWS)
    rebuild = args.views_cmd == "rebuild"
    node = open_node(Path(args.dir), args.run_clock)
    try:

        async def run() -> int:
            async with open_views(node.dir, node.id, node.app.recorder) as projector:
                with _bar(args.json, "重建视图" if rebuild else "更新视图") as progress:
                    if rebuild:
                        return await projector.rebuild(views, progress)
                    return await projector.catch_up(views, progress)

        read = asyncio.run(run())
    finally:
        node.close()
    result = {"views": views, "rebuilt": rebuild, "records": read}
    if args.json:
        show.emit_json(result)
    else:
        show.out(f"{'rebuilt' if rebuild else 'updated'} {', '.join(views)}: {read} records")
    return 0


class _bar:
    """A rich progress bar on stderr (nothing with ``--json``)."""

    def __init__(self, quiet: bool, label: str) -> None:
        self.progress = None if quiet else Progress(
            TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(stderr=True),
        )  # fmt: skip
        self.task: Any = None

    def __enter__(self) -> Callable[[int, int], None]:
        if self.progress is not None:
            self.progress.start()
            self.task = self.progress.add_task("views", total=None)
        return self.update

    def update(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def cmd_ledger(args: argparse.Namespace) -> int:
    """``ledger``: the 台账 from the ledger view, filtered, sorted and paged."""
    query = _ledger_query(args)

    async def q(views: Projector, node: Node, now: datetime) -> Any:
        return await ledger_page(views.store, query, now), _names(args, node)

    (page, names), now = _query(args, q)
    if page.page_size and page.page > pages_of(page):
        raise InputError(names.cat.ui("no_page", page=page.page, pages=pages_of(page),
                                      total=page.total))  # fmt: skip
    if args.json:
        show.emit_json(page)
    else:
        show.print_all([view_ledger_table(page, now, names)])
    return 0


def cmd_tree(args: argparse.Namespace) -> int:
    """``tree``: the command tree (一网指挥), an item's chain, or a unit's items."""

    async def q(views: Projector, node: Node, now: datetime) -> Any:
        names = _names(args, node)
        if args.chain:
            return await chain(views.store, args.chain, now), names
        root = args.unit or node.id
        if args.items:
            query = LedgerQuery(within=root, page_size=args.page_size)
            return await ledger_page(views.store, query, now), names
        tree = await command_tree(views.store, root, now, node.app.directory, args.depth)
        return tree, names

    (result, names), now = _query(args, q)
    if args.json:
        show.emit_json(result)
    elif args.chain:
        show.print_all([chain_table(result, now, names)])
    elif args.items:
        show.print_all([view_ledger_table(result, now, names)])
    else:
        show.print_all([tree_view(result, now, names)])
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    """``stats``: figures of the ledger."""
    query = _ledger_query(args)

    async def q(views: Projector, node: Node, now: datetime) -> Any:
        return await statistics(views.store, query, now)

    stats, now = _query(args, q)
    if args.json:
        show.emit_json(stats)
    else:
        show.out(stats.headline)
        show.print_all(show.stats_tables(stats, now))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    """``timeline``: an item's events with origin node and sequence, and its clocks."""

    async def q(views: Projector, node: Node, now: datetime) -> Any:
        return await timeline(views.store, args.number), _names(args, node)

    (line, names), _now = _query(args, q)
    if args.json:
        show.emit_json(line)
    else:
        tables = evidence.evidence_tables(Path(args.dir), evidence.from_timeline(line))
        show.print_all([*timeline_tables(line, names), *tables])
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """``export``: the ledger and/or its statistics as .xlsx or .csv."""
    path = Path(args.path)
    kind = path.suffix.lower()
    if kind not in (".xlsx", ".csv"):
        raise InputError(f"cannot export to {path.name!r}: name an .xlsx or a .csv file")
    what = args.what or ("all" if kind == ".xlsx" else "ledger")
    if kind == ".csv" and what == "all":
        raise InputError("a CSV holds one table: use --what ledger or --what stats")
    query = _ledger_query(args)

    async def q(views: Projector, node: Node, now: datetime) -> Any:
        rows = (await ledger_page(views.store, query, now)).items
        stats = await statistics(views.store, query, now)
        return (
            rows,
            stats,
            node.app.boards,
            _names(args, node).unit,
            await evidence_names(views.store),
        )

    (rows, stats, boards, unit, names), _now = _query(args, q)
    if kind == ".csv":
        if what == "stats":
            excel.write_stats_csv(path, stats)
        else:
            excel.write_ledger_csv(path, rows, boards, unit, names)
    else:

        def fill(wb: Any) -> None:
            if what in ("ledger", "all"):
                excel.add_ledger_sheets(wb, rows, boards, unit, names)
            if what in ("stats", "all"):
                excel.add_stats_sheets(wb, stats, boards, unit)

        excel.write_xlsx(path, fill)
    result = {"path": str(path), "what": what, "items": len(rows)}
    if args.json:
        show.emit_json(result)
    else:
        show.out(f"exported {what} ({len(rows)} items) to {path}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """``import``: register the items of a ledger workbook; report each row's outcome."""
    actor_of(args, "registers")
    path = Path(args.path)
    if not path.is_file():
        raise InputError(f"no workbook at {path}")
    node = open_node(Path(args.dir), args.run_clock)
    try:
        report = import_ledger(
            node.app, path, actor=args.actor, assign=not args.no_assign, dry_run=args.dry_run
        )
    finally:
        node.close()
    if args.json:
        show.emit_json(report)
    else:
        show.print_all([show.import_table(report)])
    return 1 if report.refused else 0


def _filters(p: argparse.ArgumentParser, *, unit: bool = True) -> None:
    p.add_argument("--board", help="only items of this board id")
    p.add_argument("--tier", choices=[t.value for t in Tier], help="tier of the lead unit")
    if unit:
        p.add_argument("--unit", help="only items this unit leads or co-handles")
    p.add_argument("--within", help="only items led within this government's subtree")
    p.add_argument("--state", choices=[s.value for s in State], help="only items in this state")
    p.add_argument("--severity", choices=[s.value for s in Severity], help="only this severity")
    p.add_argument("--year", type=int_in(*YEARS), help="registration year (Shanghai time)")
    p.add_argument("--overdue", action="store_true", help="only items with a clock overdue")
    p.add_argument(
        "--light", choices=["green", "yellow", "red", "done"], help="only items with this light"
    )
    p.add_argument("--behind-plan", action="store_true", help="only items behind their plan")


def add_view_commands(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add the read-side commands to the command tree."""
    views = sub.add_parser("views", help="the node's read models").add_subparsers(
        dest="views_cmd", required=True, metavar="ACTION"
    )
    views.add_parser("update", parents=[common], help="catch up with new events").set_defaults(
        handler=cmd_views
    )
    rebuild = views.add_parser("rebuild", parents=[common], help="fold views from zero")
    rebuild.add_argument("--view", choices=list(VIEWS), help="one view (default: all)")
    rebuild.set_defaults(handler=cmd_views)

    ledger = sub.add_parser("ledger", parents=[common], help="the 台账: items, clocks, lights")
    _filters(ledger)
    ledger.add_argument("--sort", choices=list(SORTS), default="number", help="order of rows")
    ledger.add_argument("--desc", action="store_true", help="descending order")
    ledger.add_argument("--page", type=int_in(1, COUNT_MAX), default=1, help="page number (from 1)")
    ledger.add_argument(
        "--page-size", type=int_in(0, COUNT_MAX), default=50, help="rows per page; 0: all"
    )
    ledger.set_defaults(handler=cmd_ledger)

    tree = sub.add_parser("tree", parents=[common], help="一网指挥: the command tree")
    tree.add_argument("unit", nargs="?", help="government (or department) at the top")
    tree.add_argument("--depth", type=int_in(0, 10), default=5, help="levels shown (default 5)")
    tree.add_argument("--items", action="store_true", help="list the items under the unit")
    tree.add_argument(
        "--page-size", type=int_in(0, COUNT_MAX), default=50, help="items listed; 0: all"
    )
    tree.add_argument("--chain", metavar="NUMBER", help="an item's chain across tiers")
    tree.set_defaults(handler=cmd_tree)

    stats = sub.add_parser("stats", parents=[common], help="statistics of the ledger")
    _filters(stats)
    stats.set_defaults(handler=cmd_stats)

    line = sub.add_parser("timeline", parents=[common], help="an item's events, by origin")
    line.add_argument("number", help="item number, e.g. sx-2016-0001")
    line.set_defaults(handler=cmd_timeline)

    export = sub.add_parser("export", parents=[common], help="ledger / statistics to xlsx, csv")
    export.add_argument("path", help="OUT.xlsx or OUT.csv")
    export.add_argument(
        "--what", choices=["ledger", "stats", "all"],
        help="default: all for .xlsx (ledger sheets, then statistics), ledger for .csv",
    )  # fmt: skip
    _filters(export)
    export.set_defaults(page_size=0)
    export.set_defaults(handler=cmd_export)

    imp = sub.add_parser("import", parents=[common], help="register the items of a workbook")
    imp.add_argument(
        "path", help="an .xlsx or .csv with the ledger's columns (编号 may be empty: new items); "
        "exits 1 when a row was refused",
    )  # fmt: skip
    add_actor(imp, "registers")
    imp.add_argument("--no-assign", action="store_true", help="register only, do not 交办")
    imp.add_argument("--dry-run", action="store_true", help="check every row and register nothing")
    imp.set_defaults(handler=cmd_import)


__all__ = ["add_view_commands"]
