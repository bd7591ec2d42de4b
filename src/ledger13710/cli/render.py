"""How the CLI shows things: rich tables for people, JSON for scripts.

Text that came from a user or a file goes into a table through :func:`cell`: control and bidi
characters escaped (:func:`~ledger13710.domain.text.display`) and rich markup taken literally.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from ledger13710.domain import events as ev
from ledger13710.domain.lights import Light, behind_plan, clock_light, item_light, met_late
from ledger13710.domain.state import ItemState
from ledger13710.domain.text import display
from ledger13710.domain.types import SHANGHAI, Clock
from ledger13710.projections.labels import STATE_ZH

if TYPE_CHECKING:  # only their types are used; the modules bring in aiosqlite and asyncio
    from ledger13710.projections.importer import ImportReport
    from ledger13710.projections.queries import ClockCell, LedgerPage, LedgerRow
    from ledger13710.projections.stats import Stats
    from ledger13710.projections.timeline import Timeline
    from ledger13710.projections.tree import TreeNode

LIGHT_STYLE = {
    Light.GREEN: "[green]● 正常[/]",
    Light.YELLOW: "[yellow]● 临期[/]",
    Light.RED: "[red]● 超期[/]",
    Light.DONE: "[dim]○ 完成[/]",
}
CLOCK_ZH = {Clock.DEPLOY: "部署(1)", Clock.FEEDBACK: "反馈(3)", Clock.RESOLVE: "解决(7/1)"}

_encoder = msgspec.json.Encoder()
#: C1 and bidi controls: JSON may carry them raw, a terminal must not get them.
_JSON_UNSAFE = re.compile("[\u0080-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def cell(value: object) -> str:
    """User or file text for a rich table cell: shown safely, markup characters literal."""
    return escape(display(str(value)))


def out(text: str = "") -> None:
    """Print plain text to stdout (control and bidi characters escaped)."""
    sys.stdout.write(display(text, lines=True) + "\n")


def emit_json(value: Any) -> None:
    """Print ``value`` as one JSON document (C1 and bidi characters as ``\\u`` escapes)."""
    text = _JSON_UNSAFE.sub(_json_escape, _encoder.encode(value).decode())
    sys.stdout.buffer.write(text.encode() + b"\n")


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def local(t: datetime | None) -> str:
    """A short local (Shanghai) time for tables."""
    return "" if t is None else t.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def item_json(item: ItemState, now: datetime) -> dict[str, Any]:
    """An item as JSON-ready builtins, with its light computed at ``now``."""
    data: dict[str, Any] = msgspec.to_builtins(item)
    data["light"] = item_light(item, now).value
    data["behind_plan"] = behind_plan(item, now)
    return data


def _clock_cell(item: ItemState, clock: str, now: datetime) -> str:
    d = item.deadlines.get(clock)
    if d is None:
        return "—"
    met = item.met.get(clock)
    if met is not None:
        late = " [red]超时[/]" if met_late(d, met) else ""
        return f"{local(d.due_at)} ✓{late}"
    light = clock_light(d, None, now)
    colour = {Light.RED: "red", Light.YELLOW: "yellow"}.get(light, "green")
    return f"[{colour}]{local(d.due_at)}[/]"


def ledger_table(items: Iterable[ItemState], now: datetime) -> Table:
    """The 台账: one row per item, each clock's due time and the item's light."""
    table = Table(title=f"督办台账（截至 {local(now)}）", show_lines=False)
    for header in ("编号", "事项", "板块", "牵头单位", "状态", *CLOCK_ZH.values(), "退回", "灯"):
        table.add_column(header)
    for item in items:
        light = LIGHT_STYLE[item_light(item, now)]
        if behind_plan(item, now):
            light += " [red]滞后于计划[/]"
        table.add_row(
            cell(item.number),
            cell(item.title[:24]),
            cell(item.board),
            cell(item.lead_unit),
            STATE_ZH.get(item.state, item.state),
            *(_clock_cell(item, c, now) for c in CLOCK_ZH),
            str(item.returns),
            light,
        )
    return table


def item_panel(item: ItemState, events: list[ev.ItemEvent], now: datetime) -> list[Any]:
    """What ``item show`` prints: the facts, the clocks, the parts and the timeline."""
    facts = Table.grid(padding=(0, 2))
    for label, value in (
        ("编号", cell(item.number)),
        ("事项", cell(item.title)),
        ("来源 / 板块 / 性质", cell(f"{item.source} / {item.board} / {item.severity}")),
        ("立项单位", cell(item.raising_unit)),
        ("牵头 / 协办", cell(f"{item.lead_unit} / {', '.join(item.co_units) or '—'}")),
        ("状态", f"{STATE_ZH.get(item.state, item.state)}  {LIGHT_STYLE[item_light(item, now)]}"),
        ("上级事项", cell(item.parent_number or "—")),
        ("退回 / 延期 / 催办", f"{item.returns} / {item.extensions_granted} / {item.urges}"),
    ):
        facts.add_row(f"[bold]{label}[/]", value)
    clocks = Table(title="时限")
    for header in ("时钟", "起算", "应完成", "完成", "灯", "政策 / 日历"):
        clocks.add_column(header)
    for name, d in sorted(item.deadlines.items(), key=lambda kv: kv[1].due_at):
        met = item.met.get(name)
        clocks.add_row(
            CLOCK_ZH.get(Clock(name), name) if name in CLOCK_ZH else cell(name),
            local(d.started_at),
            local(d.due_at),
            local(met),
            LIGHT_STYLE[clock_light(d, met, now)],
            cell(f"{d.policy_version} / {d.calendar_version}"),
        )
    parts: list[Any] = [facts, clocks]
    if item.children:
        kids = Table(title="分解交办")
        for header in ("编号", "承办单位", "内容", "状态", "所在节点"):
            kids.add_column(header)
        for c in item.children.values():
            kids.add_row(
                cell(c.number), cell(c.unit), cell(c.part), STATE_ZH.get(c.state, c.state),
                cell(c.host_node),
            )  # fmt: skip
        parts.append(kids)
    timeline = Table(title="办理过程")
    for header in ("#", "时间", "事件", "操作人", "单位"):
        timeline.add_column(header)
    for e in events:
        timeline.add_row(
            str(e.originator_version), local(e.timestamp), type(e).__name__, cell(e.actor),
            cell(e.unit),
        )  # fmt: skip
    parts.append(timeline)
    return parts


def print_all(renderables: Iterable[Any]) -> None:
    """Render rich objects to stdout."""
    console = Console(soft_wrap=False, width=max(Console().width, 140))
    for r in renderables:
        console.print(r)


# -- the read side (views) ------------------------------------------------------------------

_LIGHTS = {str(k.value): v for k, v in LIGHT_STYLE.items()}
_VIEW_CLOCKS = {"deploy": "部署(1)", "feedback": "反馈(3)", "resolve": "解决(7/1)"}


def _cell(cell: ClockCell, now: datetime) -> str:
    if cell.due_at is None:
        return "—"
    if cell.done_at is not None:
        late = " [red]超时[/]" if cell.done_at > cell.due_at else ""
        return f"{local(cell.due_at)} ✓{late}"
    colour = "red" if now > cell.due_at else "green"
    return f"[{colour}]{local(cell.due_at)}[/]"


def view_ledger_table(page: LedgerPage, now: datetime) -> Table:
    """The 台账 from the ledger view: one row per item, each clock, returns, extensions, light."""
    pages = f"第{page.page}页，共{page.total}项" if page.page_size else f"共{page.total}项"
    table = Table(title=f"督办台账（截至 {local(now)}，{pages}）")
    for header in ("编号", "事项", "板块", "牵头单位", "状态", *_VIEW_CLOCKS.values(), "退回",
                   "延期", "灯"):  # fmt: skip
        table.add_column(header)
    for r in page.items:
        light = _LIGHTS[r.light] + (" [red]滞后于计划[/]" if r.behind_plan else "")
        table.add_row(
            cell(r.number), cell(r.title[:24]), cell(r.board), cell(r.lead_unit),
            STATE_ZH.get(r.state, r.state),
            *(_cell(r.clocks[c], now) for c in _VIEW_CLOCKS), str(r.returns),
            str(r.extensions_granted), light,
        )  # fmt: skip
    return table


def tree_view(node: TreeNode, now: datetime) -> Tree:
    """The command tree (一网指挥) with counts per light and state at every level."""

    def label(n: TreeNode) -> str:
        lights = " ".join(
            f"{_LIGHTS[k]} {n.lights[k]}"
            for k in ("red", "yellow", "green", "done")
            if k in n.lights
        )
        states = cell("、".join(f"{STATE_ZH.get(s, s)}{c}" for s, c in sorted(n.states.items())))
        behind = f" [red]滞后{n.behind_plan}[/]" if n.behind_plan else ""
        who = f"[bold]{cell(n.name)}[/] ({cell(n.unit)})"
        return f"{who} 共{n.total}项 {lights}{behind} [dim]{states}[/]"

    tree = Tree(f"一网指挥（截至 {local(now)}）: " + label(node))

    def add(parent: Tree, n: TreeNode) -> None:
        for child in n.children:
            add(parent.add(label(child)), child)

    add(tree, node)
    return tree


def chain_table(chain: list[tuple[int, LedgerRow]], now: datetime) -> Table:
    """A sub-assigned item's chain across tiers."""
    table = Table(title=f"分解交办链（截至 {local(now)}）")
    for header in ("编号", "承办单位", "层级", "内容", "状态", "灯"):
        table.add_column(header)
    for depth, r in chain:
        table.add_row(
            "  " * depth + cell(r.number), cell(r.lead_unit), cell(r.tier),
            cell((r.part or r.title)[:24]),
            STATE_ZH.get(r.state, r.state), _LIGHTS[r.light],
        )  # fmt: skip
    return table


def stats_tables(stats: Stats, now: datetime) -> list[Table]:
    """The statistics as tables (the same tables an export writes)."""
    # imported here: openpyxl takes a noticeable share of every command's start-up
    from ledger13710.projections.excel import stats_tables as workbook_tables  # noqa: PLC0415

    tables = []
    for title, (headers, rows) in workbook_tables(stats).items():
        table = Table(title=f"{title}（截至 {local(now)}）" if title == "概况" else title)
        for h in headers:
            table.add_column(h)
        for values in rows:
            table.add_row(*("—" if v is None else cell(v) for v in values))
        tables.append(table)
    return tables


def timeline_tables(line: Timeline) -> list[Table]:
    """An item's events (with origin node and sequence) and its clocks, due against done."""
    events = Table(title=f"{cell(line.number)} 办理过程")
    for header in ("#", "时间", "事件", "操作人", "单位", "来源节点", "序号"):
        events.add_column(header)
    for e in line.events:
        events.add_row(
            str(e.version), local(e.at), cell(e.kind), cell(e.actor), cell(e.unit),
            cell(e.origin), str(e.seq),
        )  # fmt: skip
    clocks = Table(title="时限：应完成 / 实际完成")
    for header in ("时钟", "应完成", "完成", ""):
        clocks.add_column(header)
    for c in line.clocks:
        mark = "[red]超时[/]" if c.late else ("[dim]未完成[/]" if c.done_at is None else "✓")
        name = CLOCK_ZH.get(Clock(c.clock), c.clock) if c.clock in CLOCK_ZH else cell(c.clock)
        clocks.add_row(name, local(c.due_at), local(c.done_at), mark)
    return [events, clocks]


def import_table(report: ImportReport) -> Table:
    """What an import did, row by row."""
    table = Table(
        title=f"导入结果：登记{report.registered}项，跳过{report.skipped}项，拒绝{report.refused}项"
    )
    for header in ("工作表", "编号", "结果", "说明"):
        table.add_column(header)
    style = {"registered": "[green]登记[/]", "skipped": "[dim]跳过[/]", "refused": "[red]拒绝[/]"}
    for r in report.rows:
        table.add_row(cell(r.sheet), cell(r.number), style[r.outcome], cell(r.message))
    return table
