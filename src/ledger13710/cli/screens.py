"""The screens a person reads about items, in the language asked for: the item view, its
timeline and the ledger (台账). Units and boards by their names; every event's text shown."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.table import Table
from rich.tree import Tree

from ledger13710.cli.render import cell as c_
from ledger13710.domain.lights import clock_light, item_light
from ledger13710.i18n import Catalog
from ledger13710.i18n.events import event_text, when

if TYPE_CHECKING:  # only their types are used; the projections bring in aiosqlite and asyncio
    from ledger13710.config.boards import Board
    from ledger13710.domain import events as ev
    from ledger13710.domain.directory import Directory
    from ledger13710.domain.state import ItemState
    from ledger13710.projections.queries import ClockCell, LedgerPage, LedgerRow
    from ledger13710.projections.timeline import Timeline
    from ledger13710.projections.tree import TreeNode

_COLOURS = {"green": "[green]● {}[/]", "yellow": "[yellow]● {}[/]", "red": "[red]● {}[/]"}
_STANDING = ("deploy", "feedback", "resolve")


class Names:
    """How codes read on screen: the catalog's words, the directory's units, the boards."""

    def __init__(self, cat: Catalog, directory: Directory, boards: Mapping[str, Board]) -> None:
        self.cat = cat
        self._directory = directory
        self._boards = boards

    def unit(self, uid: str) -> str:
        """A unit's name from the directory; its id when the node does not know it."""
        return self._directory.unit(uid).name if self._directory.has_unit(uid) else uid

    def board(self, bid: str) -> str:
        """A board's name (the built-in boards are named in Chinese in both languages)."""
        board = self._boards.get(bid)
        return board.name if board is not None else bid

    def light(self, light: str) -> str:
        """A coloured light with its word."""
        word = self.cat.name("light", light)
        return _COLOURS.get(light, "[dim]○ {}[/]").format(word)

    def local(self, t: datetime | None) -> str:
        """A short local (Shanghai) time."""
        return "" if t is None else when(t)


def item_panel(item: ItemState, events: list[ev.ItemEvent], now: datetime, n: Names) -> list[Any]:
    """What ``item show`` prints: the facts, the clocks, the parts and every event's text."""
    cat = n.cat
    facts = Table.grid(padding=(0, 2))
    co = ", ".join(c_(n.unit(u)) for u in item.co_units) or "—"
    kinds = c_(
        f"{cat.name('source', item.source)} / {n.board(item.board)} / "
        f"{cat.name('severity', item.severity)}"
    )
    light = n.light(item_light(item, now).value)
    for label, value in (
        (cat.ui("number"), c_(item.number)),
        (cat.ui("title"), c_(item.title)),
        (cat.ui("source_board_severity"), kinds),
        (cat.ui("raising"), c_(n.unit(item.raising_unit))),
        (cat.ui("lead_co"), f"{c_(n.unit(item.lead_unit))} / {co}"),
        (cat.ui("state"), f"{cat.name('state', item.state)}  {light}"),
        (cat.ui("parent"), c_(item.parent_number or "—")),
        (cat.ui("counts"), f"{item.returns} / {item.extensions_granted} / {item.urges}"),
    ):
        facts.add_row(f"[bold]{label}[/]", value)
    clocks = Table(title=cat.ui("clocks"))
    for key in ("clock", "started", "due", "done", "light", "policy_calendar"):
        clocks.add_column(cat.ui(key))
    for name, d in sorted(item.deadlines.items(), key=lambda kv: kv[1].due_at):
        met = item.met.get(name)
        clocks.add_row(
            c_(cat.name("clock", name)), n.local(d.started_at), n.local(d.due_at), n.local(met),
            n.light(clock_light(d, met, now).value),
            c_(f"{d.policy_version} / {d.calendar_version}"),
        )  # fmt: skip
    for name, d in sorted(item.reviews.items(), key=lambda kv: kv[1].due_at):  # the raising side's
        clocks.add_row(
            c_(cat.name("clock", name)), n.local(d.started_at), n.local(d.due_at), "",
            n.light(clock_light(d, None, now).value),
            c_(f"{d.policy_version} / {d.calendar_version}"),
        )  # fmt: skip
    parts: list[Any] = [facts, clocks]
    if item.children:
        kids = Table(title=cat.ui("parts"))
        for key in ("number", "unit", "part", "state", "host"):
            kids.add_column(cat.ui(key))
        for c in item.children.values():
            kids.add_row(
                c_(c.number), c_(n.unit(c.unit)), c_(c.part), cat.name("state", c.state),
                c_(c.host_node),
            )  # fmt: skip
        parts.append(kids)
    history = Table(title=cat.ui("history"))
    history.add_column("#")
    for key in ("time", "event", "actor", "actor_unit", "content"):
        history.add_column(cat.ui(key))
    for e in events:
        kind = type(e).__name__
        text = event_text(cat, kind, msgspec.to_builtins(e), n.unit)
        history.add_row(
            str(e.originator_version), n.local(e.timestamp), cat.name("event", kind), c_(e.actor),
            c_(n.unit(e.unit)), c_(text),
        )  # fmt: skip
    parts.append(history)
    return parts


def timeline_tables(line: Timeline, n: Names) -> list[Table]:
    """An item's events (with origin node, sequence and text) and its clocks, due against done."""
    cat = n.cat
    events = Table(title=cat.ui("history_of", number=c_(line.number)))
    events.add_column("#")
    for key in ("time", "event", "actor", "actor_unit", "content", "origin", "seq"):
        events.add_column(cat.ui(key))
    for e in line.events:
        text = event_text(cat, e.kind, e.fields, n.unit)
        events.add_row(
            str(e.version), n.local(e.at), c_(cat.name("event", e.kind)), c_(e.actor),
            c_(n.unit(e.unit)), c_(text), c_(e.origin), str(e.seq),
        )  # fmt: skip
    clocks = Table(title=cat.ui("due_done"))
    for key in ("clock", "due", "done"):
        clocks.add_column(cat.ui(key))
    clocks.add_column("")
    for c in line.clocks:
        late = f"[red]{cat.ui('late')}[/]"
        mark = late if c.late else (f"[dim]{cat.ui('not_done')}[/]" if c.done_at is None else "✓")
        clocks.add_row(c_(cat.name("clock", c.clock)), n.local(c.due_at), n.local(c.done_at), mark)
    return [events, clocks]


def _cell(cell: ClockCell, now: datetime, n: Names) -> str:
    if cell.due_at is None:
        return "—"
    if cell.done_at is not None:
        late = f" [red]{n.cat.ui('late')}[/]" if cell.done_at > cell.due_at else ""
        return f"{n.local(cell.due_at)} ✓{late}"
    colour = "red" if now > cell.due_at else "green"
    return f"[{colour}]{n.local(cell.due_at)}[/]"


def pages_of(page: LedgerPage) -> int:
    """How many pages the query has at its page size (1 when unpaged or empty)."""
    if not page.page_size:
        return 1
    return max(1, -(-page.total // page.page_size))


def view_ledger_table(page: LedgerPage, now: datetime, n: Names) -> Table:
    """The 台账 from the ledger view: one row per item, each clock, returns, extensions, light."""
    cat = n.cat
    if page.page_size:
        pages = cat.ui("page_of", page=page.page, pages=pages_of(page), total=page.total)
    else:
        pages = cat.ui("total", total=page.total)
    table = Table(title=cat.ui("ledger_title", now=n.local(now), pages=pages))
    for key in ("number", "title", "board", "lead", "state"):
        table.add_column(cat.ui(key))
    for c in _STANDING:
        table.add_column(cat.name("clock", c))
    for key in ("returns", "extensions", "light"):
        table.add_column(cat.ui(key))
    for r in page.items:
        light = n.light(r.light) + (f" [red]{cat.ui('behind_plan')}[/]" if r.behind_plan else "")
        table.add_row(
            c_(r.number), c_(r.title[:24]), c_(n.board(r.board)), c_(n.unit(r.lead_unit)),
            cat.name("state", r.state), *(_cell(r.clocks[c], now, n) for c in _STANDING),
            str(r.returns), str(r.extensions_granted), light,
        )  # fmt: skip
    return table


def tree_view(node: TreeNode, now: datetime, n: Names) -> Tree:
    """The command tree (一网指挥) with counts per light and state at every level."""
    cat = n.cat

    def label(t: TreeNode) -> str:
        lights = " ".join(
            f"{n.light(k)} {t.lights[k]}"
            for k in ("red", "yellow", "green", "done")
            if k in t.lights
        )
        states = cat.ui("tree_sep").join(
            cat.ui("tree_state", state=cat.name("state", s), n=c)
            for s, c in sorted(t.states.items())
        )
        behind = f" [red]{cat.ui('tree_behind', n=t.behind_plan)}[/]" if t.behind_plan else ""
        total = cat.ui("tree_total", total=t.total)
        return f"[bold]{c_(t.name)}[/] ({c_(t.unit)}) {total} {lights}{behind} [dim]{states}[/]"

    tree = Tree(cat.ui("tree_title", now=n.local(now)) + label(node))

    def add(parent: Tree, t: TreeNode) -> None:
        for child in t.children:
            add(parent.add(label(child)), child)

    add(tree, node)
    return tree


def chain_table(chain: list[tuple[int, LedgerRow]], now: datetime, n: Names) -> Table:
    """A sub-assigned item's chain across tiers."""
    cat = n.cat
    table = Table(title=cat.ui("chain_title", now=n.local(now)))
    for key in ("number", "unit", "tier", "part", "state", "light"):
        table.add_column(cat.ui(key))
    for depth, r in chain:
        table.add_row(
            "  " * depth + c_(r.number), c_(n.unit(r.lead_unit)), cat.name("tier", r.tier),
            c_((r.part or r.title)[:24]), cat.name("state", r.state), n.light(r.light),
        )  # fmt: skip
    return table


__all__ = [
    "Names",
    "chain_table",
    "item_panel",
    "pages_of",
    "timeline_tables",
    "tree_view",
    "view_ledger_table",
]
