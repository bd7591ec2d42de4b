"""Accountability cases: triggers open a case exactly when their conditions hold, once for the
same facts; the procedure runs in order, each step by an authorised role."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

import pytest

from ledger13710.domain.cases import (
    AccountabilityRules,
    Case,
    CaseDecided,
    CaseProposed,
    CaseState,
    Fact,
    Proposal,
    parse_accountability,
    project_case,
    proposals,
)
from ledger13710.domain.directory import Contact
from ledger13710.domain.errors import ConfigError, InputError, InvalidTransitionError
from ledger13710.domain.types import SHANGHAI

NOW = datetime(2016, 4, 2, 10, tzinfo=SHANGHAI)
SUP = Contact(id="sup", name="", phone="", role="supervisor", unit="sx/general-office")
HEAD = Contact(id="head", name="", phone="", role="head", unit="sx")
DEPT_HEAD = Contact(id="dh", name="", phone="", role="head", unit="sx/transport")
SUBJECT = "sx/public-security"


def rules() -> AccountabilityRules:
    """The shipped example rules."""
    text = resources.files("ledger13710").joinpath("data/accountability-v1.toml").read_text()
    return parse_accountability(text, "accountability-v1.toml")


def fact(rule: str, seq: int, *, quantity: int = 1, month: int = 3) -> Fact:
    """A priced fact of public security's item, at the start of ``month`` 2016."""
    return Fact(unit=SUBJECT, item="sx-2016-0002", rule=rule, clock="resolve", quantity=quantity,
                origin="sx", seq=seq, topic="ledger13710.item.Resolved.v1",
                at=datetime(2016, month, 2, 10, tzinfo=SHANGHAI))  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "triggers"),
    [
        ([fact("overdue_per_day", 1, quantity=10)], []),
        ([fact("overdue_per_day", 1, quantity=11)], ["overdue"]),
        ([fact("untrue_feedback", 1)], ["untrue-feedback"]),
        ([fact("clock_missed", 1), fact("clock_missed", 2)], []),
        ([fact("clock_missed", i) for i in (1, 2, 3)], ["repeated-overdue"]),
        ([fact("clock_missed", 1), fact("clock_missed", 2), fact("clock_missed", 3, month=4)], []),
        ([fact("urged", 1), fact("returned", 2)], []),
    ],
)
def test_triggers_open_a_case_exactly_when_their_conditions_hold(
    facts: list[Fact], triggers: list[str]
) -> None:
    """Overdue beyond 10 days, untrue feedback, 3 clocks missed in one quarter: each proposes
    a case with its evidence; 10 days, 2 misses, misses split over quarters, urges do not."""
    found = proposals(facts, rules())
    assert [p.trigger for p in found] == triggers
    for p in found:
        assert {(e.origin, e.seq) for e in p.evidence} <= {(f.origin, f.seq) for f in facts}


def test_the_same_facts_propose_the_same_case() -> None:
    """Proposals are keyed by trigger and facts: a second scan finds the same ids, and a case
    that exists refuses to be proposed again."""
    facts = [fact("overdue_per_day", 7, quantity=12), *(fact("clock_missed", i) for i in range(3))]
    first, second = proposals(facts, rules()), proposals(list(reversed(facts)), rules())
    assert sorted(p.id.hex for p in first) == sorted(p.id.hex for p in second)
    p = first[0]
    case = Case(p.id)
    propose(case, p)
    with pytest.raises(InputError, match="already exists"):
        case.propose(trigger=p.trigger, subject=p.subject, circumstances=p.circumstances,
                     evidence=p.evidence, rules_version="v", actor=SUP, now=NOW)  # fmt: skip


def propose(case: Case, p: Proposal) -> None:
    """Propose ``p`` as the general office's supervisor."""
    case.propose(
        trigger=p.trigger, subject=p.subject, circumstances=p.circumstances,
        evidence=p.evidence, rules_version="accountability-v1", actor=SUP, now=NOW,
    )  # fmt: skip


def proposed() -> Case:
    """A case against public security, proposed by the general office's supervisor."""
    (p,) = proposals([fact("untrue_feedback", 3)], rules())
    case = Case(p.id)
    propose(case, p)
    return case


def test_the_procedure_runs_to_a_decision_and_closes() -> None:
    """proposed -> investigated -> decided (a configured form) -> closed, replayable."""
    case = proposed()
    forms = rules().forms
    case.step("investigate", text="核实属实", actor=SUP, now=NOW)
    case.step("decide", text="情节较轻", actor=HEAD, now=NOW, form="约谈", forms=forms)
    case.step("close", text="已约谈", actor=SUP, now=NOW)
    events = list(case.collect_events())
    assert [type(e).__name__ for e in events] == [
        "CaseProposed", "CaseInvestigated", "CaseDecided", "CaseClosed",
    ]  # fmt: skip
    assert isinstance(events[0], CaseProposed)
    assert isinstance(events[2], CaseDecided)
    assert events[2].form == "约谈"
    replayed = project_case(None, events)
    assert replayed is not None
    assert (replayed.state, replayed.form, replayed.version) == (CaseState.CLOSED, "约谈", 4)


@pytest.mark.parametrize("actor", [SUP, DEPT_HEAD])
def test_an_unauthorised_role_cannot_decide(actor: Contact) -> None:
    """A supervisor, or the head of a department, cannot decide: nothing is emitted."""
    case = proposed()
    case.step("investigate", text="核实属实", actor=SUP, now=NOW)
    case.collect_events()
    with pytest.raises(InputError, match="decided by the head of a government"):
        case.step("decide", text="x", actor=actor, now=NOW, form="约谈", forms=rules().forms)
    assert list(case.collect_events()) == []
    assert case.state is CaseState.INVESTIGATED


def test_steps_out_of_order_unknown_forms_and_the_unit_itself_are_refused() -> None:
    """No decision before investigation; a form outside the list; the case's own unit cannot
    investigate; a dismissed case takes no further step."""
    case = proposed()
    with pytest.raises(InvalidTransitionError, match="'decide' is not allowed"):
        case.step("decide", text="x", actor=HEAD, now=NOW, form="约谈", forms=rules().forms)
    own = Contact(id="ps", name="", phone="", role="supervisor", unit=SUBJECT)
    with pytest.raises(InputError, match="only a supervisor of a unit above"):
        case.step("investigate", text="x", actor=own, now=NOW)
    case.step("investigate", text="核实", actor=SUP, now=NOW)
    with pytest.raises(InputError, match="unknown form '罚款'"):
        case.step("decide", text="x", actor=HEAD, now=NOW, form="罚款", forms=rules().forms)
    case.step("dismiss", text="事出有因", actor=SUP, now=NOW)
    with pytest.raises(InvalidTransitionError, match="nothing"):
        case.step("close", text="x", actor=SUP, now=NOW)


def test_accountability_rules_need_forms() -> None:
    """A rules file without forms is one error naming the file."""
    with pytest.raises(ConfigError, match=r"mine\.toml: forms"):
        parse_accountability('version = "x"\nforms = []\n', "mine.toml")
