"""Commands on points: close (freeze) a period, file an appeal (申诉), decide it.

The totals of a period and the deduction appealed are computed by the points projection; the
entry point reads them there and hands them in, so the application stays below the projections.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ledger13710.domain.errors import ConflictError
from ledger13710.domain.points_ledger import (
    Appeal,
    PointRef,
    PointsPeriod,
    UnitTotal,
    project_appeal,
    project_period,
)

if TYPE_CHECKING:
    from ledger13710.application.ledger import LedgerApp


def _save(app: LedgerApp, agg: PointsPeriod | Appeal, what: str) -> None:
    try:
        app.save(agg)
    except IntegrityError:
        raise ConflictError(f"{what} was changed by someone else at the same time; retry") from None


def close_period(
    app: LedgerApp, *, period: str, rules_version: str, totals: Sequence[UnitTotal], actor: str
) -> PointsPeriod:
    """Record ``period``'s totals as frozen on this node."""
    unit = app.directory.contact(actor).unit
    agg_id = PointsPeriod.id_for(app.node_id, period)
    try:
        agg: PointsPeriod = app.repository.get(agg_id, projector_func=project_period)
    except AggregateNotFoundError:
        agg = PointsPeriod(agg_id)
    agg.close_period(
        period=period, rules_version=rules_version, totals=totals, node=app.node_id,
        now=app.clock.now(), actor=actor, unit=unit,
    )  # fmt: skip
    _save(app, agg, f"period {period}")
    return agg


def _appeal(app: LedgerApp, point: PointRef) -> Appeal:
    agg_id = Appeal.id_for(point)
    try:
        agg: Appeal = app.repository.get(agg_id, projector_func=project_appeal)
    except AggregateNotFoundError:
        agg = Appeal(agg_id)
    return agg


def file_appeal(
    app: LedgerApp, *, point: PointRef, item: str, centi: int, reason: str, actor: str
) -> Appeal:
    """申诉 against one deduction (``centi`` as the projection priced it)."""
    agg = _appeal(app, point)
    agg.file(
        point=point, item=item, centi=centi, reason=reason, now=app.clock.now(), actor=actor,
        unit=app.directory.contact(actor).unit,
    )  # fmt: skip
    _save(app, agg, f"the appeal against {point.key()}")
    return agg


def decide_appeal(
    app: LedgerApp, *, point: PointRef, reverse: bool, reason: str, actor: str
) -> Appeal:
    """Uphold or reverse the appeal against ``point``."""
    agg = _appeal(app, point)
    agg.decide(
        point=point, reverse=reverse, reason=reason, now=app.clock.now(), actor=actor,
        unit=app.directory.contact(actor).unit,
    )  # fmt: skip
    _save(app, agg, f"the appeal against {point.key()}")
    return agg
