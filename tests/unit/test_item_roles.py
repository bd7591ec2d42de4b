"""Who may act on an item: the undertaking side and the reviewing side."""

from __future__ import annotations

import pytest
from domain_helpers import (
    CO,
    EMITS,
    LEAD,
    OPERATOR,
    RAISING,
    REVIEW,
    UNDERTAKING,
    assigned,
    drive_to,
    perform,
)

from ledger13710.domain import events as ev
from ledger13710.domain.errors import InputError, InvalidTransitionError
from ledger13710.domain.item import may_supervise
from ledger13710.domain.state import State

#: The state in which each action is allowed, to test its role check alone.
HOME: dict[str, State] = {
    "assign": State.REGISTERED,
    "sub-assign": State.ASSIGNED,
    "deploy": State.ASSIGNED,
    "feedback": State.DEPLOYED,
    "progress": State.IN_PROGRESS,
    "resolve": State.IN_PROGRESS,
    "plan": State.IN_PROGRESS,
    "extend": State.ASSIGNED,
    "extend-decision": State.ASSIGNED,
    "return": State.IN_PROGRESS,
    "accept-feedback": State.IN_PROGRESS,
    "urge": State.ASSIGNED,
    "close-out": State.RESOLVED,
    "cancel": State.ASSIGNED,
    "review-part": State.ASSIGNED,
}
CO_OK = ("deploy", "progress")

#: (actor unit, raising unit, may supervise)
SUPERVISION = [
    ("sx.xinzhou", "sx.xinzhou", True),  # the raising unit itself
    ("sx/transport", "sx/transport", True),  # a raising department itself
    ("sx", "sx.xinzhou", True),  # a government above
    ("sx", "sx/transport", True),  # a department's own government
    ("sx/general-office", "sx.xinzhou", True),  # general office of a government above
    ("sx/general-office", "sx.xinzhou.dingxiang/transport", True),
    ("sx.xinzhou/general-office", "sx.xinzhou", True),  # its own government's office
    ("sx/transport", "sx.xinzhou", False),  # a department above is not a supervisor
    ("sx.xinzhou/transport", "sx.xinzhou", False),  # nor a sibling department
    ("sx.xinzhou/general-office", "sx", False),  # nor an office below
    ("sx.xinzhou.dingxiang", "sx.xinzhou", False),  # nor a government below
    ("sx.taiyuan/general-office", "sx.xinzhou", False),  # nor a neighbour's office
    ("sx.taiyuan", "sx.xinzhou", False),
    ("sx.xinzhouabc/general-office", "sx.xinzhou", False),  # prefix is not containment
]


@pytest.mark.parametrize(("actor", "raising", "expected"), SUPERVISION)
def test_may_supervise(actor: str, raising: str, expected: bool) -> None:
    """The raising unit, its governments, and their general offices supervise; nobody else."""
    assert expected == may_supervise(actor, raising)


@pytest.mark.parametrize("action", UNDERTAKING)
def test_lead_unit_may_undertake(action: str) -> None:
    """Every undertaking action succeeds for the lead unit."""
    sc = drive_to(HOME[action])
    perform(sc, action, unit=LEAD)
    assert [EMITS[action]] == [type(e) for e in sc.flush()]


@pytest.mark.parametrize("action", UNDERTAKING)
def test_co_unit_only_deploys_and_reports_progress(action: str) -> None:
    """A co-unit may deploy and report progress; every other undertaking action is refused."""
    sc = drive_to(HOME[action])
    if action in CO_OK:
        perform(sc, action, unit=CO)
        assert [EMITS[action]] == [type(e) for e in sc.flush()]
        return
    with pytest.raises(InputError) as info:
        perform(sc, action, unit=CO)
    assert f"is for the lead unit ({LEAD}), not {CO}" in str(info.value)
    assert list(sc.item.collect_events()) == []


@pytest.mark.parametrize("action", UNDERTAKING)
@pytest.mark.parametrize("outsider", [RAISING, "sx", "sx.xinzhou/transport"])
def test_others_may_not_undertake(action: str, outsider: str) -> None:
    """The raising side and unrelated units cannot act for the undertaking units."""
    sc = drive_to(HOME[action])
    version = sc.item.version
    with pytest.raises(InputError) as info:
        perform(sc, action, unit=outsider)
    message = str(info.value)
    assert f"({LEAD}), not {outsider}" in message
    assert sc.state.number in message
    assert version == sc.item.version
    assert list(sc.item.collect_events()) == []


#: (actor unit, allowed) for an item raised by the Xinzhou city government
XINZHOU_REVIEWERS = [
    ("sx.xinzhou", True),
    ("sx", True),
    ("sx/general-office", True),
    ("sx.xinzhou/general-office", True),
    ("sx/transport", False),
    ("sx.xinzhou/transport", False),
    ("sx.xinzhou.dingxiang", False),
    ("sx.taiyuan/general-office", False),
]


@pytest.mark.parametrize("action", REVIEW)
@pytest.mark.parametrize(("actor", "allowed"), XINZHOU_REVIEWERS)
def test_review_actions_belong_to_the_raising_side(action: str, actor: str, allowed: bool) -> None:
    """Review actions on a Xinzhou item: Xinzhou, the province, or their general offices."""
    sc = drive_to(
        HOME[action],
        ready_for=action,
        raising_unit="sx.xinzhou",
        lead_unit="sx.xinzhou/transport",
        co_units=(),
    )
    if allowed:
        perform(sc, action, unit=actor)
        assert [EMITS[action]] == [type(e) for e in sc.flush()]
        return
    before = sc.item.version
    with pytest.raises(InputError) as info:
        perform(sc, action, unit=actor)
    message = str(info.value)
    assert "is for the raising unit (sx.xinzhou)" in message
    assert message.endswith(f"not {actor}")
    assert before == sc.item.version
    assert list(sc.item.collect_events()) == []


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [(LEAD, True), ("sx", True), (RAISING, True), (CO, False), ("sx.xinzhou", False)],
)
def test_part_review_belongs_to_the_side_that_gave_the_part(actor: str, allowed: bool) -> None:
    """A part is reviewed by the lead unit (which gave it), its government or a general office."""
    sc = drive_to(State.ASSIGNED, ready_for="review-part")
    if allowed:
        perform(sc, "review-part", unit=actor)
        assert [EMITS["review-part"]] == [type(e) for e in sc.flush()]
        return
    with pytest.raises(InputError, match=f"is for {LEAD} \\(which gave the part\\)"):
        perform(sc, "review-part", unit=actor)
    assert list(sc.item.collect_events()) == []


def test_provincial_general_office_closes_out_a_city_item() -> None:
    """sx/general-office may close out an item raised by sx.xinzhou; sx/transport may not."""
    sc = drive_to(
        State.RESOLVED, raising_unit="sx.xinzhou", lead_unit="sx.xinzhou/transport", co_units=()
    )
    with pytest.raises(InputError, match="'close-out' is for the raising unit"):
        perform(sc, "close-out", unit="sx/transport")
    perform(sc, "close-out", unit="sx/general-office")
    assert sc.state.state == State.CLOSED


def test_city_general_office_cannot_supervise_a_provincial_item() -> None:
    """sx.xinzhou/general-office may not close out, return or cancel an item raised by sx."""
    sc = drive_to(State.RESOLVED, raising_unit="sx")
    for action in ("close-out", "return", "cancel"):
        with pytest.raises(InputError, match=r"raising unit \(sx\)"):
            perform(sc, action, unit="sx.xinzhou/general-office")
    assert list(sc.item.collect_events()) == []
    assert sc.state.state == State.RESOLVED


def test_state_is_checked_before_role() -> None:
    """A wrong state is reported as such even when the unit is also wrong."""
    sc = drive_to(State.CLOSED)
    with pytest.raises(InvalidTransitionError):
        perform(sc, "deploy", unit="sx.taiyuan")


# -- where a part may go ---------------------------------------------------------------------


@pytest.mark.parametrize("to_unit", ["sx.xinzhou", "sx.xinzhou.dingxiang/transport"])
def test_sub_assign_within_lead_government(to_unit: str) -> None:
    """A part may go to any unit under the lead unit's government, once."""
    sc = assigned()
    sc.item.sub_assign(
        child_number="c-1",
        to_unit=to_unit,
        part="p",
        host_node="sx",
        now=sc.tick(),
        actor=OPERATOR,
        unit=LEAD,
    )
    with pytest.raises(InputError, match="already has a part"):
        sc.item.sub_assign(
            child_number="c-2",
            to_unit=to_unit,
            part="q",
            host_node="sx",
            now=sc.tick(),
            actor=OPERATOR,
            unit=LEAD,
        )
    assert [ev.SubAssigned] == [type(e) for e in sc.flush()]


@pytest.mark.parametrize(
    "to_unit",
    ["sx.taiyuan", "sx.xinzhou/transport", "sx.xinzhou.dingxiangabc", "sx.xinzhou.dingxiang"],
)
def test_sub_assign_outside_lead_government_is_refused(to_unit: str) -> None:
    """A county-led item cannot hand a part outside the county, nor to the lead itself."""
    sc = assigned(raising_unit="sx", lead_unit="sx.xinzhou.dingxiang", co_units=())
    with pytest.raises(InputError, match="a part can go only to a unit under"):
        sc.item.sub_assign(
            child_number="c-1",
            to_unit=to_unit,
            part="p",
            host_node="sx",
            now=sc.tick(),
            actor=OPERATOR,
            unit="sx.xinzhou.dingxiang",
        )
    assert list(sc.item.collect_events()) == []
