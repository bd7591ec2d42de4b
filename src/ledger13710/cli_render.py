"""How the CLI shows things: rich tables for people, JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from ledger13710.domain import events as ev
from ledger13710.domain.lights import Light, behind_plan, clock_light, item_light, met_late
from ledger13710.domain.state import ItemState
from ledger13710.domain.types import SHANGHAI, Clock

STATE_ZH = {
    "registered": "已立项",
    "assigned": "已交办",
    "deployed": "已部署",
    "in_progress": "办理中",
    "planned": "按计划推进",
    "resolved": "已办结待审",
    "closed": "已销号",
    "cancelled": "已撤销",
}
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
