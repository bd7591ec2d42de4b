"""How the CLI shows things: rich tables for people, JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ledger13710.domain import events as ev
from ledger13710.domain.lights import Light, behind_plan, clock_light, item_light, met_late
from ledger13710.domain.state import ItemState
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


def out(text: str = "") -> None:
    """Print plain text to stdout."""
    sys.stdout.write(text + "\n")


def emit_json(value: Any) -> None:
    """Print ``value`` as one JSON document."""
    sys.stdout.buffer.write(_encoder.encode(value) + b"\n")


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
            item.number,
            item.title[:24],
            item.board,
            item.lead_unit,
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
        ("编号", item.number),
        ("事项", item.title),
        ("来源 / 板块 / 性质", f"{item.source} / {item.board} / {item.severity}"),
        ("立项单位", item.raising_unit),
        ("牵头 / 协办", f"{item.lead_unit} / {', '.join(item.co_units) or '—'}"),
        ("状态", f"{STATE_ZH.get(item.state, item.state)}  {LIGHT_STYLE[item_light(item, now)]}"),
        ("上级事项", item.parent_number or "—"),
        ("退回 / 延期 / 催办", f"{item.returns} / {item.extensions_granted} / {item.urges}"),
    ):
        facts.add_row(f"[bold]{label}[/]", value)
    clocks = Table(title="时限")
    for header in ("时钟", "起算", "应完成", "完成", "灯", "政策 / 日历"):
        clocks.add_column(header)
    for name, d in sorted(item.deadlines.items(), key=lambda kv: kv[1].due_at):
        met = item.met.get(name)
        clocks.add_row(
            CLOCK_ZH.get(Clock(name), name) if name in CLOCK_ZH else name,
            local(d.started_at),
            local(d.due_at),
            local(met),
            LIGHT_STYLE[clock_light(d, met, now)],
            f"{d.policy_version} / {d.calendar_version}",
        )
    for name, d in sorted(item.reviews.items(), key=lambda kv: kv[1].due_at):
        clocks.add_row(
            f"审核 {name.removeprefix('review-')}",
            local(d.started_at),
            local(d.due_at),
            "",
            LIGHT_STYLE[clock_light(d, None, now)],
            f"{d.policy_version} / {d.calendar_version}",
        )
    parts: list[Any] = [facts, clocks]
    if item.children:
        kids = Table(title="分解交办")
        for header in ("编号", "承办单位", "内容", "状态", "所在节点"):
            kids.add_column(header)
        for c in item.children.values():
            kids.add_row(c.number, c.unit, c.part, STATE_ZH.get(c.state, c.state), c.host_node)
        parts.append(kids)
    timeline = Table(title="办理过程")
    for header in ("#", "时间", "事件", "操作人", "单位"):
        timeline.add_column(header)
    for e in events:
        timeline.add_row(
            str(e.originator_version), local(e.timestamp), type(e).__name__, e.actor, e.unit
        )
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
            r.number, r.title[:24], r.board, r.lead_unit, STATE_ZH.get(r.state, r.state),
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
        states = "、".join(f"{STATE_ZH.get(s, s)}{c}" for s, c in sorted(n.states.items()))
        behind = f" [red]滞后{n.behind_plan}[/]" if n.behind_plan else ""
        return f"[bold]{n.name}[/] ({n.unit}) 共{n.total}项 {lights}{behind} [dim]{states}[/]"

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
            "  " * depth + r.number, r.lead_unit, r.tier, (r.part or r.title)[:24],
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
            table.add_row(*("—" if v is None else str(v) for v in values))
        tables.append(table)
    return tables


def timeline_tables(line: Timeline) -> list[Table]:
    """An item's events (with origin node and sequence) and its clocks, due against done."""
    events = Table(title=f"{line.number} 办理过程")
    for header in ("#", "时间", "事件", "操作人", "单位", "来源节点", "序号"):
        events.add_column(header)
    for e in line.events:
        events.add_row(str(e.version), local(e.at), e.kind, e.actor, e.unit, e.origin, str(e.seq))
    clocks = Table(title="时限：应完成 / 实际完成")
    for header in ("时钟", "应完成", "完成", ""):
        clocks.add_column(header)
    for c in line.clocks:
        mark = "[red]超时[/]" if c.late else ("[dim]未完成[/]" if c.done_at is None else "✓")
        clocks.add_row(CLOCK_ZH.get(Clock(c.clock), c.clock) if c.clock in CLOCK_ZH else c.clock,
                       local(c.due_at), local(c.done_at), mark)  # fmt: skip
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
        table.add_row(r.sheet, r.number, style[r.outcome], r.message)
    return table
