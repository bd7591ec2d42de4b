"""Recorded decisions about points: a period closed (frozen), a deduction appealed (申诉).

Both are aggregates of their own in the node's log (topics ``ledger13710.points.<Name>.v1``),
so they replicate upward and are audited like every record.

* :class:`PointsPeriod`: closing a period records each unit's total as computed then, with the
  rules version. The record never changes: rules changed later re-price open periods by replay,
  and show beside a frozen period what it would be now, without altering it.
* :class:`Appeal`: the unit that lost points contests one deduction with reasons; a supervisor
  of that unit upholds or reverses it. A reversed deduction no longer counts (the projection
  leaves it out, and shows it as reversed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

import msgspec

from ledger13710.domain.errors import ConflictError, InputError
from ledger13710.domain.events import ItemEvent, event
from ledger13710.domain.lifecycle import may_supervise

#: Namespace of period and appeal ids; never change it.
POINTS_NAMESPACE = UUID("9b2d1c7e-13a7-4c10-9a1d-7a3b0f13c714")


class UnitTotal(msgspec.Struct, frozen=True, kw_only=True):
    """One unit's total (hundredths) and number of points in a closed period."""

    unit: str
    centi: int
    points: int


class PointRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which point: the record that earned it, the unit, the rule and the clock."""

    origin: str
    seq: int
    unit: str
    rule: str
    clock: str = ""

    def key(self) -> str:
        """A stable text form, the appeal's identity."""
        return f"{self.origin}:{self.seq}:{self.unit}:{self.rule}:{self.clock}"


@event("PeriodClosed", kind="points")
class PeriodClosed(ItemEvent, frozen=True, kw_only=True):
    """A points period closed: each unit's total as computed at closing, frozen."""

    period: str
    rules_version: str
    totals: tuple[UnitTotal, ...]


@event("AppealFiled", kind="points")
class AppealFiled(ItemEvent, frozen=True, kw_only=True):
    """申诉: a unit contests one of its deductions, with reasons."""

    point: PointRef
    item: str
    centi: int  # the deduction as priced when the appeal was filed
    reason: str


@event("AppealDecided", kind="points")
class AppealDecided(ItemEvent, frozen=True, kw_only=True):
    """A supervisor upholds the deduction or reverses it, with reasons."""

    point: PointRef
    reversed: bool
    reason: str


class _Aggregate:
    """An id, a version, and the events emitted since the last save."""

    def __init__(self, agg_id: UUID, version: int = 0) -> None:
        self.id = agg_id
        self.version = version
        self._pending: list[ItemEvent] = []

    def collect_events(self) -> Sequence[ItemEvent]:
        """Hand over the events emitted since the last save."""
        pending, self._pending = self._pending, []
        return pending

    def _emit(self, cls: type[ItemEvent], now: datetime, actor: str, unit: str, **f: Any) -> None:
        self.version += 1
        self._pending.append(
            cls(originator_id=self.id, originator_version=self.version, timestamp=now,
                actor=actor, unit=unit, **f)
        )  # fmt: skip


class PointsPeriod(_Aggregate):
    """One period of one node: open until closed, then frozen."""

    @staticmethod
    def id_for(node: str, period: str) -> UUID:
        """Aggregate id of ``period`` on ``node``."""
        return uuid5(POINTS_NAMESPACE, f"period:{node}:{period}")

    def close_period(
        self, *, period: str, rules_version: str, totals: Iterable[UnitTotal], node: str,
        now: datetime, actor: str, unit: str,
    ) -> None:  # fmt: skip
        """Freeze ``period`` with these totals; only the node's government or general office."""
        if self.version:
            raise ConflictError(f"period {period} of node {node} is already closed")
        if not may_supervise(unit, node):
            raise InputError(
                f"closing a period is for the government {node} or its general office, not {unit}"
            )
        self._emit(
            PeriodClosed, now, actor, unit,
            period=period, rules_version=rules_version, totals=tuple(totals),
        )  # fmt: skip


class Appeal(_Aggregate):
    """One deduction contested: filed, then decided once."""

    def __init__(self, agg_id: UUID, version: int = 0, point_unit: str = "") -> None:
        super().__init__(agg_id, version)
        self.point_unit = point_unit

    @staticmethod
    def id_for(point: PointRef) -> UUID:
        """Aggregate id of the appeal against ``point`` (one per point)."""
        return uuid5(POINTS_NAMESPACE, f"appeal:{point.key()}")

    def file(
        self, *, point: PointRef, item: str, centi: int, reason: str, now: datetime, actor: str,
        unit: str,
    ) -> None:  # fmt: skip
        """申诉: by the unit that lost the points, against a deduction, with a reason."""
        if self.version:
            raise ConflictError(f"point {point.key()} is already appealed")
        if unit != point.unit:
            raise InputError(f"only {point.unit} may appeal its own points, not {unit}")
        if centi >= 0:
            raise InputError(f"point {point.key()} is not a deduction: nothing to appeal")
        if not reason.strip():
            raise InputError("missing the reasons of the appeal", field="reason")
        self.point_unit = point.unit
        self._emit(
            AppealFiled, now, actor, unit, point=point, item=item, centi=centi, reason=reason
        )

    def decide(
        self, *, point: PointRef, reverse: bool, reason: str, now: datetime, actor: str, unit: str
    ) -> None:
        """Uphold or reverse, by a supervisor of the appealing unit (never the unit itself)."""
        if self.version == 0:
            raise InputError(f"no appeal against point {point.key()}")
        if self.version > 1:
            raise ConflictError(f"the appeal against point {point.key()} is already decided")
        if unit == self.point_unit or not may_supervise(unit, self.point_unit):
            raise InputError(
                f"an appeal of {self.point_unit} is decided by its government or a general "
                f"office above it, not {unit}"
            )
        if not reason.strip():
            raise InputError("missing the reasons of the decision", field="reason")
        self._emit(AppealDecided, now, actor, unit, point=point, reversed=reverse, reason=reason)


def project_period(agg: PointsPeriod | None, events: Iterable[Any]) -> PointsPeriod | None:
    """Fold a period's events: only whether (and at which version) it is closed matters."""
    for e in events:
        agg = agg or PointsPeriod(e.originator_id)
        agg.version = e.originator_version
    return agg


def project_appeal(agg: Appeal | None, events: Iterable[Any]) -> Appeal | None:
    """Fold an appeal's events: its version and the unit it is about."""
    for e in events:
        agg = agg or Appeal(e.originator_id)
        agg.version = e.originator_version
        agg.point_unit = e.point.unit
    return agg
