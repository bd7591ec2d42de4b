"""The ledger (台账) as queries over the ``items`` view: filters, sorting, paging, lights.

Lights are computed in SQL at query time from the stored due columns (see
:mod:`ledger13710.projections.rows`), the same way :func:`ledger13710.domain.lights.item_light`
computes them from an item's state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ledger13710.domain.errors import InputError, NotFoundError
from ledger13710.domain.state import FINISHED
from ledger13710.projections.rows import from_us_opt, us
from ledger13710.projections.store import ReadStore

_DONE = ", ".join(f"'{s.value}'" for s in FINISHED)
LIGHT_SQL = (
    f"CASE WHEN state IN ({_DONE}) THEN 'done' "
    "WHEN next_due_at IS NOT NULL AND :now > next_due_at THEN 'red' "
    "WHEN yellow_at IS NOT NULL AND :now >= yellow_at THEN 'yellow' ELSE 'green' END"
)
BEHIND_SQL = "(plan_behind_at IS NOT NULL AND :now > plan_behind_at)"
OVERDUE_SQL = "(next_due_at IS NOT NULL AND :now > next_due_at)"

SORTS = {
    "number": "number",
    "registered": "registered_at, number",
    "due": "next_due_at IS NULL, next_due_at, number",
    "updated": "updated_at, number",
    "board": "board, number",
    "unit": "lead_unit, number",
    "state": "state, number",
    "returns": "returns, number",
}
_COLUMNS = (
    "number, title, detail, source, board, severity, raising_unit, lead_unit, co_units, tier, "
    "year, state, parent_number, part, registered_at, finished_at, deploy_due, deploy_done, "
    "feedback_due, feedback_done, resolve_due, resolve_done, plan_due, plan_done, returns, "
    f"extensions_requested, extensions_granted, urges, {LIGHT_SQL}, {BEHIND_SQL}"
)
#: Walk the sort order's index (rather than sort the matches) when at least this many times
#: the rows up to the page's end match: it then meets the page after a small share of items.
_WALK = 4
CLOCK_NAMES = ("deploy", "feedback", "resolve", "plan")


class ClockCell(msgspec.Struct, frozen=True, kw_only=True):
    """One clock of a ledger row: when it is due and when it was met."""

    due_at: datetime | None
    done_at: datetime | None


class LedgerRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the 台账."""

    number: str
    title: str
    detail: str
    source: str
    board: str
    severity: str
    raising_unit: str
    lead_unit: str
    co_units: list[str]
    tier: str
    year: int
    state: str
    parent_number: str
    part: str
    registered_at: datetime
    finished_at: datetime | None
    clocks: dict[str, ClockCell]
    returns: int
    extensions_requested: int
    extensions_granted: int
    urges: int
    light: str
    behind_plan: bool


class LedgerPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of the ledger and how many rows match in all."""

    total: int
    page: int
    page_size: int
    items: list[LedgerRow]


class LedgerQuery(msgspec.Struct, kw_only=True):
    """Filters, order and page of a ledger query (None or False: no filter)."""

    board: str | None = None
    tier: str | None = None
    unit: str | None = None  # leads or co-handles
    within: str | None = None  # lead unit in this government's subtree
    state: str | None = None
    severity: str | None = None
    year: int | None = None
    overdue: bool = False
    light: str | None = None
    behind_plan: bool = False
    sort: str = "number"
    descending: bool = False
    page: int = 1
    page_size: int = 50  # 0: every row

    def where(self, now: datetime, *, in_order: bool = False) -> tuple[str, dict[str, Any]]:
        """The WHERE clause and its parameters.

        ``in_order``: keep the planner off the filter columns' indexes (a unary ``+``), so it
        walks the sort order's index and stops after the page, testing the filters on the
        index's own columns; right when many rows match.
        """
        params: dict[str, Any] = {"now": us(now)}
        parts = []
        plus = "+" if in_order else ""
        for col in ("board", "tier", "state", "severity", "year"):
            value = getattr(self, col)
            if value is not None:
                parts.append(f"{plus}{col} = :{col}")
                params[col] = value
        if self.unit:
            parts.append(
                "(lead_unit = :unit OR instr(',' || co_units || ',', ',' || :unit || ',') > 0)"
            )
            params["unit"] = self.unit
        if self.within:
            parts.append("(lead_unit = :w OR lead_unit LIKE :wd OR lead_unit LIKE :ws)")
            params.update(w=self.within, wd=self.within + ".%", ws=self.within + "/%")
        if self.overdue:
            parts.append(OVERDUE_SQL.replace("next_due_at", plus + "next_due_at"))
        if self.light:
            parts.append(f"({LIGHT_SQL}) = :light")
            params["light"] = self.light
        if self.behind_plan:
            parts.append(BEHIND_SQL)
        return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _row(r: tuple[Any, ...]) -> LedgerRow:
    (number, title, detail, source, board, severity, raising, lead, co, tier, year, state,
     parent, part, registered, finished, *clocks) = r[:24]  # fmt: skip
    returns, ext_req, ext_granted, urges, light, behind = r[24:]
    cells = {
        name: ClockCell(due_at=from_us_opt(clocks[2 * i]), done_at=from_us_opt(clocks[2 * i + 1]))
        for i, name in enumerate(CLOCK_NAMES)
    }
    return LedgerRow(
        number=number, title=title, detail=detail, source=source, board=board,
        severity=severity, raising_unit=raising, lead_unit=lead,
        co_units=[c for c in co.split(",") if c], tier=tier, year=year, state=state,
        parent_number=parent, part=part, registered_at=from_us_opt(registered),  # type: ignore[arg-type]
        finished_at=from_us_opt(finished), clocks=cells, returns=returns,
        extensions_requested=ext_req, extensions_granted=ext_granted, urges=urges, light=light,
        behind_plan=bool(behind),
    )  # fmt: skip


async def ledger_page(store: ReadStore, query: LedgerQuery, now: datetime) -> LedgerPage:
    """One page of the ledger at ``now``."""
    if query.sort not in SORTS:
        raise InputError(f"unknown sort {query.sort!r}; choose one of: {', '.join(SORTS)}")
    if query.page < 1 or query.page_size < 0:
        raise InputError("--page starts at 1 and --page-size is 0 (all) or more")
    where, params = query.where(now)
    counted = await store.fetchone(f"SELECT count(*) FROM items{where}", params)
    total = int(counted[0]) if counted else 0
    offset = (query.page - 1) * query.page_size
    if query.page_size and total >= _WALK * (offset + query.page_size):
        where, params = query.where(now, in_order=True)
    order = ", ".join(
        f"{c} DESC" if query.descending and c != "next_due_at IS NULL" else c
        for c in SORTS[query.sort].split(", ")
    )
    sql = f"SELECT {_COLUMNS} FROM items{where} ORDER BY {order}"
    if query.page_size:
        sql += " LIMIT :limit OFFSET :offset"
        params.update(limit=query.page_size, offset=offset)
    rows = await store.fetchall(sql, params) if offset < total else []  # past the end
    return LedgerPage(
        total=total,
        page=query.page,
        page_size=query.page_size,
        items=[_row(r) for r in rows],
    )


async def ledger_row(store: ReadStore, number: str, now: datetime) -> LedgerRow:
    """The ledger row of item ``number``."""
    rows = await store.fetchall(
        f"SELECT {_COLUMNS} FROM items WHERE number = :number", {"now": us(now), "number": number}
    )
    if not rows:
        raise NotFoundError(f"no item {number!r} in this node's views")
    return _row(rows[0])


async def chain(store: ReadStore, number: str, now: datetime) -> list[tuple[int, LedgerRow]]:
    """A sub-assigned item's chain across tiers: its ancestors, itself, its parts (by depth)."""
    top = await ledger_row(store, number, now)
    while top.parent_number:
        try:
            top = await ledger_row(store, top.parent_number, now)
        except NotFoundError:
            break  # the parent lives above this node: the chain starts here
    found: list[tuple[int, LedgerRow]] = []
    stack = [(0, top)]
    while stack:
        depth, row = stack.pop()
        found.append((depth, row))
        kids = await store.fetchall(
            f"SELECT {_COLUMNS} FROM items WHERE parent_number = :p ORDER BY number DESC",
            {"now": us(now), "p": row.number},
        )
        stack.extend((depth + 1, _row(k)) for k in kids)
    return found
