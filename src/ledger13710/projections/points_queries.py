"""What the points projection answers: scores per unit and period, rankings, and the events
behind a score.

A period is a year (``2026``), a quarter (``2026-Q1``) or a month (``2026-03``) of Shanghai
local time; a point belongs to the period of the event that earned it. Rankings order units by
total (ties share a rank), within one tier and one kind (governments, or departments) unless
asked otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec

from ledger13710.domain.cases import Fact
from ledger13710.domain.directory import is_within
from ledger13710.domain.errors import InputError
from ledger13710.domain.policy import add_months
from ledger13710.domain.types import SHANGHAI
from ledger13710.projections.points import PointsStore
from ledger13710.projections.rows import from_us, us

#: A reversed appeal against point ``p`` (the point no longer counts).
_REVERSED = (
    "SELECT 1 FROM appeal_decisions d WHERE d.reversed = 1 AND d.origin = p.origin "
    "AND d.seq = p.seq AND d.unit = p.unit AND d.rule = p.rule AND d.clock = p.clock"
)
_PERIOD = re.compile(r"(\d{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?")


@dataclass(frozen=True)
class Period:
    """A year, quarter or month: ``[start, end)`` in Shanghai local time."""

    name: str
    start: datetime
    end: datetime


def parse_period(text: str) -> Period:
    """``2026``, ``2026-Q2`` or ``2026-05``; anything else is an :class:`InputError`."""
    match = _PERIOD.fullmatch(text.strip())
    if match is None:
        raise InputError(f"bad period {text!r}: write a year 2026, a quarter 2026-Q2 or 2026-05")
    year, quarter, month = match.groups()
    first, months = date(int(year), 1, 1), 12
    if quarter:
        first, months = date(int(year), 3 * int(quarter) - 2, 1), 3
    elif month:
        first, months = date(int(year), int(month), 1), 1
    last = add_months(first, months)
    start = datetime(first.year, first.month, 1, tzinfo=SHANGHAI)
    return Period(text.strip(), start, datetime(last.year, last.month, 1, tzinfo=SHANGHAI))


class UnitScore(msgspec.Struct, frozen=True, kw_only=True):
    """One unit's points in a period (hundredths), and its rank among the units compared."""

    unit: str
    tier: str
    kind: str
    rank: int
    total: int
    awarded: int
    deducted: int
    points: int  # how many point rows


class PointLine(msgspec.Struct, frozen=True, kw_only=True):
    """One point and the event that earned it: the drill-down from a score."""

    at: datetime
    item: str
    item_id: str
    version: int
    origin: str
    seq: int
    topic: str
    rule: str
    rules_version: str
    clock: str
    quantity: int
    centi: int
    reversed: bool = False  # an appeal reversed it: shown, no longer counted


class FrozenTotal(msgspec.Struct, frozen=True, kw_only=True):
    """A unit's total as recorded when its period was closed (and by which record)."""

    node: str
    unit: str
    centi: int
    points: int
    rules_version: str
    origin: str
    seq: int
    closed_at: datetime


@dataclass(frozen=True)
class ScoreQuery:
    """Which units to compare: a tier, a kind, a subtree (``within``)."""

    period: Period
    tier: str | None = None
    kind: str | None = None  # "government" or "department"
    within: str | None = None


async def scores(store: PointsStore, q: ScoreQuery) -> list[UnitScore]:
    """Each unit's total in the period, ranked within its (tier, kind) group, best first."""
    sql = (
        "SELECT unit, tier, kind, SUM(centi), SUM(MAX(centi, 0)), SUM(MIN(centi, 0)), COUNT(*) "
        f"FROM points p WHERE at >= ? AND at < ? AND NOT EXISTS ({_REVERSED})"
    )
    params: list[object] = [us(q.period.start), us(q.period.end)]
    if q.tier:
        sql += " AND tier = ?"
        params.append(q.tier)
    if q.kind:
        sql += " AND kind = ?"
        params.append(q.kind)
    rows = await store.fetchall(sql + " GROUP BY unit", params)
    found = [r for r in rows if q.within is None or is_within(str(r[0]), q.within)]
    found.sort(key=lambda r: (str(r[1]), str(r[2]), -int(r[3]), str(r[0])))
    totals: dict[tuple[str, str], list[int]] = {}
    for r in found:
        totals.setdefault((str(r[1]), str(r[2])), []).append(int(r[3]))
    return [
        UnitScore(
            unit=str(unit), tier=str(tier), kind=str(kind),
            rank=1 + sum(1 for t in totals[(str(tier), str(kind))] if t > int(total)),
            total=int(total), awarded=int(awarded), deducted=int(deducted), points=int(count),
        )
        for unit, tier, kind, total, awarded, deducted, count in found
    ]  # fmt: skip


async def explain(store: PointsStore, unit: str, period: Period) -> list[PointLine]:
    """Every point of ``unit`` in the period, oldest first, each with its event."""
    rows = await store.fetchall(
        "SELECT at, item, item_id, version, origin, seq, topic, rule, rules_version, clock, "
        f"quantity, centi, EXISTS ({_REVERSED}) FROM points p "
        "WHERE unit = ? AND at >= ? AND at < ? ORDER BY at, origin, seq, rule",
        (unit, us(period.start), us(period.end)),
    )
    return _lines(rows)


def _lines(rows: list[tuple[Any, ...]]) -> list[PointLine]:
    return [
        PointLine(
            at=from_us(int(r[0])), item=str(r[1]), item_id=str(r[2]), version=int(r[3]),
            origin=str(r[4]), seq=int(r[5]), topic=str(r[6]), rule=str(r[7]),
            rules_version=str(r[8]), clock=str(r[9]), quantity=int(r[10]), centi=int(r[11]),
            reversed=bool(r[12]),
        )
        for r in rows
    ]  # fmt: skip


async def find_point(
    store: PointsStore, origin: str, seq: int, unit: str, rule: str, clock: str
) -> PointLine | None:
    """The point earned by record ``origin:seq`` for ``unit`` under ``rule`` and ``clock``."""
    rows = await store.fetchall(
        "SELECT at, item, item_id, version, origin, seq, topic, rule, rules_version, clock, "
        f"quantity, centi, EXISTS ({_REVERSED}) FROM points p "
        "WHERE origin = ? AND seq = ? AND unit = ? AND rule = ? AND clock = ?",
        (origin, seq, unit, rule, clock),
    )
    return _lines(rows)[0] if rows else None


async def facts(store: PointsStore, period: Period) -> list[Fact]:
    """Every point of the period that still counts, as a fact the case triggers read."""
    rows = await store.fetchall(
        "SELECT unit, item, rule, clock, quantity, origin, seq, topic, at FROM points p "
        f"WHERE at >= ? AND at < ? AND NOT EXISTS ({_REVERSED}) ORDER BY at, origin, seq",
        (us(period.start), us(period.end)),
    )
    return [
        Fact(unit=str(r[0]), item=str(r[1]), rule=str(r[2]), clock=str(r[3]),
             quantity=int(r[4]), origin=str(r[5]), seq=int(r[6]), topic=str(r[7]),
             at=from_us(int(r[8])))
        for r in rows
    ]  # fmt: skip


async def frozen(store: PointsStore, period: str) -> list[FrozenTotal]:
    """The totals recorded when ``period`` was closed (on any node of the subtree)."""
    rows = await store.fetchall(
        "SELECT node, unit, centi, points, rules_version, origin, seq, closed_at FROM frozen "
        "WHERE period = ? ORDER BY node, centi DESC, unit",
        (period,),
    )
    return [
        FrozenTotal(
            node=str(r[0]), unit=str(r[1]), centi=int(r[2]), points=int(r[3]),
            rules_version=str(r[4]), origin=str(r[5]), seq=int(r[6]), closed_at=from_us(int(r[7])),
        )
        for r in rows
    ]  # fmt: skip


def points_text(centi: int) -> str:
    """Hundredths as a signed decimal: ``+2.50``, ``-0.75``, ``0.00``."""
    sign = "-" if centi < 0 else ("+" if centi > 0 else "")
    whole, cents = divmod(abs(centi), 100)
    return f"{sign}{whole}.{cents:02d}"
