"""Statistics of the ledger: counts per year, board, tier and unit; on-time rate per clock;
the close-out ("zero-cleared", 销号清零) rate; open items by age; days to resolve; returns and
extensions. All from the ``items`` view (one row per item, with its clocks in columns).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ledger13710.domain.state import FINISHED, State
from ledger13710.projections.queries import LedgerQuery
from ledger13710.projections.store import ReadStore

_DAY_US = 86_400 * 1_000_000
_DONE = ", ".join(f"'{s.value}'" for s in FINISHED)
#: States in which no clock runs (see :meth:`ItemState.open_clocks`).
_STOPPED = ", ".join(f"'{s.value}'" for s in (*sorted(FINISHED), State.RESOLVED))
AGE_BUCKETS = ((0, 7, "0-7"), (8, 30, "8-30"), (31, 90, "31-90"), (91, 10**6, ">90"))


class Count(msgspec.Struct, frozen=True):
    """A key and how many items have it."""

    key: str
    items: int


class ClockStat(msgspec.Struct, frozen=True, kw_only=True):
    """How one clock fared: met on time or late, and open ones already overdue."""

    clock: str
    total: int
    met: int
    on_time: int
    late: int
    open_overdue: int
    on_time_rate: float | None  # on_time / (met + open_overdue): of the clocks decided so far


class Stats(msgspec.Struct, frozen=True, kw_only=True):
    """Everything ``ledger13710 stats`` reports."""

    total: int
    headline: str
    by_year: list[Count]
    by_board: list[Count]
    by_tier: list[Count]
    by_unit: list[Count]
    by_state: list[Count]
    clocks: list[ClockStat]
    closed: int
    cancelled: int
    close_out_rate: float | None  # closed / (total - cancelled)
    open_by_age: list[Count]
    avg_days_to_resolve: float | None
    avg_days_to_close_out: float | None
    items_returned: int
    returns: int
    extensions_requested: int
    extensions_granted: int
    items_extended: int


def headline(total: int, by_year: list[Count]) -> str:
    """The seed's kind of sentence: 共交办事项746件（2016年380件、2017年366件）."""
    years = "、".join(f"{c.key}年{c.items}件" for c in by_year)
    return f"共交办事项{total}件" + (f"（{years}）" if len(by_year) > 1 else "")


def _clock_stat(
    kind: str, total: int, met: int, ot: int | None, lt: int | None, od: int | None
) -> ClockStat:
    on_time, late, overdue = int(ot or 0), int(lt or 0), int(od or 0)
    decided = met + overdue
    return ClockStat(
        clock=kind,
        total=total,
        met=met,
        on_time=on_time,
        late=late,
        open_overdue=overdue,
        on_time_rate=round(on_time / decided, 4) if decided else None,
    )


async def _counts(store: ReadStore, col: str, where: str, p: dict[str, Any]) -> list[Count]:
    rows = await store.fetchall(
        f"SELECT {col}, count(*) FROM items{where} GROUP BY 1 ORDER BY 1", p
    )
    return [Count(str(k), int(n)) for k, n in rows]


def _standing_sql(col: str) -> str:
    """total, met, on time, late, open and overdue of one standing clock's columns."""
    due, done = f"{col}_due", f"{col}_done"
    superseded = " AND plan_due IS NULL" if col == "resolve" else ""  # the plan target runs
    is_open = f"{due} IS NOT NULL AND {done} IS NULL AND state NOT IN ({_STOPPED}){superseded}"
    return (
        f"count({due}), count({done}), sum({done} <= {due}), sum({done} > {due}), "
        f"sum({is_open} AND :now > {due})"
    )


_STANDING = ("deploy", "feedback", "resolve", "plan")
_CLOCKS_SQL = (
    "SELECT "
    + ", ".join(_standing_sql(c) for c in _STANDING)
    + ", sum(ms_total), sum(ms_met), sum(ms_on_time), sum(ms_late), "
    "sum((SELECT count(*) FROM json_each(ms_open) WHERE value < :now))"
)


async def _clock_stats(store: ReadStore, where: str, p: dict[str, Any]) -> list[ClockStat]:
    """Per clock family, from the items' clock columns: deploy, feedback, resolve, plan (the
    plan target) and milestone, each only when some selected item has such a clock.

    A clock is open while it is unmet and its item is neither finished nor resolved (and, for
    the resolve clock, no plan target supersedes it), as in :meth:`ItemState.open_clocks`.
    """
    row = await store.fetchone(f"{_CLOCKS_SQL} FROM items{where}", p)
    if row is None:
        return []
    stats = []
    for i, kind in enumerate((*_STANDING, "milestone")):
        total, met, ot, lt, od = row[5 * i : 5 * i + 5]
        if total:
            stats.append(_clock_stat(kind, int(total), int(met or 0), ot, lt, od))
    return stats


async def statistics(store: ReadStore, query: LedgerQuery, now: datetime) -> Stats:
    """The statistics of the items ``query`` selects (its order and page are ignored)."""
    where, p = query.where(now)
    total = await _counts(store, "'all'", where, p)
    by_year = await _counts(store, "year", where, p)
    n = total[0].items if total else 0
    states = await _counts(store, "state", where, p)
    count_of = {c.key: c.items for c in states}
    closed, cancelled = count_of.get(State.CLOSED, 0), count_of.get(State.CANCELLED, 0)
    clocks = await _clock_stats(store, where, p)
    open_where = (where + " AND " if where else " WHERE ") + f"state NOT IN ({_DONE})"
    ages = await store.fetchall(
        f"SELECT (:now - registered_at) / {_DAY_US} FROM items{open_where}", p
    )
    by_age = [
        Count(label, sum(1 for (d,) in ages if lo <= d <= hi)) for lo, hi, label in AGE_BUCKETS
    ]
    agg = await store.fetchone(
        f"SELECT avg(resolved_at - registered_at), "
        f"avg(CASE WHEN state = 'closed' THEN finished_at - registered_at END), "
        "sum(returns > 0), sum(returns), sum(extensions_requested), sum(extensions_granted), "
        f"sum(extensions_granted > 0) FROM items{where}",
        p,
    )
    a = agg or (None,) * 7
    return Stats(
        total=n,
        headline=headline(n, by_year),
        by_year=by_year,
        by_board=await _counts(store, "board", where, p),
        by_tier=await _counts(store, "tier", where, p),
        by_unit=await _counts(store, "lead_unit", where, p),
        by_state=states,
        clocks=clocks,
        closed=closed,
        cancelled=cancelled,
        close_out_rate=round(closed / (n - cancelled), 4) if n - cancelled else None,
        open_by_age=by_age,
        avg_days_to_resolve=None if a[0] is None else round(a[0] / _DAY_US, 2),
        avg_days_to_close_out=None if a[1] is None else round(a[1] / _DAY_US, 2),
        items_returned=int(a[2] or 0),
        returns=int(a[3] or 0),
        extensions_requested=int(a[4] or 0),
        extensions_granted=int(a[5] or 0),
        items_extended=int(a[6] or 0),
    )
