"""Periods and appeals as recorded decisions: who may close, appeal and decide, and only once."""

from __future__ import annotations

from datetime import datetime

import pytest

from ledger13710.domain.errors import ConflictError, InputError
from ledger13710.domain.points_ledger import (
    Appeal,
    AppealDecided,
    AppealFiled,
    PeriodClosed,
    PointRef,
    PointsPeriod,
    UnitTotal,
    project_appeal,
)
from ledger13710.domain.types import SHANGHAI

NOW = datetime(2017, 1, 5, 10, tzinfo=SHANGHAI)
POINT = PointRef(origin="sx", seq=12, unit="sx/transport", rule="urged", clock="")


def filed() -> Appeal:
    """An appeal of transport against its urge deduction, filed and saved."""
    appeal = Appeal(Appeal.id_for(POINT))
    appeal.file(
        point=POINT, item="sx-2016-0001", centi=-100, reason="the urge came after we resolved",
        now=NOW, actor="sx-transport-head", unit="sx/transport",
    )  # fmt: skip
    (event,) = appeal.collect_events()
    assert isinstance(event, AppealFiled)
    reloaded = project_appeal(None, [event])
    assert reloaded is not None
    return reloaded


def test_closing_a_period_records_the_totals_once() -> None:
    """The general office closes 2016 with the totals given; a second close is refused."""
    period = PointsPeriod(PointsPeriod.id_for("sx", "2016"))
    totals = [UnitTotal(unit="sx/transport", centi=1475, points=12)]
    period.close_period(
        period="2016", rules_version="points-v1", totals=totals, node="sx", now=NOW,
        actor="sx-general-office-sup1", unit="sx/general-office",
    )  # fmt: skip
    (event,) = period.collect_events()
    assert isinstance(event, PeriodClosed)
    assert (event.period, event.rules_version, event.totals) == ("2016", "points-v1", (totals[0],))
    with pytest.raises(ConflictError, match="already closed"):
        period.close_period(
            period="2016", rules_version="points-v1", totals=totals, node="sx", now=NOW,
            actor="sx-general-office-sup1", unit="sx/general-office",
        )  # fmt: skip


def test_a_department_cannot_close_a_period() -> None:
    """Closing is for the node's government or its general office, not a department."""
    period = PointsPeriod(PointsPeriod.id_for("sx", "2016"))
    with pytest.raises(InputError, match="not sx/transport"):
        period.close_period(
            period="2016", rules_version="points-v1", totals=[], node="sx", now=NOW,
            actor="sx-transport-head", unit="sx/transport",
        )  # fmt: skip
    assert list(period.collect_events()) == []


@pytest.mark.parametrize(
    ("unit", "centi", "reason", "message"),
    [
        ("sx/public-security", -100, "why", "only sx/transport may appeal"),
        ("sx/transport", 100, "why", "not a deduction"),
        ("sx/transport", -100, " ", "missing the reasons"),
    ],
)
def test_only_the_unit_appeals_its_own_deductions_with_reasons(
    unit: str, centi: int, reason: str, message: str
) -> None:
    """Another unit, an award, or no reason: the appeal is refused and nothing is emitted."""
    appeal = Appeal(Appeal.id_for(POINT))
    with pytest.raises(InputError, match=message):
        appeal.file(
            point=POINT, item="sx-2016-0001", centi=centi, reason=reason, now=NOW,
            actor="someone", unit=unit,
        )  # fmt: skip
    assert list(appeal.collect_events()) == []


@pytest.mark.parametrize("unit", ["sx/transport", "sx/public-security", "sx.xinzhou"])
def test_an_unauthorised_unit_cannot_decide_an_appeal(unit: str) -> None:
    """Neither the appealing unit, nor a sibling department, nor a city decides it."""
    appeal = filed()
    with pytest.raises(InputError, match="decided by its government"):
        appeal.decide(point=POINT, reverse=True, reason="ok", now=NOW, actor="x", unit=unit)
    assert list(appeal.collect_events()) == []


def test_a_supervisor_reverses_an_appeal_once() -> None:
    """The general office reverses the deduction; deciding again is refused."""
    appeal = filed()
    appeal.decide(
        point=POINT, reverse=True, reason="the urge was sent by mistake", now=NOW,
        actor="sx-general-office-sup1", unit="sx/general-office",
    )  # fmt: skip
    (event,) = appeal.collect_events()
    assert isinstance(event, AppealDecided)
    assert (event.reversed, event.point, event.originator_version) == (True, POINT, 2)
    with pytest.raises(ConflictError, match="already decided"):
        appeal.decide(point=POINT, reverse=False, reason="no", now=NOW, actor="s", unit="sx")


def test_an_appeal_never_filed_cannot_be_decided() -> None:
    """Deciding a point nobody appealed names the point."""
    appeal = Appeal(Appeal.id_for(POINT))
    with pytest.raises(InputError, match="no appeal against point sx:12:sx/transport:urged:"):
        appeal.decide(point=POINT, reverse=True, reason="ok", now=NOW, actor="s", unit="sx")
